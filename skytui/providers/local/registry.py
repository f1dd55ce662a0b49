"""The local cloud's own records: what a cloud console would show, kept apart from skytui's store."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS instances(
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    node INTEGER NOT NULL,
    cluster TEXT NOT NULL,
    job_id INTEGER,
    user TEXT NOT NULL,
    region TEXT NOT NULL,
    zone TEXT NOT NULL,
    instance_type TEXT NOT NULL,
    spot INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    pid INTEGER,
    port INTEGER,
    host_key TEXT,
    gpus TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    store_id TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS instances_request ON instances(request_id, node)
    WHERE state != 'terminated';
CREATE INDEX IF NOT EXISTS instances_region ON instances(region, state);
"""


@dataclass
class Record:
    id: str
    request_id: str
    node: int
    cluster: str
    job_id: int | None
    user: str
    region: str
    zone: str
    instance_type: str
    spot: int
    state: str
    reason: str | None
    pid: int | None
    port: int | None
    host_key: str | None
    gpus: str
    created_at: float
    updated_at: float
    store_id: str | None = None  # the launching store's identity (TAG_STORE)


class Registry:
    """SQLite-backed instance records, safe for several processes at once."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        # Calls arrive from asyncio.to_thread workers: one transaction at a time on this connection.
        self.lock = threading.RLock()
        self.conn.execute("PRAGMA journal_mode=WAL")
        with self.tx() as c:
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    c.execute(stmt)
            cols = {r["name"] for r in c.execute("PRAGMA table_info(instances)")}
            if "store_id" not in cols:  # a registry made before instances carried the store tag
                c.execute("ALTER TABLE instances ADD COLUMN store_id TEXT")

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def rows(self, where: str = "1", args: tuple = ()) -> list[Record]:  # type: ignore[type-arg]
        with self.lock:
            cur = self.conn.execute(f"SELECT * FROM instances WHERE {where} ORDER BY cluster, node, created_at", args)
            return [Record(**dict(r)) for r in cur]

    def get(self, instance_id: str) -> Record | None:
        found = self.rows("id = ?", (instance_id,))
        return found[0] if found else None

    def close(self) -> None:
        self.conn.close()
