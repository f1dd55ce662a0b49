"""The Costs view's sums (the store's per-day sums plus the parts priced live) equal the core's
report (skytui.core.costs) to the micro-dollar, for every grouping and window shape."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from seeding import NOW

from skytui.store import Store
from skytui.store.schema import MIGRATIONS
from skytui.tui import costs

COLS = ("cluster", "node", "job_id", "user", "cloud", "region", "zone", "instance_type", "accelerator",
        "accelerator_count", "spot", "price_per_hour", "on_demand_price_per_hour", "started_at", "ended_at",
        "end_reason", "estimate_source", "kind")
DAY = 86400.0
MIDNIGHT = NOW - NOW % DAY
SUMS_STEP = len(MIGRATIONS) - 1  # the per-day sums are the last migration (issue 15)
# Floats whose product with 1e6 (a price) or 1e3 (a time) ends in exactly .5: Python's round()
# takes them to even, SQLite's ROUND away from zero. Both sides must agree with the core.
TIE_PRICE = 0.0078125  # 7812.5 micro-dollars
TIE_TIME = 1 / 16  # seconds: x.0625 s is x062.5 ms


def varied_rows(n: int = 600, seed: int = 7) -> list[tuple[object, ...]]:
    """Intervals of every shape: across midnights and the window's start, open, disk, autostopped,
    estimated, CPU-only, with and without a job, odd and tied prices, spot and on-demand, empty,
    starting or ending on a UTC midnight, longer than the window."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        start = NOW - rng.uniform(0, 40) * DAY + rng.random()  # some begin before the 30-day window
        shape = rng.random()
        if shape < 0.05:
            start = MIDNIGHT - rng.randrange(40) * DAY  # on a UTC midnight
        elif shape < 0.1:
            start = float(int(start)) + TIE_TIME
        length = rng.choice([rng.uniform(60, 7200), rng.uniform(3600, 3 * DAY), rng.uniform(DAY, 45 * DAY)
                             if rng.random() < 0.1 else 0.0])
        if rng.random() < 0.05:
            length = (MIDNIGHT - start) % DAY + DAY * rng.randrange(3)  # ends on a midnight
        ended = None if rng.random() < 0.05 else min(start + length, NOW + 0.0)
        disk = rng.random() < 0.15
        acc = None if rng.random() < 0.3 else rng.choice(["A100", "H100", ""])
        spot = rng.randrange(2)
        on_demand = round(rng.uniform(0, 60), 6)
        price = rng.choice([round(rng.uniform(0, on_demand), 6), TIE_PRICE, 3 * TIE_PRICE]) if spot else on_demand
        rows.append((f"c{rng.randrange(12)}", rng.randrange(3), rng.choice([None, rng.randrange(1, 9)]),
                     rng.choice(["alice", "bob"]), rng.choice(["aws", "gcp", "local"]), f"r{rng.randrange(3)}",
                     "a", "t", acc, rng.randrange(0, 9), spot, price, on_demand, start, ended,
                     None if ended is None else rng.choice(["stopped", "autostop", "spot-preempted"]),
                     rng.choice(["catalog:aws", "local:reference-estimate"]), "disk" if disk else "compute"))
    return rows


