"""Per-day sums of closed usage intervals, kept by SQLite triggers as intervals are written.

The Costs view prices the last 30 days on every store change. Reading 100,000 intervals (or
grouping them in one query) costs hundreds of milliseconds; these tables hold the same integer
amounts, already cut at UTC midnights and priced piece by piece exactly as
`skytui.core.costs.accounting` prices them, summed per (grouping, group key, estimate source,
UTC day). A window of whole days then costs a few thousand rows, whatever the history.

- `usage_day_sums`: each closed interval's first piece (from its start to the next UTC
  midnight, or to its end) and last piece (from the last midnight to its end), per day.
- `usage_day_runs`: the whole UTC days between those two pieces. A whole day is always 24 h
  at 24 times the hourly micro-price (it rounds to nothing), so a run of days is one row with
  the amounts of one day, however many days it spans.

Triggers on `usage_intervals` add a row's amounts when it is inserted closed or closed by an
update, take them away when a closed row is updated or deleted, and so run inside the writer's
own transaction: the sums can never disagree with the rows, a `kill -9` included. Open
intervals are not in the sums (their end is not known); readers price them live.

Amounts are micro-units like `skytui.core.costs.units`: micro-hours (10 ms * ms + 18) // 36,
micro-dollars (ms * price * 2 + 3,600,000) // 7,200,000, prices and milliseconds rounded from
floats half to even as Python's `round` does. Timestamps before 1970 are not supported.

The SQL below is a released migration once merged: never change it; add a migration instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import NamedTuple

MS_PER_DAY = 86_400_000
D = str(MS_PER_DAY)

# Group keys as accounting's groupings compute them, as SQL over a usage_intervals row `{r}`.
KEYS = {
    "cluster": "{r}.cluster",
    "job": "COALESCE(CAST({r}.job_id AS TEXT), '(none)')",
    "user": "{r}.user",
    "region": "{r}.cloud || '/' || {r}.region",
    "cloud": "{r}.cloud",
    "gpu": "COALESCE(NULLIF({r}.accelerator, ''), 'cpu')",
    "day": "''",  # one key: the day's totals (the by-day grouping and the daily chart)
}
AMOUNTS = ("hours", "gpu_hours", "cost", "on_demand", "disk")


def _round(x: str) -> str:
    """Python's round() of a non-negative float as SQL: half to even (SQLite's ROUND is half up)."""
    t = f"CAST({x} AS INTEGER)"
    return (f"({t} + CASE WHEN {x} - {t} > 0.5 THEN 1 WHEN {x} - {t} < 0.5 THEN 0"
            f" ELSE {t} % 2 END)")


def _groups(r: str) -> str:
    """One row per grouping: (grouping, key) of row `r`."""
    return " UNION ALL ".join(f"SELECT '{g}' AS grouping, {k.format(r=r)} AS key" for g, k in KEYS.items())


def _span(r: str) -> str:
    """The closed row's start and end in ms, and the first UTC midnight after its start."""
    s, e = _round(f"{r}.started_at * 1000"), _round(f"{r}.ended_at * 1000")
    return (f"SELECT s, e, s - s % {D} + {D} AS mid FROM (SELECT {s} AS s, {e} AS e"
            f" WHERE {r}.ended_at IS NOT NULL) WHERE e > s")


def _last(span: str) -> str:
    """Pieces that end the row after its first midnight: (e, mid, length of the last piece)."""
    return (f"SELECT e, mid, CASE WHEN (e - mid) % {D} = 0 THEN {D} ELSE (e - mid) % {D} END AS last"
            f" FROM ({span}) WHERE e > mid")


def _priced(r: str, sign: str, ms: str) -> list[str]:
    """hours, gpu hours, cost, on-demand cost, disk cost of `ms` milliseconds of row `r`, times `sign`."""
    price, od = _round(f"{r}.price_per_hour * 1000000"), _round(f"{r}.on_demand_price_per_hour * 1000000")
    gpus = (f"(CASE WHEN {r}.kind = 'compute' AND COALESCE({r}.accelerator, '') != ''"
            f" THEN {r}.accelerator_count ELSE 0 END)")
    h = f"(({ms}) * 10 + 18) / 36"
    c = f"(({ms}) * {price} * 2 + 3600000) / 7200000"
    o = f"(({ms}) * {od} * 2 + 3600000) / 7200000"
    return [f"{sign} * ({h})", f"{sign} * ({h}) * {gpus}", f"{sign} * ({c})", f"{sign} * ({o})",
            f"CASE WHEN {r}.kind = 'disk' THEN {sign} * ({c}) ELSE 0 END"]


def _upsert(table: str, conflict: str, counts: tuple[str, ...]) -> str:
    cols = (*AMOUNTS, *counts)
    return (f" ON CONFLICT({conflict}) DO UPDATE SET "
            + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in cols))


