"""The CSV export's lines built by SQLite itself: one `printf` per row, all rows in one value.

Shaped for speed (docs/performance.md, "Cost CSV export in one process"): fetching a row's
columns through Python's `sqlite3` costs more than the sqlite3 shell spends on the whole row,
so SQLite clips, prices and formats each row, and `group_concat` hands the whole CSV back as
one value. The arithmetic is `accounting.price_span`'s in integers (micro-units, rounded as
`units` rounds), the text is `iso_z`'s and `fmt_micro`'s, so the bytes are those of
`csv_items.csv_lines`.

The numbers are worked out in subqueries of numbers only (each kept apart by `LIMIT -1`, so
SQLite computes each value once; passing text columns through a level costs more than the
arithmetic), then each row's text columns are read once more by rowid for the `printf`. The
work per row is counted in instructions (docs/performance.md): a `printf` argument costs
~400, `strftime` ~3,700 and `date()` ~800, so a time is `date()` and integer arithmetic, and
times and prices are rounded with one IEEE addition each (`round_half_even_small`).

One line per interval: a by-day report, which cuts intervals at UTC midnights, is left to
`csv_lines` whole (measured: SQL printing the intervals within one day and Python the rest was
slower than Python alone, the cut intervals being most of the lines).

A row this SQL cannot print exactly comes back as the line `#<id>` (a real line starts with a
digit of its year), and the caller prints it with `csv_lines` in its place:

- values outside the range where the integers stay below 2**63 and the times within the
  years `date` prints: a start before 1970 that the window does not clip, a price of 50,000
  an hour or more, 100,000 GPUs or more on one node (a window that ends in the year 10000 or
  later is left to csv_lines whole);
- a row accounting cannot price (`from_store.SOUND_ROW`): the caller refuses the export;
- when `quote_names` is set, a name that `cell` would quote. Testing every name of every row
  costs more than all the rest, so a first query prints names as they are and `checked`
  proves from the whole text that none needed quoting; only if one did, the query runs again
  with the test.

It reads the columns as the schema types them (node, job id and attempt integers, spot 0/1);
a value stored against its column's type (a fractional node, text in `spot`, a NUL in a name)
could print differently from Python's `%s`.
"""

from __future__ import annotations

import sqlite3
from typing import Any, NamedTuple

from skytui.core.costs.from_store import SOUND_ROW
from skytui.store.sql_units import round_half_even_small as rounded

__all__ = ["FALLBACK", "Lines", "checked", "csv_sql", "prints"]

FALLBACK = b"#"  # a line `#<id>`: the row with this id takes the Python path

D = 86_400_000  # ms per day
_MAX_S = 253_402_300_800  # 10000-01-01T00:00:00Z in seconds: `date` prints no later day
_MAX_PRICE = 50_000  # per hour: a day's ms * micro-price * 2 stays below 2**63
_MAX_GPUS = 100_000  # micro-hours (< 2**47 before the year 10000) times this stays below 2**63
MAX_MS = _MAX_S * 1000
FIELDS = 25  # ITEM_COLUMNS: a printed line holds 24 commas, unless a name holds one

# `cell` quotes a name holding one of these anywhere, or starting with one of _QUOTE_START.
_QUOTE_ANYWHERE = '*[",\n\r]*'
_QUOTE_START = "[-=+@\t\r]*"
_NAMES = ("u.cluster", "u.user", "u.cloud", "u.region", "u.zone", "u.instance_type", "u.accelerator",
          "u.estimate_source", "u.end_reason")


class Lines(NamedTuple):
    """What the query returns: the lines and what `checked` needs to trust them."""

    text: bytes  # lines joined by "\n", no header, no final newline
    rows: int  # lines the query made (printed or `#<id>`)
    printed: int  # lines printed by SQL
    minus: int  # "-" that SQL printed after a comma: negative nodes, job ids, attempts, savings


def _amount(x: str) -> str:
    """printf arguments for a non-negative amount of micro-units as `%d.%06d`."""
    return f"{x} / 1000000, {x} % 1000000"


# `iso_z`'s text: milliseconds only when they are not zero (the other format takes the
# milliseconds' argument and prints nothing of it).
_TIME_MS = "%sT%02d:%02d:%02d.%03dZ"
_TIME_S = "%sT%02d:%02d:%02d%.0sZ"