def insert(conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    conn.executemany(f"INSERT INTO usage_intervals({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})",
                     rows)


def varied_store(path: Path, n: int = 600, seed: int = 7) -> Store:
    store = Store(path, clock=lambda: NOW)
    with store.db.transaction() as conn:
        insert(conn, varied_rows(n, seed))
    return store


def assert_equals_core(store: Store, now: float, by: str) -> None:
    """What the Costs view shows for `by` at `now` is the core's report, figure for figure."""
    from skytui.core.costs import autostop_savings, build_report, spend_rate, spend_today_and_month
    from skytui.core.costs.accounting import daily_costs
    from skytui.tui import costs_sql

    view = costs.load_costs(store, now, by)
    intervals = costs.intervals_for(store, now)
    since = now - costs.WINDOW_DAYS * costs.DAY_S
    report = build_report(intervals, since=since, by=by, now=now)
    want = costs.report_rows(report)
    assert {k: r.cells for k, r in view.rows.items()} == {k: r.cells for k, r in want.items()}
    assert {k: r.sort for k, r in view.rows.items()} == {k: r.sort for k, r in want.items()}
    # Items and the estimate sources of every group, which the table does not show.
    sums = costs_sql.window_sums(store, since, now, {by})[by]
    assert {k: (g.items, {s for s, n in g.sources.items() if n}) for k, g in sums.items()} == {
        r.key: (r.items, r.estimate_sources) for r in report.rows}
    assert view.total == report.total.cost and view.spot_savings == report.total.savings
    assert view.daily == costs.last_days(daily_costs(report.items), now)
    assert (view.today, view.month) == spend_today_and_month(intervals, now)
    assert view.rate == pytest.approx(float(spend_rate(intervals, now)["total"]))  # type: ignore[arg-type]
    saved = autostop_savings(intervals, now=now, since=since)
    assert (view.autostop_saved, view.autostop_disk, view.autostop_stops) == (saved.saved, saved.disk_cost,
                                                                              saved.stops)
    assert view.estimate_sources == tuple(report.estimate_sources)


NOWS = {
    "seed-day": NOW,
    "the-31st": NOW + 3 * DAY + 1234.5,  # 2026-05-31: the month began before the 30-day window
    "window-from-midnight": MIDNIGHT + 30 * DAY,  # the window starts on a UTC midnight: no cut day
    "clock-stepped-back": NOW - 5 * DAY + 0.3,  # intervals closed after `now`, some started after it
    "tie-ms": NOW - 2 * DAY + TIE_TIME,
}


@pytest.mark.parametrize("now", NOWS.values(), ids=NOWS.keys())
@pytest.mark.parametrize("by", costs.GROUPINGS)
def test_sql_sums_equal_the_core_report(tmp_path: Path, by: str, now: float) -> None:
    store = varied_store(tmp_path / "s.db")
    assert_equals_core(store, now, by)
    store.close()


def test_sums_follow_rate_changes_made_through_the_store(tmp_path: Path) -> None:
    """A node billed at one price, then another (spot to on-demand), closed and reopened over days."""
    clock = [NOW - 12 * DAY]
    store = Store(tmp_path / "s.db", clock=lambda: clock[0])
    base = {"node": 0, "job_id": 4, "attempt": 1, "user": "alice", "cloud": "aws", "region": "us-east-1",
            "zone": "a", "instance_type": "p4d", "accelerator": "A100", "accelerator_count": 8,
            "estimate_source": "catalog:aws"}
    prices = [(1, 9.8, 32.8), (0, 32.8, 32.8), (1, TIE_PRICE, 32.8), (1, 11.1, 32.8)]
    for step in range(14):
        spot, price, od = prices[step % len(prices)]
        for cluster in ("train", "dev"):
            store.open_usage(cluster=cluster, **base, spot=spot, price_per_hour=price, on_demand_price_per_hour=od)
            store.open_usage(cluster=cluster, **{**base, "accelerator": None, "accelerator_count": 0},
                             kind="disk", spot=0, price_per_hour=0.01, on_demand_price_per_hour=0.01)
        clock[0] += 0.7 * DAY + 1.234
        store.close_usage("train", "spot-preempted" if spot else "stopped")
        store.close_usage("dev", "autostop")
        store.close_usage("dev", "autostop", kind="disk")
        clock[0] += 0.05 * DAY
    for by in costs.GROUPINGS:
        assert_equals_core(store, clock[0], by)
        assert_equals_core(store, clock[0] - 3 * DAY, by)  # some closed "after now"
    store.close()


def sums_tables(conn: sqlite3.Connection) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    return ([tuple(r) for r in conn.execute("SELECT * FROM usage_day_sums ORDER BY 1, 2, 3, 4")],
            [tuple(r) for r in conn.execute("SELECT * FROM usage_day_runs ORDER BY 1, 2, 3, 4, 5")])


def test_updates_and_deletes_keep_the_sums_those_of_the_rows(tmp_path: Path) -> None:
    """Whatever is written to usage_intervals, the sums are what the final rows alone would give."""
    store = varied_store(tmp_path / "s.db", n=300)
    conn = store.db.conn
    rng = random.Random(3)
    with store.db.transaction():
        conn.execute("UPDATE usage_intervals SET ended_at = ?, end_reason = 'stopped' WHERE ended_at IS NULL",
                     (NOW,))
        for _ in range(60):
            row = rng.randrange(1, 301)
            change = rng.choice(["price", "end", "reopen", "delete", "cluster"])
            if change == "price":
                conn.execute("UPDATE usage_intervals SET price_per_hour = price_per_hour * 2 WHERE id = ?", (row,))
            elif change == "end":
                conn.execute("UPDATE usage_intervals SET ended_at = started_at + ? WHERE id = ?",
                             (rng.uniform(0, 5 * DAY), row))
            elif change == "reopen":
                conn.execute("UPDATE usage_intervals SET ended_at = NULL WHERE id = ?", (row,))
            elif change == "cluster":
                conn.execute("UPDATE usage_intervals SET cluster = 'renamed' WHERE id = ?", (row,))
            else:
                conn.execute("DELETE FROM usage_intervals WHERE id = ?", (row,))
    fresh = Store(tmp_path / "fresh.db", clock=lambda: NOW)
    with fresh.db.transaction() as c:
        insert(c, [tuple(r) for r in conn.execute(f"SELECT {', '.join(COLS)} FROM usage_intervals ORDER BY id")])
    assert sums_tables(conn) == sums_tables(fresh.db.conn)
    for by in ("cluster", "day"):
        assert_equals_core(store, NOW + 0.5 * DAY, by)
    with store.db.transaction():
        conn.execute("DELETE FROM usage_intervals")
    assert sums_tables(conn) == ([], [])  # nothing left behind, not even zeros
    store.close()
    fresh.close()


def test_the_migration_sums_the_rows_already_there(tmp_path: Path) -> None:
    """A file from before the sums (schema version 6) gets them for all its closed intervals."""
    from skytui.store.db import statements

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:SUMS_STEP]:
        for statement in statements(step):
            conn.execute(statement)
    insert(conn, varied_rows(400, seed=11))
    conn.execute(f"PRAGMA user_version={SUMS_STEP}")
    conn.close()
    store = Store(path, clock=lambda: NOW)
    assert store.db.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    fresh = varied_store(tmp_path / "fresh.db", n=400, seed=11)
    assert sums_tables(store.db.conn) == sums_tables(fresh.db.conn) != ([], [])
    for by in ("user", "day"):
        assert_equals_core(store, NOW, by)
    store.close()
    fresh.close()


