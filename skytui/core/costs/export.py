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
from pathlib import Path
from typing import Any

from skytui.core.costs.accounting import window_ms
from skytui.core.costs.csv_sql import FALLBACK, checked, csv_sql
from skytui.core.costs.formats.csv_items import ITEM_COLUMNS, NULL_AS_EMPTY, ROW_FIELDS, csv_lines
from skytui.core.costs.from_store import check_ids, check_rows, window_clause
from skytui.store import Store

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
    header = (",".join(ITEM_COLUMNS) + "\n").encode()
    clause, args = window_clause(since, until)
    window = window_ms(now, since, until)
    # A by-day report cuts intervals at midnights: csv_lines does that one (see csv_sql).
    lines = None if split_days else csv_sql(conn, clause, args, window, currency, quote_names=False)
    if lines is not None and not checked(lines):  # a name needs quoting: test each row's names
        lines = csv_sql(conn, clause, args, window, currency, quote_names=True)
    # One row that accounting cannot price refuses the whole export, before anything is written.
    # SQL prints only sound rows (csv_sql), so only the rows left to csv_lines need the check.
    if lines is None:  # by day, or a window SQL cannot print: all rows take the Python path
        check_rows(conn, store.db.path, since, until)
        text = _python_lines(conn, clause, args, window, currency, split_days).encode()
    elif lines.printed < lines.rows:  # some `#<id>` lines: csv_lines prints those rows
        text = _fill_in(conn, store.db.path, lines.text, window, currency)
    else:
        text = lines.text
    # The last newline apart: joining it on would copy the whole text once more.
    return [header, text, b"\n"] if text else [header]


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