def apply_row(r: str, sign: str) -> str:
    """Statements adding (`sign` 1) or taking away (-1) the amounts of row `r` (NEW or OLD), if closed."""
    span = _span(r)
    pieces = (f"SELECT s / {D} AS day, MIN(e, mid) - s AS ms, 1 AS first FROM ({span})"
              f" UNION ALL SELECT (e - last) / {D}, last, 0 FROM ({_last(span)})")
    runs = (f"SELECT mid / {D} AS first_day, (e - last) / {D} - 1 AS last_day FROM ({_last(span)})"
            f" WHERE e - last - mid >= {D}")
    whole = ', '.join(_priced(r, sign, D))
    return (
        f"INSERT INTO usage_day_sums(grouping, key, source, day, {', '.join(AMOUNTS)}, pieces, starts)"
        f" SELECT g.grouping, g.key, {r}.estimate_source, p.day, {', '.join(_priced(r, sign, 'p.ms'))}, {sign},"
        f" {sign} * p.first FROM ({_groups(r)}) g, ({pieces}) p WHERE true"
        + _upsert("usage_day_sums", "grouping, day, key, source", ("pieces", "starts")) + ";\n"
        f"INSERT INTO usage_day_runs(grouping, key, source, first_day, last_day, {', '.join(AMOUNTS)}, intervals)"
        f" SELECT g.grouping, g.key, {r}.estimate_source, w.first_day, w.last_day, {whole}, {sign}"
        f" FROM ({_groups(r)}) g, ({runs}) w WHERE true"
        + _upsert("usage_day_runs", "grouping, last_day, first_day, key, source", ("intervals",)) + ";\n"
    )


def _tidy(r: str) -> str:
    """Drop rows a removal emptied (their amounts are then zero too)."""
    span = _span(r)
    groupings = ", ".join(f"'{g}'" for g in KEYS)
    return (f"DELETE FROM usage_day_sums WHERE grouping IN ({groupings}) AND pieces = 0 AND day IN"
            f" (SELECT s / {D} FROM ({span}) UNION ALL SELECT (e - last) / {D} FROM ({_last(span)}));\n"
            f"DELETE FROM usage_day_runs WHERE grouping IN ({groupings}) AND intervals = 0 AND last_day IN"
            f" (SELECT (e - last) / {D} - 1 FROM ({_last(span)}));\n")


WATCHED = ("cluster, job_id, user, cloud, region, accelerator, accelerator_count, price_per_hour,"
           " on_demand_price_per_hour, started_at, ended_at, estimate_source, kind")

LONG_S = 86400  # seconds: closed intervals longer than a day are indexed apart (usage_long)
_SUMS = ", ".join(f"{a} INTEGER NOT NULL" for a in AMOUNTS)

# Closed rows already in the file are summed by the very statements the triggers run: a one-off
# trigger adds each row as it is rewritten unchanged, then goes, before the real triggers exist.
MIGRATION = (
    f"""
    CREATE TABLE usage_day_sums(
        grouping TEXT NOT NULL,
        key TEXT NOT NULL,
        source TEXT NOT NULL,
        day INTEGER NOT NULL,
        {_SUMS},
        pieces INTEGER NOT NULL,
        starts INTEGER NOT NULL,
        PRIMARY KEY(grouping, day, key, source)
    ) WITHOUT ROWID;
    CREATE TABLE usage_day_runs(
        grouping TEXT NOT NULL,
        key TEXT NOT NULL,
        source TEXT NOT NULL,
        first_day INTEGER NOT NULL,
        last_day INTEGER NOT NULL,
        {_SUMS},
        intervals INTEGER NOT NULL,
        PRIMARY KEY(grouping, last_day, first_day, key, source)
    ) WITHOUT ROWID;
    CREATE INDEX usage_ended ON usage_intervals(ended_at) WHERE ended_at IS NOT NULL;
    CREATE INDEX usage_long ON usage_intervals(started_at) WHERE ended_at - started_at > {LONG_S};
    CREATE INDEX usage_autostop ON usage_intervals(cluster, node) WHERE end_reason = 'autostop';
    CREATE TRIGGER usage_sums_backfill AFTER UPDATE OF ended_at ON usage_intervals
    BEGIN
    {apply_row("NEW", "1")}
    END;
    UPDATE usage_intervals SET ended_at = ended_at WHERE ended_at IS NOT NULL;
    DROP TRIGGER usage_sums_backfill;
    CREATE TRIGGER usage_sums_insert AFTER INSERT ON usage_intervals WHEN NEW.ended_at IS NOT NULL
    BEGIN
    {apply_row("NEW", "1")}
    END;
    CREATE TRIGGER usage_sums_update AFTER UPDATE OF {WATCHED} ON usage_intervals
    WHEN OLD.ended_at IS NOT NULL OR NEW.ended_at IS NOT NULL
    BEGIN
    {apply_row("OLD", "-1")}
    {apply_row("NEW", "1")}
    {_tidy("OLD")}
    END;
    CREATE TRIGGER usage_sums_delete AFTER DELETE ON usage_intervals WHEN OLD.ended_at IS NOT NULL
    BEGIN
    {apply_row("OLD", "-1")}
    {_tidy("OLD")}
    END;
    """
)


