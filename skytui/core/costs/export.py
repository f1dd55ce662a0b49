"""The CSV cost export straight from the store, in id-ordered chunks across CPU cores.

A CSV lists every interval, so there is nothing to group: rows go from SQLite through
`csv_lines` to the output. Formatting 100,000 lines is CPU-bound Python, so on Linux the
id range is cut into one chunk per core; forked children format all chunks but the
first, which this process formats meanwhile, and each hands its text back over a pipe.
Chunks are written in id order, so the file is the same as a single-process one. A
chunk whose child fails is formatted here instead.

Plain fork and pipes, not a process pool: a pool's result thread would unpickle the
children's text while this process formats its own chunk, and slow it down.
For the CLI only: forking a process that runs threads (the dashboard) is not safe.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

from skytui.core.costs.accounting import window_ms
from skytui.core.costs.formats.csv_items import ITEM_COLUMNS, csv_lines
from skytui.core.costs.from_store import check_rows, raw_rows, window_clause
from skytui.store import Store

ROWS_PER_WORKER = 20_000  # below this a fork costs more than it saves
MAX_WORKERS = 8

Window = tuple[int, int, int]


def _chunk(
    db: Path, since: float | None, until: float | None, ids: tuple[int, int], window: Window,
    currency: str, split_days: bool,
) -> str:
    """CSV text of the intervals with ids in [lo, hi), read over a connection of its own."""
    conn = sqlite3.connect(db.absolute().as_uri() + "?mode=ro", uri=True)
    collecting = gc.isenabled()
    gc.disable()  # the loop makes no cycles; collections would only rescan what exists
    try:
        lines = csv_lines(raw_rows(conn, since, until, ids), window, currency, split_days=split_days)
        text = "\n".join(lines)
        return text + "\n" if text else ""
    finally:
        if collecting:
            gc.enable()
        conn.close()


def _bounds(conn: sqlite3.Connection, since: float | None, until: float | None, parts: int) -> list[int]:
    """Ids cutting the selection into `parts` runs of about equal length (first id .. last + 1)."""
    clause, args = window_clause(since, until)
    count, last = conn.execute(f"SELECT count(*), max(id) FROM usage_intervals{clause}", args).fetchone()
    if not count:
        return []
    step = -(-count // parts)
    cuts = [
        conn.execute(
            f"SELECT id FROM usage_intervals{clause} ORDER BY id LIMIT 1 OFFSET ?", [*args, k * step]
        ).fetchone()[0]
        for k in range(parts)
        if k * step < count
    ]
    return [*cuts, last + 1]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _Child:
    """A forked process computing one chunk; its text comes back through a pipe."""

    def __init__(self, work: Callable[[], str]) -> None:
        read, write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: write the text, then leave without cleanup
            code = 1
            try:
                os.close(read)
                with open(write, "wb") as out:
                    out.write(work().encode())
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self.read = read

    def result(self) -> str | None:
        """The child's text, or None if it failed."""
        with open(self.read, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        return data.decode() if os.waitstatus_to_exitcode(status) == 0 else None

    def abandon(self) -> None:
        """Stop the child (on an error here) and reap it."""
        with contextlib.suppress(OSError):
            os.close(self.read)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, 9)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def csv_chunks(
    store: Store, *, since: float | None, until: float | None, now: float, currency: str,
    split_days: bool = False, workers: int | None = None,
) -> Iterator[str]:
    """The CSV report (header first) as text chunks in id order.

    `workers` caps the processes (None: one per core, up to MAX_WORKERS); the store
    is read, never written.
    """
    conn, db = store.db.conn, store.db.path
    window = window_ms(now, since, until)
    clause, args = window_clause(since, until)
    count = conn.execute(f"SELECT count(*) FROM usage_intervals{clause}", args).fetchone()[0]
    parts = min(workers or _cores(), MAX_WORKERS, max(1, count // ROWS_PER_WORKER))
    if parts == 1 or sys.platform != "linux":  # fork is only dependable on Linux
        check_rows(conn, db, since, until)
        yield ",".join(ITEM_COLUMNS) + "\n"
        yield _chunk(db, since, until, (0, 2**62), window, currency, split_days)
        return
    ranges = list(pairwise(_bounds(conn, since, until, parts)))

    def work(ids: tuple[int, int]) -> Callable[[], str]:
        return lambda: _chunk(db, since, until, ids, window, currency, split_days)

    # A child leaves by os._exit: it never flushes (and so never repeats) inherited buffers.
    children = [(ids, _Child(work(ids))) for ids in ranges[1:]]
    reaped = 0
    try:
        check_rows(conn, db, since, until)  # while the children format
        yield ",".join(ITEM_COLUMNS) + "\n"
        yield work(ranges[0])()
        for ids, child in children:
            text = child.result()
            reaped += 1
            yield work(ids)() if text is None else text
    finally:
        for _, child in children[reaped:]:
            child.abandon()
