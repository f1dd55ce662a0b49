"""Opening the state database: WAL, busy timeout, migrations, and a clear way out of corruption."""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from skytui.errors import StateError
from skytui.store.schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_S = 30.0


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            os.replace(side, Path(str(target) + suffix))
    return target


class Database:
    """One connection to the state file; writes go through `transaction()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # One connection serves the event loop and worker threads (the dashboard's loaders):
        # transactions take turns so one never opens inside another.
        self._lock = threading.RLock()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = self._open()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and _is_locked(exc):
                raise StateError(f"{path}: the state database stayed locked for {BUSY_TIMEOUT_S:.0f}s",
                                 "another skytui process holds it; retry, or stop it") from None
            with contextlib.suppress(Exception):
                self.conn.close()
            moved = _move_aside(path)
            raise StateError(
                f"{path}: not a valid skytui state database ({exc}); moved it aside to {moved}",
                "run the command again to start with an empty state; running instances show "
                "as orphans (`skytui local ls`), and the old file is kept for inspection",
            ) from None

    def _open(self) -> sqlite3.Connection:
        fresh = not self.path.exists()
        # Autocommit mode: we issue BEGIN IMMEDIATE ourselves so writers queue on the
        # busy timeout instead of failing on a read-to-write lock upgrade.
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
        self.conn = conn
        if fresh:
            os.chmod(self.path, 0o600)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            self._retry(lambda: conn.execute("PRAGMA journal_mode=WAL"))
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StateError(
                f"{self.path}: written by a newer skytui (schema {version}, this one knows {SCHEMA_VERSION})",
                "upgrade skytui (pip install -U skytui)",
            )
        if version == SCHEMA_VERSION:
            return
        with self.transaction() as conn:
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={step + 1}")

    @staticmethod
    def _retry(fn):  # type: ignore[no-untyped-def]
        delay = 0.01
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_locked(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay + random.random() * delay)
                delay = min(delay * 2, 0.2)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that commits as a whole or not at all."""
        with self._lock:
            self._retry(lambda: self.conn.execute("BEGIN IMMEDIATE"))
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self._retry(lambda: self.conn.execute("COMMIT"))

    def data_version(self) -> int:
        """Changes when another connection commits: a cheap probe for live views."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        self.conn.close()
