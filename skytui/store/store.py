"""The single source of truth shared by the dashboard, the CLI and the daemon."""

from __future__ import annotations

import getpass
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from skytui.store import usage_sums
from skytui.store.db import Database
from skytui.store.job_states import INITIAL, check_moves
from skytui.store.models import (
    Attempt,
    Cluster,
    ClusterJob,
    Event,
    Job,
    Node,
    from_row,
)
from skytui.store.usage_sums import GroupSum

Clock = Callable[[], float]


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry (containers): fall back to a neutral owner
        return "unknown"


def _assignments(values: dict[str, Any]) -> tuple[str, list[Any]]:
    cols = ", ".join(f"{k} = ?" for k in values)
    return cols, list(values.values())


class Store:
    """Typed reads and compare-and-set writes over the state database."""

    def __init__(self, path: Path, clock: Clock = time.time) -> None:
        self.db = Database(path)
        self.clock = clock
        self._store_id: str | None = None

    @property
    def store_id(self) -> str:
        """This store's identity (made once, with the file): instances it launches are tagged with it."""
        if self._store_id is None:
            row = self.db.conn.execute("SELECT value FROM store_meta WHERE key = 'store_id'").fetchone()
            self._store_id = str(row[0])
        return self._store_id

    # -- events ---------------------------------------------------------------
    def _event(self, conn: sqlite3.Connection, kind: str, message: str, *, cluster: str | None = None,
               job_id: int | None = None, reason: str | None = None) -> None:
        conn.execute("INSERT INTO events(ts, kind, cluster, job_id, message, reason) VALUES (?,?,?,?,?,?)",
                     (self.clock(), kind, cluster, job_id, message, reason))

    def add_event(self, kind: str, message: str, *, cluster: str | None = None,
                  job_id: int | None = None, reason: str | None = None) -> None:
        with self.db.transaction() as conn:
            self._event(conn, kind, message, cluster=cluster, job_id=job_id, reason=reason)
            if job_id is not None:
                conn.execute("UPDATE jobs SET last_event = ? WHERE id = ?", (message, job_id))

    def events(self, *, limit: int = 500, cluster: str | None = None, job_id: int | None = None,
               after_id: int = 0) -> list[Event]:
        where: list[str] = ["id > ?"]
        args: list[object] = [after_id]
        if cluster is not None:
            where.append("cluster = ?")
            args.append(cluster)
        if job_id is not None:
            where.append("job_id = ?")
            args.append(job_id)
        rows = self.db.conn.execute(
            f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?", (*args, limit))
        return [from_row(Event, r) for r in rows][::-1]

    # -- clusters -------------------------------------------------------------
    def create_cluster(self, cluster: Cluster, *, event: str | None = None) -> bool:
        """Insert a new cluster (replacing a TERMINATED one of that name); False if it exists."""
        values = dict(vars(cluster))
        with self.db.transaction() as conn:
            row = conn.execute("SELECT status FROM clusters WHERE name = ?", (cluster.name,)).fetchone()
            if row is not None:
                if row["status"] != "TERMINATED":
                    return False
                conn.execute("DELETE FROM clusters WHERE name = ?", (cluster.name,))
                conn.execute("DELETE FROM nodes WHERE cluster = ?", (cluster.name,))
                conn.execute("DELETE FROM cluster_jobs WHERE cluster = ?", (cluster.name,))
            cols = ", ".join(values)
            conn.execute(f"INSERT INTO clusters({cols}) VALUES ({', '.join('?' * len(values))})",
                         list(values.values()))
            if event:
                self._event(conn, "cluster", event, cluster=cluster.name, job_id=cluster.job_id)
        return True

    def cluster(self, name: str) -> Cluster | None:
        row = self.db.conn.execute("SELECT * FROM clusters WHERE name = ?", (name,)).fetchone()
        return from_row(Cluster, row) if row else None

    def clusters(self, *, include_terminated: bool = False) -> list[Cluster]:
        sql = "SELECT * FROM clusters"
        if not include_terminated:
            sql += " WHERE status != 'TERMINATED'"
        return [from_row(Cluster, r) for r in self.db.conn.execute(sql + " ORDER BY name")]

    def cluster_rows(self, *, include_terminated: bool = False) -> list[sqlite3.Row]:
        """Raw rows for the fast paths (`status --json`, the dashboard's diff)."""
        sql = "SELECT * FROM clusters"
        if not include_terminated:
            sql += " WHERE status != 'TERMINATED'"
        return self.db.conn.execute(sql + " ORDER BY name").fetchall()

    def transition_cluster(self, name: str, expected: Iterable[str], new: str, *,
                           reason: str | None = None, event: str | None = None,
                           **fields: Any) -> bool:
        """Compare-and-set the status; False when someone else moved it first."""
        expected = tuple(expected)
        values = {"status": new, "status_reason": reason, "updated_at": self.clock(), **fields}
        sets, args = _assignments(values)
        with self.db.transaction() as conn:
            cur = conn.execute(
                f"UPDATE clusters SET {sets} WHERE name = ? AND status IN ({','.join('?' * len(expected))})",
                (*args, name, *expected))
            if cur.rowcount != 1:
                return False
            if event:
                job = conn.execute("SELECT job_id FROM clusters WHERE name = ?", (name,)).fetchone()
                self._event(conn, "cluster", event, cluster=name, reason=reason,
                            job_id=job["job_id"] if job else None)
        return True

    def update_cluster(self, name: str, **fields: Any) -> None:
        sets, args = _assignments({**fields, "updated_at": self.clock()})
        with self.db.transaction() as conn:
            conn.execute(f"UPDATE clusters SET {sets} WHERE name = ?", (*args, name))

    # -- nodes ----------------------------------------------------------------
    def set_nodes(self, cluster: str, nodes: Sequence[Node]) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM nodes WHERE cluster = ?", (cluster,))
            conn.executemany(
                "INSERT INTO nodes(cluster, rank, instance_id, host, port, host_key) VALUES (?,?,?,?,?,?)",
                [(cluster, n.rank, n.instance_id, n.host, n.port, n.host_key) for n in nodes])

    def nodes(self, cluster: str) -> list[Node]:
        rows = self.db.conn.execute("SELECT * FROM nodes WHERE cluster = ? ORDER BY rank", (cluster,))
        return [from_row(Node, r) for r in rows]

    def all_nodes(self) -> list[Node]:
        return [from_row(Node, r) for r in self.db.conn.execute("SELECT * FROM nodes ORDER BY cluster, rank")]

    # -- jobs on a cluster (launch / exec) -------------------------------------
    def add_cluster_job(self, cluster: str, name: str | None, command: str) -> int:
        with self.db.transaction() as conn:
            row = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM cluster_jobs WHERE cluster = ?",
                               (cluster,)).fetchone()
            job_id = int(row[0])
            conn.execute(
                "INSERT INTO cluster_jobs(cluster, id, name, command, status, submitted_at) "
                "VALUES (?,?,?,?,?,?)", (cluster, job_id, name, command, "RUNNING", self.clock()))
        return job_id

    def finish_cluster_job(self, cluster: str, job_id: int, status: str, exit_code: int | None) -> bool:
        with self.db.transaction() as conn:
            cur = conn.execute(
                "UPDATE cluster_jobs SET status = ?, exit_code = ?, ended_at = ? "
                "WHERE cluster = ? AND id = ? AND status = 'RUNNING'",
                (status, exit_code, self.clock(), cluster, job_id))
            return cur.rowcount == 1

    def cluster_jobs(self, cluster: str) -> list[ClusterJob]:
        rows = self.db.conn.execute("SELECT * FROM cluster_jobs WHERE cluster = ? ORDER BY id", (cluster,))
        return [from_row(ClusterJob, r) for r in rows]

    # -- managed jobs -----------------------------------------------------------
    def add_job(self, name: str, task_json: str, task_id: str, *, spot: bool, event: str | None = None) -> int:
        now = self.clock()
        with self.db.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO jobs(name, status, task_json, task_id, spot, submitted_at, updated_at, user) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (name, str(INITIAL), task_json, task_id, int(spot), now, now, current_user()))
            job_id = int(cur.lastrowid or 0)
            if event:
                self._event(conn, "job", event, job_id=job_id)
                conn.execute("UPDATE jobs SET last_event = ? WHERE id = ?", (event, job_id))
        return job_id

    def job(self, job_id: int) -> Job | None:
        row = self.db.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return from_row(Job, row) if row else None

    def jobs(self, *, statuses: Iterable[str] | None = None) -> list[Job]:
        sql = "SELECT * FROM jobs"
        args: tuple[str, ...] = ()
        if statuses is not None:
            st = tuple(statuses)
            sql += f" WHERE status IN ({','.join('?' * len(st))})"
            args = st
        return [from_row(Job, r) for r in self.db.conn.execute(sql + " ORDER BY id", args)]

    def job_counts(self, statuses: Iterable[str] | None = None) -> dict[str, int]:
        """Managed jobs per status, counted in SQL (the header needs it every refresh)."""
        sql = "SELECT status, COUNT(*) FROM jobs"
        args: tuple[str, ...] = ()
        if statuses is not None:
            st = tuple(statuses)
            sql += f" WHERE status IN ({','.join('?' * len(st))})"
            args = st
        return {r[0]: r[1] for r in self.db.conn.execute(sql + " GROUP BY status", args)}

    def job_rows(self) -> list[sqlite3.Row]:
        return self.db.conn.execute("SELECT * FROM jobs ORDER BY id").fetchall()

    def transition_job(self, job_id: int, expected: Iterable[str], new: str, *,
                       event: str | None = None, reason: str | None = None, **fields: Any) -> bool:
        """Compare-and-set a managed job's status; False when someone else moved it first.

        Every `expected -> new` must be a move in job_states.TRANSITIONS (IllegalTransition if not).
        """
        with self.db.transaction() as conn:
            return self.transition_job_in(conn, job_id, expected, new, event=event, reason=reason, **fields)

    def transition_job_in(self, conn: sqlite3.Connection, job_id: int, expected: Iterable[str], new: str, *,
                          event: str | None = None, reason: str | None = None, **fields: Any) -> bool:
        """`transition_job` inside a transaction the caller holds, beside writes that land with it."""
        expected = tuple(expected)
        check_moves(expected, new)
        values: dict[str, Any] = {"status": new, "updated_at": self.clock(), **fields}
        if event:
            values["last_event"] = event
        sets, args = _assignments(values)
        cur = conn.execute(
            f"UPDATE jobs SET {sets} WHERE id = ? AND status IN ({','.join('?' * len(expected))})",
            (*args, job_id, *expected))
        if cur.rowcount != 1:
            return False
        if event:
            cluster = conn.execute("SELECT cluster FROM jobs WHERE id = ?", (job_id,)).fetchone()
            self._event(conn, "job", event, job_id=job_id, reason=reason,
                        cluster=cluster["cluster"] if cluster else None)
        return True

    def update_job(self, job_id: int, **fields: Any) -> None:
        sets, args = _assignments({**fields, "updated_at": self.clock()})
        with self.db.transaction() as conn:
            conn.execute(f"UPDATE jobs SET {sets} WHERE id = ?", (*args, job_id))

    # -- attempts -----------------------------------------------------------------
    def add_attempt(self, a: Attempt) -> bool:
        """Record an attempt once; False if that (job, attempt) is already recorded."""
        with self.db.transaction() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO attempts(job_id, attempt, cluster, cloud, region, zone, request_id,"
                " started_at) VALUES (?,?,?,?,?,?,?,?)",
                (a.job_id, a.attempt, a.cluster, a.cloud, a.region, a.zone, a.request_id, a.started_at))
            return cur.rowcount == 1

    def end_attempt(self, job_id: int, attempt: int, reason: str, exit_code: int | None = None) -> bool:
        with self.db.transaction() as conn:
            cur = conn.execute(
                "UPDATE attempts SET ended_at = ?, end_reason = ?, exit_code = ? "
                "WHERE job_id = ? AND attempt = ? AND ended_at IS NULL",
                (self.clock(), reason, exit_code, job_id, attempt))
            return cur.rowcount == 1

    def attempts(self, job_id: int) -> list[Attempt]:
        rows = self.db.conn.execute("SELECT * FROM attempts WHERE job_id = ? ORDER BY attempt", (job_id,))
        return [from_row(Attempt, r) for r in rows]

    # -- usage intervals (costs) ----------------------------------------------------
    def open_usage(self, conn: sqlite3.Connection | None = None, **values: Any) -> None:
        """Open a usage interval for one node; a second open for an open node is ignored."""
        def go(c: sqlite3.Connection) -> None:
            open_row = c.execute(
                "SELECT 1 FROM usage_intervals WHERE cluster = ? AND node = ? AND kind = ? AND ended_at IS NULL",
                (values["cluster"], values["node"], values.get("kind", "compute"))).fetchone()
            if open_row is None:
                values.setdefault("started_at", self.clock())
                cols = ", ".join(values)
                c.execute(f"INSERT INTO usage_intervals({cols}) VALUES ({', '.join('?' * len(values))})",
                          list(values.values()))
        if conn is not None:
            go(conn)
        else:
            with self.db.transaction() as c:
                go(c)

    def close_usage(self, cluster: str, reason: str, *, ended_at: float | None = None,
                    kind: str = "compute") -> int:
        with self.db.transaction() as conn:
            cur = conn.execute(
                "UPDATE usage_intervals SET ended_at = ?, end_reason = ? "
                "WHERE cluster = ? AND kind = ? AND ended_at IS NULL",
                (ended_at if ended_at is not None else self.clock(), reason, cluster, kind))
            return cur.rowcount

    def usage_group_sums(self, grouping: str, first_day: int) -> list[GroupSum]:
        """Closed intervals' amounts per group and source from UTC day `first_day` on (usage_sums)."""
        return list(usage_sums.group_sums(self.db.conn, grouping, first_day))

    def usage_daily_sums(self, first_day: int) -> list[tuple[int, GroupSum]]:
        """Closed intervals' amounts per UTC day and source from `first_day` on (usage_sums)."""
        return list(usage_sums.daily_sums(self.db.conn, first_day))

    def usage_part_sums(self, grouping: str, start_ms: int, end_ms: int, ended_by_ms: int) -> list[GroupSum]:
        """Amounts of closed intervals' parts in [start_ms, end_ms), within one UTC day (usage_sums)."""
        return list(usage_sums.part_sums(self.db.conn, grouping, start_ms, end_ms, ended_by_ms))

    def data_version(self) -> int:
        return self.db.data_version()

    def close(self) -> None:
        self.db.close()


def open_store(path: Path | None = None, clock: Clock = time.time) -> Store:
    """Open the user's state store (or the one at `path`)."""
    if path is None:
        from skytui.paths import state_db

        path = state_db()
    return Store(path, clock)