class GroupSum(NamedTuple):
    """A group's amounts (micro-units) from one estimate source over whole days of the sums."""

    key: str
    source: str
    hours: int
    gpu_hours: int
    cost: int
    on_demand: int
    disk: int
    items: int  # pieces per day for the "day" grouping; otherwise intervals that start in the days


# Two queries rather than one over a UNION ALL: SQLite groups each table's rows straight from
# its primary key range, without copying them into a subquery first.
_GROUP_SUMS = (
    f"SELECT key, source, {', '.join(f'SUM({a})' for a in AMOUNTS)}, SUM(starts)"
    " FROM usage_day_sums WHERE grouping = :grouping AND day >= :first_day GROUP BY key, source",
    f"SELECT key, source, {', '.join(f'SUM({a} * (last_day - MAX(first_day, :first_day) + 1))' for a in AMOUNTS)},"
    " 0 FROM usage_day_runs WHERE grouping = :grouping AND last_day >= :first_day GROUP BY key, source",
)


def group_sums(conn: sqlite3.Connection, grouping: str, first_day: int) -> Iterator[GroupSum]:
    """Closed intervals' amounts from UTC day `first_day` (days since 1970) on, per group and source.

    Items count the intervals whose first piece falls in those days (each interval once). A group
    and source may come twice (pieces, then runs of whole days): add them up.
    """
    for sql in _GROUP_SUMS:
        for row in conn.execute(sql, {"grouping": grouping, "first_day": first_day}):
            yield GroupSum(*row)


def daily_sums(conn: sqlite3.Connection, first_day: int) -> Iterator[tuple[int, GroupSum]]:
    """Closed intervals' amounts per UTC day (from `first_day` on) and source: (day, sums keyed "").

    Items count the pieces on each day, as the by-day report counts them.
    """
    amounts = ", ".join(AMOUNTS)
    for day, *rest in conn.execute(
            f"SELECT day, key, source, {amounts}, pieces FROM usage_day_sums"
            " WHERE grouping = 'day' AND day >= ?", (first_day,)):
        yield day, GroupSum(*rest)
    for first, last, *rest in conn.execute(
            f"SELECT first_day, last_day, key, source, {amounts}, intervals FROM usage_day_runs"
            " WHERE grouping = 'day' AND last_day >= ?", (first_day,)):
        for day in range(max(first, first_day), last + 1):
            yield day, GroupSum(*rest)


def _part_rows(index: str, where: str) -> str:
    s, e = _round("started_at * 1000"), _round("ended_at * 1000")
    return f"SELECT *, {s} AS s, {e} AS e FROM usage_intervals INDEXED BY {index} WHERE {where}"


_SLACK = "0.002"  # seconds: rows are found by float seconds a little wide, then cut by exact ms


def part_sums(conn: sqlite3.Connection, grouping: str, start_ms: int, end_ms: int,
              ended_by_ms: int) -> Iterator[GroupSum]:
    """Amounts of closed intervals' parts inside [start_ms, end_ms), a span within one UTC day,
    per group (key "" by day) and source; only intervals that end by `ended_by_ms` count.

    Intervals of at most a day that overlap the span start at most a day before it (usage_time);
    longer ones have their own small index (usage_long).
    """
    ms = "MIN(x.e, :end) - MAX(x.s, :start)"
    amounts = _priced("x", "1", ms)
    found = (f"started_at > :start_s - {LONG_S} - {_SLACK} AND started_at < :end_s + {_SLACK}"
             f" AND ended_at > :start_s - {_SLACK} AND NOT (ended_at - started_at > {LONG_S})")
    found_long = (f"ended_at - started_at > {LONG_S} AND started_at < :end_s + {_SLACK}"
                  f" AND ended_at > :start_s - {_SLACK}")
    sql = (f"SELECT key, source, {', '.join(f'SUM(a{i})' for i in range(5))}, COUNT(*) FROM ("
           f" SELECT {KEYS[grouping].format(r='x')} AS key, x.estimate_source AS source,"
           f" {', '.join(f'{a} AS a{i}' for i, a in enumerate(amounts))}"
           f" FROM ({_part_rows('usage_time', found)} UNION ALL {_part_rows('usage_long', found_long)}) x"
           f" WHERE x.e <= :ended_by AND {ms} > 0"
           f") GROUP BY key, source")
    args = {"start": start_ms, "end": end_ms, "ended_by": ended_by_ms, "start_s": start_ms / 1000,
            "end_s": end_ms / 1000}
    for row in conn.execute(sql, args):
        yield GroupSum(*row)
