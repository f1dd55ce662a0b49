"""The state store: migrations, compare-and-set, many processes at once, corrupt files."""

from __future__ import annotations

import multiprocessing as mp
import os
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from skytui.errors import StateError
from skytui.store import Attempt, Cluster, Node, Store, open_store
from skytui.store.schema import SCHEMA_VERSION


def _cluster(name: str, status: str = "INIT") -> Cluster:
    return Cluster(name=name, cloud="local", status=status, user="me", updated_at=time.time(),
                   region="local-1", zone="a")


def test_fresh_store_is_private_and_current(tmp_path: Path) -> None:
    store = open_store(tmp_path / "d" / "state.db")
    assert store.db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE(os.stat(tmp_path / "d" / "state.db").st_mode) == 0o600


def test_state_dir_from_xdg_is_0700(sandbox: Path) -> None:
    from skytui.paths import data_dir, state_db

    store = open_store()
    assert state_db().is_relative_to(sandbox)
    assert stat.S_IMODE(os.stat(data_dir()).st_mode) == 0o700
    store.close()


def test_migration_from_an_empty_v0_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    sqlite3.connect(path).close()  # a file with user_version 0, as a very old skytui left it
    store = Store(path)
    assert store.db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.clusters() == []


def test_newer_schema_is_refused_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StateError, match="newer skytui"):
        Store(path)
    assert path.exists()


def test_corrupt_file_is_moved_aside_never_deleted(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError) as err:
        Store(path)
    msg = str(err.value)
    assert str(path) in msg and "moved it aside" in msg and "\n" not in msg
    aside = list(tmp_path.glob("state.db.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not sqlite")
    assert Store(path).clusters() == []  # the next run starts clean


def test_cluster_cas_and_events(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    assert store.create_cluster(_cluster("a"), event="launching a")
    assert not store.create_cluster(_cluster("a"))  # exists and is not terminated
    assert store.transition_cluster("a", ["INIT"], "UP", event="a is UP")
    assert not store.transition_cluster("a", ["INIT"], "UP")  # lost race: nothing overwritten
    assert store.cluster("a").status == "UP"  # type: ignore[union-attr]
    assert [e.message for e in store.events(cluster="a")] == ["launching a", "a is UP"]
    store.transition_cluster("a", ["UP"], "TERMINATED")
    assert store.clusters() == [] and len(store.clusters(include_terminated=True)) == 1
    assert store.create_cluster(_cluster("a"))  # a terminated name can be reused


def test_failed_transaction_writes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    with pytest.raises(RuntimeError):
        with store.db.transaction() as conn:
            conn.execute("INSERT INTO events(ts, kind, message) VALUES (1, 'x', 'half')")
            raise RuntimeError("crash between two writes")
    assert store.events() == []


def test_nodes_attempts_and_usage(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", clock=lambda: 1000.0)
    store.create_cluster(_cluster("a"))
    store.set_nodes("a", [Node("a", 0, "i-0", "127.0.0.1", 2200, "key"), Node("a", 1, "i-1")])
    assert [n.alias for n in store.nodes("a")] == ["a", "a-worker1"]
    job = store.add_job("train", "{}", "task-1", spot=True)
    assert store.add_attempt(Attempt(job, 1, "a", "job1-a1", 1000.0))
    assert not store.add_attempt(Attempt(job, 1, "a", "job1-a1", 1000.0))  # never counted twice
    assert store.end_attempt(job, 1, "spot-preempted") and not store.end_attempt(job, 1, "again")
    base = dict(cluster="a", user="me", cloud="local", region="local-1", zone="a", instance_type="t",
                price_per_hour=1.0, on_demand_price_per_hour=2.0, estimate_source="x")
    store.open_usage(node=0, **base)
    store.open_usage(node=0, **base)  # already open: ignored
    from skytui.core.costs.from_store import intervals

    assert len(intervals(store)) == 1
    assert store.close_usage("a", "down") == 1


def _hammer(path: str, worker: int, n: int, q: mp.Queue) -> None:  # type: ignore[type-arg]
    store = Store(Path(path))
    done = lost = 0
    try:
        for i in range(n):
            # Every worker moves the same rows round a cycle; a CAS only wins from the state it saw.
            name = f"c{i % 4}"
            while True:
                current = store.cluster(name)
                assert current is not None
                nxt = {"INIT": "UP", "UP": "STOPPED", "STOPPED": "INIT"}[current.status]
                if store.transition_cluster(name, [current.status], nxt, event=f"w{worker}"):
                    done += 1
                    break
                lost += 1
        q.put((worker, done, lost, None))
    except Exception as exc:  # report, so the parent fails with the reason
        q.put((worker, done, lost, repr(exc)))


def test_four_processes_500_transitions_each_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = Store(path)
    for i in range(4):
        store.create_cluster(_cluster(f"c{i}"))
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_hammer, args=(str(path), w, 500, q)) for w in range(4)]
    for p in procs:
        p.start()
    results = [q.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert [r[3] for r in results] == [None] * 4, results  # no "database is locked" escaped
    assert sum(r[1] for r in results) == 2000
    # Every successful transition left exactly one event: no update was lost or doubled.
    assert store.db.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 2000


def test_a_version_1_file_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    from skytui.store.schema import MIGRATIONS

    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO usage_intervals(cluster, node, user, cloud, region, instance_type, price_per_hour,"
                 " on_demand_price_per_hour, started_at, estimate_source) VALUES ('a', 0, 'u', 'local',"
                 " 'local-1', 't', 1.0, 1.0, 1.0, 'x')")
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()
    store = Store(path)
    db = store.db.conn
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2
    assert db.execute("SELECT COUNT(*) FROM usage_intervals INDEXED BY usage_still_open"
                      " WHERE ended_at IS NULL").fetchone()[0] == 1
    store.close()


def test_a_snapshot_reads_one_state_and_holds_writers_of_this_connection(tmp_path: Path) -> None:
    """Another process's commit is not seen inside; this connection's other threads wait to write."""
    import threading

    st = Store(tmp_path / "state.db")
    other = sqlite3.connect(tmp_path / "state.db", timeout=10)
    events: list[str] = []
    try:
        with st.db.snapshot() as conn:
            before = conn.execute("SELECT count(*) FROM usage_intervals").fetchone()[0]
            with other:
                other.execute("INSERT INTO usage_intervals(cluster, node, user, cloud, region, instance_type,"
                              " accelerator_count, spot, price_per_hour, on_demand_price_per_hour, started_at,"
                              " estimate_source, kind) VALUES ('c', 0, 'u', 'local', 'r', 't', 0, 0, 1, 1, 1,"
                              " 'catalog:local', 'compute')")

            def write() -> None:
                with st.db.transaction():
                    events.append("wrote")

            writer = threading.Thread(target=write)
            writer.start()
            writer.join(0.3)
            events.append("snapshot ends")
            assert conn.execute("SELECT count(*) FROM usage_intervals").fetchone()[0] == before
        writer.join(10)
        assert events == ["snapshot ends", "wrote"]
        assert st.db.conn.execute("SELECT count(*) FROM usage_intervals").fetchone()[0] == before + 1
        assert not st.db.conn.in_transaction
    finally:
        other.close()
        st.close()
