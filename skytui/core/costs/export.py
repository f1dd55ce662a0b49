"""The CSV cost export straight from the store, in one process.

SQLite selects the intervals that overlap the window (the WHERE clause of
from_store.window_clause), checks them all in one query, then prints every line itself
(`csv_sql`: one `printf` per row, the whole CSV as one value). The rows it leaves to Python
(`#<id>` lines: values past its exact range, names that need quoting; all rows of a by-day
report) are
printed by `csv_items.csv_lines`, the function `render(report, "csv")` uses, in their place;
both print the same bytes.

One process on every platform: an earlier version forked workers over a pipe (Linux only)
while this process held SQLite connections, which SQLite documents as unsafe.
bench/bench_cost_report.py measures this path against the floor of `sqlite3 -csv` dumping the
same rows (docs/performance.md).
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from skytui.core.costs.accounting import window_ms
from skytui.core.costs.csv_sql import FALLBACK, Lines, checked, csv_sql, prints
from skytui.core.costs.formats.csv_items import ITEM_COLUMNS, NULL_AS_EMPTY, ROW_FIELDS, csv_lines
from skytui.core.costs.from_store import check_ids, check_rows, window_clause
from skytui.store import Store

# Queries per export and ids per query at least: while one range's text is checked, SQLite
# prints the next (docs/performance.md).
_QUERIES = 4
_RANGE_IDS = 10_000

# The columns in the order csv_lines reads them; absent job ids and attempts come as "".
_SELECT = ", ".join(f"ifnull({name}, '')" if name in NULL_AS_EMPTY else name for name in ROW_FIELDS)


def csv_report(
    store: Store, *, since: float | None, until: float | None, now: float, currency: str,
    split_days: bool = False,
) -> list[bytes]:
    """The CSV report as UTF-8 chunks, header first: all of it, or an error (nothing half-made).

    The store is read, never written.
    """
    conn = store.db.conn
    window = window_ms(now, since, until)
    # A by-day report cuts intervals at midnights: csv_lines does that one (see csv_sql).
    texts = None if split_days or not prints(window) else _sql_texts(store, since, until, window, currency)
    if texts is None:  # by day, or a window SQL cannot print: all rows take the Python path
        check_rows(conn, store.db.path, since, until)  # one bad row refuses the whole export
        clause, args = window_clause(since, until)
        texts = [_python_lines(conn, clause, args, window, currency, split_days).encode()]
    out = [(",".join(ITEM_COLUMNS) + "\n").encode()]
    for text in texts:  # each text's last newline apart: joining it on would copy the text
        if text:
            out += [text, b"\n"]
    return out


def _sql_texts(
    store: Store, since: float | None, until: float | None, window: tuple[int, int, int], currency: str
) -> list[bytes]:
    """The selected rows' lines as csv_sql prints them, in id order, a text per range of ids.

    One thread runs the queries, range after range, while this one checks the text of the
    range before (`checked`, ~10 % of the work, which SQLite's own threads cannot share:
    two queries at once contend on SQLite's memory lock). All ranges read one snapshot.
    One row that accounting cannot price refuses the whole export, before anything is
    written: SQL prints only sound rows, so only the rows it leaves to csv_lines are checked.
    """
    with store.db.snapshot() as conn:
        lo, hi = conn.execute("SELECT ifnull(min(id), 0), ifnull(max(id), 0) + 1 FROM usage_intervals").fetchone()

        def lines(ids: tuple[int, int], quote_names: bool) -> Lines:
            clause, args = window_clause(since, until, ids)
            got = csv_sql(conn, clause, args, window, currency, quote_names=quote_names)
            if got is None:  # prints(window) was checked: cannot happen
                raise AssertionError("csv_sql refused a window it prints")
            return got

        done: list[Lines] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv-sql") as sql:
            ranges = _id_ranges(lo, hi)
            queued = [sql.submit(lines, ids, False) for ids in ranges]
            try:
                for ids, future in zip(ranges, queued, strict=True):
                    got = future.result()
                    if not checked(got):  # a name needs quoting: that range again, testing each row's names
                        got = sql.submit(lines, ids, True).result()
                    done.append(got)
            except BaseException:
                for future in queued:  # an error (or ^C): the ranges not yet started are not run
                    future.cancel()
                raise
        # No query runs now: the rows SQL left to csv_lines are read on this thread.
        return [_fill_in(conn, store.db.path, got.text, window, currency) if got.printed < got.rows
                else got.text for got in done]


def _id_ranges(lo: int, hi: int) -> list[tuple[int, int]]:
    """[lo, hi) cut into at most _QUERIES ranges of at least _RANGE_IDS ids (one if fewer)."""
    count = min(_QUERIES, max(1, (hi - lo) // _RANGE_IDS))
    step = -(-(hi - lo) // count)
    return [(a, min(a + step, hi)) for a in range(lo, hi, step)] or [(lo, hi)]


def _python_lines(
    conn: sqlite3.Connection, clause: str, args: list[Any], window: tuple[int, int, int], currency: str,
    split_days: bool,
) -> str:
    """The lines of the selected rows through csv_lines (the general path)."""
    rows = conn.execute(f"SELECT {_SELECT} FROM usage_intervals{clause} ORDER BY id", args)
    rows.row_factory = None
    collecting = gc.isenabled()
    gc.disable()  # the loop makes no cycles; collections would only rescan what exists
    try:
        return "\n".join(csv_lines(rows, window, currency, split_days=split_days))
    finally:
        if collecting:
            gc.enable()


def _fill_in(
    conn: sqlite3.Connection, path: Path, text: bytes, window: tuple[int, int, int], currency: str
) -> bytes:
    """`text` with each `#<id>` line replaced by that row's lines from csv_lines (maybe none).

    The rows are checked, read in one query and priced in one csv_lines pass (its caches shared).
    """
    lines = text.split(b"\n")
    ids = [int(line[1:]) for line in lines if line.startswith(FALLBACK)]
    check_ids(conn, path, ids)
    rows = conn.execute(f"SELECT id, {_SELECT} FROM usage_intervals WHERE id IN"
                        " (SELECT value FROM json_each(?)) ORDER BY id", (json.dumps(ids),))
    rows.row_factory = None
    printed: dict[int, list[bytes]] = {i: [] for i in ids}
    current = 0

    def tagged() -> Iterator[tuple[Any, ...]]:
        # csv_lines yields all of a row's lines before it takes the next row: `current` is theirs.
        nonlocal current
        for row in rows:
            current = row[0]
            yield row[1:]

    for item in csv_lines(tagged(), window, currency):
        printed[current].append(item.encode())
    out: list[bytes] = []
    for line in lines:
        if line.startswith(FALLBACK):
            out.extend(printed[int(line[1:])])
        else:
            out.append(line)
    return b"\n".join(out)
