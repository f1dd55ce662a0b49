"""Opening the state database: WAL, busy timeout, migrations, and a clear way out of corruption."""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from skytui.errors import StateError
from skytui.store.schema import MIGRATIONS, SCHEMA_VERSION

_T = TypeVar("_T")

BUSY_TIMEOUT_S = 30.0
# An I/O error on open (disk full, a flaky mount) is tried again this many times, then reported.
OPEN_TRIES = 3
OPEN_RETRY_S = 0.2
_CORRUPT_CODES = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB
_CORRUPT_TEXT = ("file is not a database", "database disk image is malformed", "malformed database schema")


def statements(script: str) -> Iterator[str]:
    """The statements of a migration, one by one: split at `;`, but not inside a trigger's body."""
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.replace(";", "").strip():
                yield pending
            pending = ""
    if pending.replace(";", "").strip():
        raise ValueError(f"an incomplete statement ends the migration: {pending[:80]!r}")


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


def _says_corrupt(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _CORRUPT_CODES
    return any(t in str(exc) for t in _CORRUPT_TEXT)


def proven_corrupt(path: Path) -> bool:
    """True only when SQLite itself says the file is damaged (integrity check, or not a database).

    An I/O error (disk full, read-only mount, EIO) while checking proves nothing: the file may be
    perfectly healthy, so the caller must leave it where it is.
    """
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.DatabaseError as exc:
        return _says_corrupt(exc)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
        return [tuple(r) for r in rows] != [("ok",)]
    except sqlite3.DatabaseError as exc:
        return _says_corrupt(exc)
    finally:
        conn.close()


def io_failure(path: Path, exc: BaseException) -> StateError:
    """The one-line message for a state database that could not be read or written."""
    return StateError(f"{path}: the state database could not be used ({exc}); it is untouched",
                      "free disk space or make its folder writable, then run the command again")


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
        for attempt in range(OPEN_TRIES):
            try:
                self.conn = self._open()
                self._migrate()
                st = os.stat(path)
                self._identity = (st.st_dev, st.st_ino)
                return
            except sqlite3.DatabaseError as exc:
                with contextlib.suppress(Exception):
                    self.conn.close()
                if isinstance(exc, sqlite3.OperationalError) and _is_locked(exc):
                    raise StateError(f"{path}: the state database stayed locked for {BUSY_TIMEOUT_S:.0f}s",
                                     "another skytui process holds it; retry, or stop it") from None
                # Only a file SQLite itself calls damaged is moved aside; anything else (disk
                # full, EIO, a read-only folder) is tried again, then reported, the file untouched.
                if proven_corrupt(path):
                    self._move_aside_and_raise(exc)
                if attempt + 1 == OPEN_TRIES:
                    raise io_failure(path, exc) from None
                time.sleep(OPEN_RETRY_S * (attempt + 1))

    def _move_aside_and_raise(self, exc: sqlite3.DatabaseError) -> None:
        path = self.path
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
                for statement in statements(MIGRATIONS[step]):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={step + 1}")

    @staticmethod
    def _retry(fn: Callable[[], _T]) -> _T:
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
            try:
                self._retry(lambda: self.conn.execute("BEGIN IMMEDIATE"))
            except sqlite3.OperationalError as exc:
                raise self._write_failed(exc) from exc
            try:
                yield self.conn
                self._retry(lambda: self.conn.execute("COMMIT"))
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):  # a failed COMMIT may have rolled back already
                    self.conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise self._write_failed(exc) from exc
                raise

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees one state, whatever others commit meanwhile.

        The connection is this thread's until it ends (other threads' transactions wait), though
        the queries inside may run on a worker thread. Inside a transaction already, that one is
        the snapshot.
        """
        with self._lock:
            if self.conn.in_transaction:
                yield self.conn
                return
            self.conn.execute("BEGIN")  # deferred: the snapshot is taken at the first read
            try:
                yield self.conn
            finally:
                self.conn.execute("COMMIT")  # nothing was written: this only ends the read

    def _write_failed(self, exc: sqlite3.OperationalError) -> StateError:
        """A write that could not be made (disk full, read-only): nothing changed, say so in one line."""
        if _is_locked(exc):
            return StateError(f"{self.path}: the state database stayed locked for {BUSY_TIMEOUT_S:.0f}s",
                              "another skytui process holds it; retry, or stop it")
        return StateError(f"{self.path}: could not save to the state database ({exc}); nothing was "
                          "changed", "free disk space or make its folder writable, then try again")

    def replaced(self) -> bool:
        """True when the file at our path is no longer the one we opened (deleted, moved aside,
        replaced): our connection then reads and writes a file nobody else will ever see."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return True
        except OSError:
            return False  # cannot tell (an I/O error): not a reason to stop
        return (st.st_dev, st.st_ino) != getattr(self, "_identity", (st.st_dev, st.st_ino))

    def data_version(self) -> int:
        """Changes when another connection commits: a cheap probe for live views."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        self.conn.close()
