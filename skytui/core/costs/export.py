"""The CSV cost export straight from the store, across CPU cores.

A CSV lists every interval, so there is nothing to group: rows go from SQLite through
`csv_lines` to the output. Formatting 100,000 lines is CPU-bound Python, so on Linux the
id range is cut into chunks of CHUNK_ROWS ids, and this process and forked children
(one per core in all) take chunks from a shared queue (a pipe of chunk numbers) until
none is left: a core slowed by a neighbour simply takes fewer. Each chunk checks its own
rows first. Children hand their chunks back over a pipe when the queue is empty; chunks
are put in id order, so the file is the same as a single-process one. Chunks a failed
child had taken are formatted here instead, so a bad row is still one error, and
nothing is written unless every chunk is done.

Plain fork and pipes, not a process pool: a pool's result thread would unpickle the
children's text while this process formats its own chunks, and slow it down.
For the CLI only: forking a process that runs threads (the dashboard) is not safe.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sqlite3
import struct
import sys
from collections.abc import Callable
from pathlib import Path

from skytui.core.costs.accounting import window_ms
from skytui.core.costs.formats.csv_items import ITEM_COLUMNS, csv_lines
from skytui.core.costs.from_store import check_rows, raw_rows
from skytui.store import Store

CHUNK_ROWS = 10_000  # ids a process takes at a time: small enough to even out the cores
MAX_WORKERS = 8
_RECORD = struct.Struct("<I")  # a chunk number in the queue
_HEADER = struct.Struct("<IQ")  # a chunk number and its length, before its bytes from a child

Window = tuple[int, int, int]


def _chunk(
    db: Path, since: float | None, until: float | None, ids: tuple[int, int], window: Window,
    currency: str, split_days: bool,
) -> bytes:
    """CSV lines of the intervals with ids in [lo, hi), read over a connection of its own."""
    conn = sqlite3.connect(db.absolute().as_uri() + "?mode=ro", uri=True)
    collecting = gc.isenabled()
    gc.disable()  # the loop makes no cycles; collections would only rescan what exists
    try:
        check_rows(conn, db, since, until, ids)
        lines = csv_lines(raw_rows(conn, since, until, ids), window, currency, split_days=split_days)
        text = "\n".join(lines)
        return (text + "\n").encode() if text else b""
    finally:
        if collecting:
            gc.enable()
        conn.close()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _take_all(queue: int, work: Callable[[int], bytes]) -> dict[int, bytes]:
    """Take chunk numbers from the queue until it is empty; their bytes by number."""
    done: dict[int, bytes] = {}
    while len(record := os.read(queue, _RECORD.size)) == _RECORD.size:
        # A pipe read this small returns one whole record: the queue was written before any read.
        (index,) = _RECORD.unpack(record)
        done[index] = work(index)
    return done


class _Child:
    """A forked process taking chunks from the queue; their bytes come back through a pipe."""

    def __init__(self, queue: int, work: Callable[[int], bytes]) -> None:
        read, write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: format, hand back, leave without cleanup
            code = 1
            try:
                os.close(read)
                done = _take_all(queue, work)
                with open(write, "wb") as out:
                    for index, data in done.items():
                        out.write(_HEADER.pack(index, len(data)))
                        out.write(data)
                code = 0
            finally:
                os._exit(code)  # no flush of inherited buffers, no atexit of the parent's
        os.close(write)
        self.read = read

    def result(self) -> dict[int, bytes]:
        """The chunks the child finished (none if it failed)."""
        with open(self.read, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            return {}
        done, at = {}, 0
        while at < len(data):
            index, size = _HEADER.unpack_from(data, at)
            at += _HEADER.size
            done[index] = data[at:at + size]
            at += size
        return done

    def abandon(self) -> None:
        """Stop the child (on an error here) and reap it."""
        with contextlib.suppress(OSError):
            os.close(self.read)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, 9)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def csv_report(
    store: Store, *, since: float | None, until: float | None, now: float, currency: str,
    split_days: bool = False, workers: int | None = None,
) -> list[bytes]:
    """The CSV report as UTF-8 chunks in id order, header first: all of it, or an error.

    `workers` caps the processes (None: one per core, up to MAX_WORKERS); the store
    is read, never written.
    """
    db = store.db.path
    window = window_ms(now, since, until)
    header = (",".join(ITEM_COLUMNS) + "\n").encode()
    lo, hi = store.db.conn.execute("SELECT min(id), max(id) FROM usage_intervals").fetchone()
    if lo is None:
        return [header]
    # Ids are dense (autoincrement); 4,096 chunks at most keep the queue within a pipe's buffer.
    size = max(CHUNK_ROWS, -(-(hi + 1 - lo) // 4096))
    ranges = [(a, min(a + size, hi + 1)) for a in range(lo, hi + 1, size)]

    def work(index: int) -> bytes:
        return _chunk(db, since, until, ranges[index], window, currency, split_days)

    processes = min(workers or _cores(), MAX_WORKERS, len(ranges))
    if processes == 1 or sys.platform != "linux":  # fork is only dependable on Linux
        return [header, *map(work, range(len(ranges)))]
    queue, fill = os.pipe()
    os.write(fill, b"".join(_RECORD.pack(i) for i in range(len(ranges))))
    os.close(fill)  # before the fork: when the numbers run out, every reader sees the end
    children: list[_Child] = []
    try:
        children = [_Child(queue, work) for _ in range(processes - 1)]
        done = _take_all(queue, work)
        while children:
            done.update(children.pop(0).result())
        # What a failed child had taken is done here (a bad row raises its error here too).
        return [header, *(done[i] if i in done else work(i) for i in range(len(ranges)))]
    finally:
        os.close(queue)
        for child in children:
            child.abandon()
