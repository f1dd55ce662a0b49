"""The CSV export's lines built by SQLite itself: one `printf` per row, all rows in one value.

Shaped for speed (docs/performance.md, "Cost CSV export in one process"): fetching a row's
columns through Python's `sqlite3` costs more than the sqlite3 shell spends on the whole row,
so SQLite clips, prices and formats each row, and `group_concat` hands the whole CSV back as
one value. The arithmetic is `accounting.price_span`'s in integers (micro-units, rounded as
`units` rounds), the text is `iso_z`, `fmt_micro` and `cell`'s, so the bytes are those of
`csv_items.csv_lines`.

A row this SQL cannot print exactly comes back as the line `#<id>` (a real line starts with a
digit of its year), and the caller prints it with `csv_lines` in its place:

- a name that `cell` would quote (a `,`, `"`, line break, or a leading `=+-@`, tab or CR);
- a part that a by-day report splits at a UTC midnight;
- values outside the range where the integers stay below 2**63 and the times within the
  years `date` prints: start before 1970 or after 9999, a price of 50,000 an hour or more,
  100,000 GPUs or more on one node.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from skytui.store.sql_units import round_half_even

__all__ = ["FALLBACK", "csv_sql"]

FALLBACK = "#"  # a line `#<id>`: the row with this id takes the Python path

D = 86_400_000  # ms per day
_MAX_S = 253_402_300_800  # 10000-01-01T00:00:00Z in seconds: `date` prints no later day
_MAX_PRICE = 50_000  # per hour: a day's ms * micro-price * 2 stays below 2**63
_MAX_GPUS = 100_000  # a part's micro-hours (< 2**47) times this stays below 2**63
MAX_MS = _MAX_S * 1000

# A name needs quoting (formats.common.cell) if it holds one of these anywhere ...
_QUOTE_ANYWHERE = '*[",\n\r]*'
# ... or starts with one of these: names are joined after a \x01 each, so a start is "\x01=".
_QUOTE_START = "*\x01[-=+@\t\r]*"
_NAMES = ("cluster", "user", "cloud", "region", "zone", "instance_type", "accelerator", "estimate_source",
          "end_reason")


def _amount(x: str) -> str:
    """printf arguments for a non-negative amount of micro-units as `%d.%06d`."""
    return f"{x} / 1000000, {x} % 1000000"


def _time(ms: str) -> str:
    """printf arguments for `iso_z` of a millisecond time as `%s%s` (milliseconds only when non-zero)."""
    return (f"strftime('%Y-%m-%dT%H:%M:%S', {ms} / 1000, 'unixepoch'),"
            f" CASE WHEN {ms} % 1000 THEN printf('.%03dZ', {ms} % 1000) ELSE 'Z' END")


def _select(clause: str) -> str:
    """The query: each level is kept apart (LIMIT -1) so SQLite computes each value once."""
    names = " || ".join(f"char(1) || ifnull({n}, '')" for n in _NAMES)
    rows = (
        f"SELECT id, cluster, node, ifnull(job_id, '') AS job, ifnull(attempt, '') AS attempt, user, cloud,"
        f" region, ifnull(zone, '') AS zone, instance_type,"
        f" CASE WHEN ifnull(accelerator, '') = '' THEN '' ELSE accelerator || ':' || accelerator_count END AS acc,"
        f" CASE WHEN ifnull(accelerator, '') != '' AND kind = 'compute' THEN accelerator_count ELSE 0 END AS gpus,"
        f" CASE WHEN spot THEN 'true' ELSE 'false' END AS spot, kind, estimate_source, end_reason,"
        f" {round_half_even('started_at * 1000')} AS rs, {round_half_even('ended_at * 1000')} AS re,"
        f" {round_half_even('price_per_hour * 1000000')} AS p,"
        f" {round_half_even('on_demand_price_per_hour * 1000000')} AS o,"
        f" started_at >= 0 AND started_at < {_MAX_S} AND ifnull(ended_at, 0) < {_MAX_S}"
        f" AND price_per_hour < {_MAX_PRICE} AND on_demand_price_per_hour < {_MAX_PRICE}"
        f" AND accelerator_count < {_MAX_GPUS} AND NOT ({names}) GLOB :anywhere"
        f" AND NOT ({names}) GLOB :start AS simple"
        f" FROM usage_intervals{clause} ORDER BY id LIMIT -1")
    # The clip of csv_lines: the window's start, the end or now/the window's end.
    clipped = (
        f"SELECT *, max(rs, :since) AS s, CASE WHEN re IS NULL OR re > :limit THEN :limit ELSE re END AS e,"
        f" ifnull(re <= :limit, 0) AS ended_here FROM ({rows}) LIMIT -1")
    # price_span's pieces: the first up to the next UTC midnight, whole days, the last.
    cut = (
        f"SELECT *, min(e, s - s % {D} + {D}) - s AS first,"
        f" CASE WHEN e <= s - s % {D} + {D} THEN 0 ELSE (e - (s - s % {D} + {D}) - 1) % {D} + 1 END AS last,"
        f" CASE WHEN e <= s - s % {D} + {D} THEN 0 ELSE (e - (s - s % {D} + {D}) - 1) / {D} END AS days"
        f" FROM ({clipped}) WHERE e > s OR NOT simple LIMIT -1")
    # A whole day is 24 hours at 24 times the hourly micro-price (nothing to round).
    priced = (
        f"SELECT *, (first * 10 + 18) / 36 + days * 24000000 + (last * 10 + 18) / 36 AS h,"
        f" (first * p * 2 + 3600000) / 7200000 + days * 24 * p + (last * p * 2 + 3600000) / 7200000 AS c,"
        f" (first * o * 2 + 3600000) / 7200000 + days * 24 * o + (last * o * 2 + 3600000) / 7200000 AS oc"
        f" FROM ({cut}) LIMIT -1")
    line = (
        "printf('%s%s,%s%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%d.%06d,%d.%06d,%s,%s,%s,"
        "%d.%06d,%d.%06d,%d.%06d,%d.%06d,%s%d.%06d,%s',"
        f" {_time('s')}, {_time('e')}, cluster, node, job, attempt, user, cloud, region, zone, instance_type,"
        f" acc, spot, kind, {_amount('p')}, {_amount('o')},"
        " CASE WHEN instr(estimate_source, 'estimate') THEN 'true' ELSE 'false' END, estimate_source, :currency,"
        f" {_amount('h')}, {_amount('h * gpus')}, {_amount('c')}, {_amount('oc')},"
        f" CASE WHEN oc < c THEN '-' ELSE '' END, {_amount('abs(oc - c)')},"
        " CASE WHEN ended_here THEN ifnull(end_reason, '') ELSE '' END)")
    ok = "simple AND (NOT :split OR days = 0 AND last = 0)"
    return (f"SELECT group_concat(CASE WHEN {ok} THEN {line} ELSE '{FALLBACK}' || id END, char(10))"
            f" FROM ({priced})")


def csv_sql(
    conn: sqlite3.Connection, clause: str, args: list[Any], window: tuple[int, int, int], currency: str,
    split_days: bool,
) -> str | None:
    """The CSV lines (newline-separated, no header) of the rows `clause` selects, in id order,
    with `#<id>` for each row SQL leaves to csv_lines; None if the window's end is past what
    SQL prints (then csv_lines does it all)."""
    since_ms, until_ms, now_ms = window
    limit_ms = min(until_ms, now_ms)
    if not 0 <= limit_ms < MAX_MS:
        return None
    params = {
        "since": since_ms, "limit": limit_ms, "currency": currency, "split": int(split_days),
        "anywhere": _QUOTE_ANYWHERE, "start": _QUOTE_START,
    }  # fmt: skip
    # The window clause's own arguments are positional (`?`): number them after the names.
    sql = _select(_numbered(clause, len(args)))
    params.update({f"a{i}": a for i, a in enumerate(args)})
    text = conn.execute(sql, params).fetchone()[0]
    return text or ""


def _numbered(clause: str, count: int) -> str:
    parts = clause.split("?")
    assert len(parts) == count + 1
    return "".join(p + (f":a{i}" if i < count else "") for i, p in enumerate(parts))