CLOSER = """
import sys
from skytui.store import Store
store = Store(__import__("pathlib").Path(sys.argv[1]))
usage = dict(node=0, user="u", cloud="aws", region="r", instance_type="t", accelerator="A100",
             accelerator_count=8, spot=1, price_per_hour=1.25, on_demand_price_per_hour=3.5,
             estimate_source="catalog:aws")
t = 1_780_000_000.0
print("ready", flush=True)
while True:
    for i in range(40):
        store.open_usage(cluster=f"c{i}", **usage, started_at=t)
    t += 50_000.5
    for i in range(40):
        store.close_usage(f"c{i}", "stopped", ended_at=t)
"""


def test_a_killed_writer_leaves_sums_that_match_its_rows(tmp_path: Path) -> None:
    """kill -9 while intervals open and close: the sums are written in the same transaction."""
    path = tmp_path / "s.db"
    Store(path).close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", CLOSER, str(path)], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    deadline = time.monotonic() + 60
    probe = Store(path)
    while time.monotonic() < deadline:  # until some intervals were closed
        if probe.db.conn.execute("SELECT COUNT(*) FROM usage_intervals WHERE ended_at IS NOT NULL").fetchone()[0] > 100:
            break
        time.sleep(0.05)
    probe.close()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = Store(path, clock=lambda: NOW)
    rows = [tuple(r) for r in store.db.conn.execute(f"SELECT {', '.join(COLS)} FROM usage_intervals ORDER BY id")]
    assert any(r[COLS.index("ended_at")] is not None for r in rows)
    fresh = Store(tmp_path / "fresh.db")
    with fresh.db.transaction() as c:
        insert(c, rows)
    assert sums_tables(store.db.conn) == sums_tables(fresh.db.conn)
    store.close()
    fresh.close()


def test_migration_statements_keep_trigger_bodies_whole() -> None:
    from skytui.store.db import statements

    script = "CREATE TABLE a(x); CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT ';'; END; SELECT 2;"
    assert [s.strip() for s in statements(script)] == [
        "CREATE TABLE a(x);", "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT ';'; END;", "SELECT 2;"]
    with pytest.raises(ValueError, match="incomplete"):
        list(statements("CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1"))