def _time(ms: str) -> str:
    """printf arguments for `_TIME_MS` or `_TIME_S` of a time in ms: `date()` for the day (about a
    fifth of what `strftime` costs) and integer arithmetic for the time of day."""
    return (f"date({ms} / 1000, 'unixepoch'), {ms} % {D} / 3600000, {ms} % 3600000 / 60000,"
            f" {ms} % 60000 / 1000, {ms} % 1000")


def _line_format(rest: str) -> str:
    """The line's format as SQL, chosen per row for whether each time has milliseconds."""
    def fmt(start: str, end: str) -> str:
        return "'" + f"{start},{end},{rest}".replace("'", "''") + "'"

    return (f"CASE WHEN s % 1000 THEN CASE WHEN e % 1000 THEN {fmt(_TIME_MS, _TIME_MS)}"
            f" ELSE {fmt(_TIME_MS, _TIME_S)} END"
            f" ELSE CASE WHEN e % 1000 THEN {fmt(_TIME_S, _TIME_MS)} ELSE {fmt(_TIME_S, _TIME_S)} END END")


def _select(clause: str, quote_names: bool, currency: str) -> str:
    # The row's times clipped to the window (from its start, to the end or now or the window's
    # end, as csv_lines clips), its prices and GPUs, by id. A time past 2**51 ms, where the
    # rounding is off by one, is far past the window's end: it clips to nothing or to the end.
    end = rounded("ended_at * 1000")
    rows = (
        f"SELECT id, max({rounded('started_at * 1000')}, :since) AS s, min(ifnull({end}, :limit), :limit) AS e,"
        f" ifnull({end} <= :limit, 0) AS here, {rounded('price_per_hour * 1000000')} AS p,"
        f" {rounded('on_demand_price_per_hour * 1000000')} AS o,"
        " CASE WHEN accelerator != '' AND kind = 'compute' THEN accelerator_count ELSE 0 END AS g,"
        f" {SOUND_ROW} AS sound FROM usage_intervals{clause} ORDER BY id LIMIT -1")
    # Whether SQL prints the row exactly, tested on the integers (cheaper than on the columns).
    simple = (f"sound AND s >= 0 AND p < {_MAX_PRICE * 1_000_000} AND o < {_MAX_PRICE * 1_000_000}"
              f" AND g < {_MAX_GPUS}")
    # price_span's pieces: the first up to the next UTC midnight (mid), whole days, the last.
    cut = (
        f"SELECT id, s, e, here, p, o, g, {simple} AS simple, min(e, s - s % {D} + {D}) - s AS first,"
        f" CASE WHEN e <= s - s % {D} + {D} THEN 0 ELSE (e - (s - s % {D} + {D}) - 1) % {D} + 1 END AS last,"
        f" CASE WHEN e <= s - s % {D} + {D} THEN 0 ELSE (e - (s - s % {D} + {D}) - 1) / {D} END AS days"
        f" FROM ({rows}) WHERE e > s OR NOT ({simple}) LIMIT -1")
    # A whole day is 24 hours at 24 times the hourly micro-price (nothing to round).
    priced = (
        f"SELECT id, s, e, here, p, o, g,"
        " simple AS ok,"
        " (first * 10 + 18) / 36 + days * 24000000 + (last * 10 + 18) / 36 AS h,"
        " (first * p * 2 + 3600000) / 7200000 + days * 24 * p + (last * p * 2 + 3600000) / 7200000 AS c,"
        " (first * o * 2 + 3600000) / 7200000 + days * 24 * o + (last * o * 2 + 3600000) / 7200000 AS oc"
        f" FROM ({cut}) LIMIT -1")
    saved = "(CASE WHEN oc < c THEN c - oc ELSE oc - c END)"  # abs() would be a function call
    line = (
        "printf("
        + _line_format("%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%d.%06d,%d.%06d,%s,%s,"
                       + currency.replace("%", "%%") + ",%d.%06d,%d.%06d,%d.%06d,%d.%06d,%s%d.%06d,%s")
        # `%s` prints NULL as nothing: an absent job id, attempt, zone or end reason.
        + f", {_time('s')}, {_time('e')}, u.cluster, u.node, u.job_id, u.attempt, u.user, u.cloud,"
        " u.region, u.zone, u.instance_type,"
        " CASE WHEN u.accelerator != '' THEN u.accelerator || ':' || u.accelerator_count END,"
        " CASE WHEN u.spot THEN 'true' ELSE 'false' END, u.kind,"
        f" {_amount('p')}, {_amount('o')},"
        " CASE WHEN instr(u.estimate_source, 'estimate') THEN 'true' ELSE 'false' END, u.estimate_source,"
        f" {_amount('h')}, {_amount('h * g')}, {_amount('c')}, {_amount('oc')},"
        f" CASE WHEN oc < c THEN '-' END, {_amount(saved)}, CASE WHEN here THEN u.end_reason END)")
    quoted = " OR ".join(f"ifnull({n}, '') GLOB :anywhere OR ifnull({n}, '') GLOB :start" for n in _NAMES)
    ok = f"ok AND NOT ({quoted})" if quote_names else "ok"
    minus = ("(u.node < 0) + ifnull(u.job_id < 0, 0) + ifnull(u.attempt < 0, 0) + (oc < c)")
    # CROSS JOIN: the numbers stay the outer loop (their id order); each row is read by rowid.
    # group_concat takes the rows in that order: SQLite keeps a subquery's ORDER BY when it has a
    # LIMIT, and reads a co-routine's rows as it yields them (tests/test_costs_csv_sql.py checks
    # windows that SQLite answers from an index). Where SQLite has it (3.44+), the order is also
    # said inside the aggregate, so it does not rest on the plan.
    in_order = " ORDER BY x.id" if sqlite3.sqlite_version_info >= (3, 44, 0) else ""
    return (
        f"SELECT CAST(group_concat(CASE WHEN {ok} THEN {line} ELSE '#' || x.id END, '\n'{in_order})"
        " AS BLOB),"
        f" count(*), ifnull(sum({ok}), 0), ifnull(sum(CASE WHEN {ok} THEN {minus} ELSE 0 END), 0)"
        f" FROM ({priced}) x CROSS JOIN usage_intervals u ON u.id = x.id")


def prints(window: tuple[int, int, int]) -> bool:
    """Whether csv_sql prints the window's rows: its end (until or now) within what `date` prints."""
    return 0 <= min(window[1], window[2]) < MAX_MS


def csv_sql(
    conn: sqlite3.Connection, clause: str, args: list[Any], window: tuple[int, int, int], currency: str,
    *, quote_names: bool,
) -> Lines | None:
    """The CSV lines of the rows `clause` selects, in id order, with `#<id>` for each row SQL
    leaves to csv_lines; None if the window's end is past what SQL prints (csv_lines does all)."""
    since_ms, until_ms, now_ms = window
    if not prints(window):
        return None
    limit_ms = min(until_ms, now_ms)
    params: dict[str, Any] = {"since": since_ms, "limit": limit_ms}
    if quote_names:
        params.update(anywhere=_QUOTE_ANYWHERE, start=_QUOTE_START)
    # The window clause's own arguments are positional (`?`): name them after the others.
    parts = clause.split("?")
    numbered = "".join(p + (f":w{i}" if i < len(args) else "") for i, p in enumerate(parts))
    params.update({f"w{i}": a for i, a in enumerate(args)})
    text, rows, printed, minus = conn.execute(_select(numbered, quote_names, currency), params).fetchone()
    return Lines(text or b"", rows, printed, minus)


def checked(lines: Lines) -> bool:
    """Whether no name SQL printed as it is needed quoting, proved from the whole text.

    Nothing else SQL prints holds a quote or a CR, or starts a field with "=", "+", "@" or a
    tab; a name holding a comma or a line break adds one to the counts; so does a name starting
    with "-" to the minus signs counted in SQL.
    """
    text = lines.text
    return (
        text.count(b",") == (FIELDS - 1) * lines.printed
        and text.count(b"\n") == max(lines.rows - 1, 0)
        and text.count(b",-") == lines.minus
        and b'"' not in text and b"\r" not in text
        # "=", "+", "@" or a tab inside a name is fine (and rare): look for it after a comma then.
        and not any(c in text and b"," + c in text for c in (b"=", b"+", b"@", b"\t"))
    )
