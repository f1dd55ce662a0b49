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

Triggers on `usage_intervals` add a row's pieces when it is inserted closed or closed by an
update, and take them away when a closed row is updated or deleted, so they run inside the
writer's own transaction: the sums can never disagree with the rows, a `kill -9` included.
Open intervals are not in the sums (their end is not known); readers price them live. This
costs each written closed row ~0.15-0.3 ms (up to 14 upserts): nothing for a close, but
seconds for 100,000 rows inserted at once.

Three indexes serve the readers: `usage_ended` (closed rows by end: those that end after `now`),
`usage_long` (closed rows longer than a day, by start: with `usage_time` they find the rows
that overlap a given day without scanning the window) and `usage_autostop`.

Amounts are micro-units like `skytui.core.costs.units`: micro-hours (10 * ms + 18) // 36,
micro-dollars (ms * price * 2 + 3,600,000) // 7,200,000, prices and milliseconds rounded from
floats half to even as Python's `round` does. Timestamps before 1970 are not supported.

The SQL below is a released migration once merged: never change it; add a migration instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import NamedTuple

from skytui.store.sql_units import round_half_even

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


# Python's round() of a non-negative float as SQL (half to even), shared with the CSV export.
_round = round_half_even


def _row_values(r: str) -> str:
    """Row `r`'s start and end in ms (s, e), prices in micro-dollars (price, od), GPU count (gpus)
    and disk flag (disk), as a SELECT list."""
    gpus = (f"CASE WHEN {r}.kind = 'compute' AND COALESCE({r}.accelerator, '') != ''"
            f" THEN {r}.accelerator_count ELSE 0 END")
    return (f"{_round(f'{r}.started_at * 1000')} AS s, {_round(f'{r}.ended_at * 1000')} AS e,"
            f" {_round(f'{r}.price_per_hour * 1000000')} AS price,"
            f" {_round(f'{r}.on_demand_price_per_hour * 1000000')} AS od, {gpus} AS gpus,"
            f" {r}.kind = 'disk' AS disk")


def _pieces(base: str) -> str:
    """The pieces of the closed rows `base` gives (columns s, e, ...): piece 0 is the first (to the
    first UTC midnight after the start, or to the end), 1 the last (from the last midnight to the
    end), 2 the run of whole days between them (`ms` is one day's; days `day`..`run_last`)."""
    span = f"SELECT *, s - s % {D} + {D} AS mid FROM ({base})"
    parts = (f"SELECT *, CASE WHEN (e - mid) % {D} = 0 THEN {D} ELSE (e - mid) % {D} END AS last"
             f" FROM ({span}) WHERE e > s")
    return (
        f"SELECT *, CASE piece WHEN 0 THEN s / {D} WHEN 1 THEN (e - last) / {D} ELSE mid / {D} END AS day,"
        f" CASE piece WHEN 2 THEN (e - last) / {D} - 1 END AS run_last,"
        f" CASE piece WHEN 0 THEN MIN(e, mid) - s WHEN 1 THEN last ELSE {D} END AS ms"
        f" FROM ({parts}), (SELECT 0 AS piece UNION ALL SELECT 1 UNION ALL SELECT 2)"
        f" WHERE piece = 0 OR (piece = 1 AND e > mid) OR (piece = 2 AND e - last - mid >= {D})")


def _amounts(p: str, b: str) -> list[str]:
    """hours, gpu hours, cost, on-demand cost, disk cost of piece `p` (ms) of row `b` (price, od, ...)."""
    h = f"({p}.ms * 10 + 18) / 36"
    c = f"({p}.ms * {b}.price * 2 + 3600000) / 7200000"
    o = f"({p}.ms * {b}.od * 2 + 3600000) / 7200000"
    return [h, f"{h} * {b}.gpus", c, o, f"CASE WHEN {b}.disk THEN {c} ELSE 0 END"]


def _key(r: str) -> str:
    return "CASE g.grouping " + " ".join(f"WHEN '{g}' THEN {k.format(r=r)}" for g, k in KEYS.items()) + " END"


_GROUPINGS = "(" + " UNION ALL ".join(f"SELECT '{g}' AS grouping" for g in KEYS) + ") g"
_ROW_COLS = "cluster, job_id, user, cloud, region, accelerator, estimate_source"

# A row being written is cut into pieces once, in `usage_scratch` (empty outside a trigger): row
# -1 holds its values, then its pieces; `usage_cut` cuts row -1, `usage_cut_sums` prices each
# piece for every grouping. (Cutting inside the grouping join made SQLite repeat the cutting and
# rounding for every piece and grouping: 0.6 ms a row.) Views, so the SQL is stored once.
_SCRATCH = f"""
    CREATE TABLE usage_scratch(
        piece INTEGER NOT NULL, s INTEGER, e INTEGER, price INTEGER, od INTEGER, gpus INTEGER,
        disk INTEGER, day INTEGER, run_last INTEGER, ms INTEGER,
        cluster TEXT, job_id INTEGER, user TEXT, cloud TEXT, region TEXT, accelerator TEXT,
        estimate_source TEXT
    );
    CREATE VIEW usage_cut AS
    {_pieces("SELECT s, e FROM usage_scratch WHERE piece = -1")};
    CREATE VIEW usage_cut_sums AS
    SELECT g.grouping, {_key("b")} AS key, b.estimate_source AS source, p.piece, p.day, p.run_last,
        {", ".join(f"{a} AS {n}" for a, n in zip(_amounts("p", "b"), AMOUNTS, strict=True))}
    FROM usage_scratch p, usage_scratch b, {_GROUPINGS} WHERE p.piece >= 0 AND b.piece = -1;
"""


def _upsert(table: str, conflict: str, counts: tuple[str, ...]) -> str:
    cols = (*AMOUNTS, *counts)
    return (f" ON CONFLICT({conflict}) DO UPDATE SET "
            + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in cols))


def apply_row(r: str, sign: str) -> str:
    """Statements adding (`sign` 1) or taking away (-1) the amounts of row `r` (NEW or OLD), if closed."""
    signed = ", ".join(f"{sign} * {a}" for a in AMOUNTS)
    groupings = ", ".join(f"'{g}'" for g in KEYS)  # so the primary key finds the rows, not a scan
    tidy = (f"DELETE FROM usage_day_sums WHERE grouping IN ({groupings}) AND day IN"
            " (SELECT day FROM usage_scratch WHERE piece IN (0, 1)) AND pieces = 0;\n"
            f"DELETE FROM usage_day_runs WHERE grouping IN ({groupings}) AND last_day IN"
            " (SELECT run_last FROM usage_scratch WHERE piece = 2) AND intervals = 0;\n"
            ) if sign == "-1" else ""
    return (
        f"INSERT INTO usage_scratch(piece, s, e, price, od, gpus, disk, {_ROW_COLS}) SELECT -1,"
        f" {_row_values(r)}, {', '.join(f'{r}.{c}' for c in _ROW_COLS.split(', '))} WHERE {r}.ended_at IS NOT NULL;\n"
        "INSERT INTO usage_scratch(piece, day, run_last, ms) SELECT piece, day, run_last, ms FROM usage_cut;\n"
        f"INSERT INTO usage_day_sums(grouping, key, source, day, {', '.join(AMOUNTS)}, pieces, starts)"
        f" SELECT grouping, key, source, day, {signed}, {sign}, {sign} * (piece = 0) FROM usage_cut_sums"
        " WHERE piece IN (0, 1)" + _upsert("usage_day_sums", "grouping, day, key, source", ("pieces", "starts"))
        + ";\n"
        f"INSERT INTO usage_day_runs(grouping, key, source, first_day, last_day, {', '.join(AMOUNTS)}, intervals)"
        f" SELECT grouping, key, source, day, run_last, {signed}, {sign} FROM usage_cut_sums WHERE piece = 2"
        + _upsert("usage_day_runs", "grouping, last_day, first_day, key, source", ("intervals",)) + ";\n"
        f"{tidy}DELETE FROM usage_scratch;\n")


def _backfill() -> str:
    """The same sums for every closed row already in the file, one pass per table."""
    rows = f"SELECT u.*, {_row_values('u')} FROM usage_intervals u WHERE u.ended_at IS NOT NULL"
    priced = (f"SELECT g.grouping, {_key('p')} AS key, p.estimate_source AS source, p.piece, p.day, p.run_last,"
              f" {', '.join(f'{a} AS {n}' for a, n in zip(_amounts('p', 'p'), AMOUNTS, strict=True))}"
              f" FROM ({_pieces(rows)}) p, {_GROUPINGS}")
    sums = ", ".join(f"SUM({a})" for a in AMOUNTS)
    return (
        f"INSERT INTO usage_day_sums(grouping, key, source, day, {', '.join(AMOUNTS)}, pieces, starts)"
        f" SELECT grouping, key, source, day, {sums}, COUNT(*), SUM(piece = 0) FROM ({priced})"
        " WHERE piece IN (0, 1) GROUP BY grouping, day, key, source;\n"
        f"INSERT INTO usage_day_runs(grouping, key, source, first_day, last_day, {', '.join(AMOUNTS)}, intervals)"
        f" SELECT grouping, key, source, day, run_last, {sums}, COUNT(*) FROM ({priced})"
        " WHERE piece = 2 GROUP BY grouping, run_last, day, key, source;\n")


WATCHED = ("cluster, job_id, user, cloud, region, accelerator, accelerator_count, price_per_hour,"
           " on_demand_price_per_hour, started_at, ended_at, estimate_source, kind")
LONG_S = 86400  # seconds: closed intervals longer than a day are indexed apart (usage_long)
_SUMS = ", ".join(f"{a} INTEGER NOT NULL" for a in AMOUNTS)

# Rows already in the file are summed in one pass by the same SQL that cuts a row into pieces.
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
    {_SCRATCH}
    CREATE INDEX usage_ended ON usage_intervals(ended_at) WHERE ended_at IS NOT NULL;
    CREATE INDEX usage_long ON usage_intervals(started_at) WHERE ended_at - started_at > {LONG_S};
    CREATE INDEX usage_autostop ON usage_intervals(cluster, node) WHERE end_reason = 'autostop';
    {_backfill()}
    CREATE TRIGGER usage_sums_insert AFTER INSERT ON usage_intervals WHEN NEW.ended_at IS NOT NULL
    BEGIN
    {apply_row("NEW", "1")}
    END;
    CREATE TRIGGER usage_sums_update AFTER UPDATE OF {WATCHED} ON usage_intervals
    WHEN OLD.ended_at IS NOT NULL OR NEW.ended_at IS NOT NULL
    BEGIN
    {apply_row("OLD", "-1")}
    {apply_row("NEW", "1")}
    END;
    CREATE TRIGGER usage_sums_delete AFTER DELETE ON usage_intervals WHEN OLD.ended_at IS NOT NULL
    BEGIN
    {apply_row("OLD", "-1")}
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
    return f"SELECT *, {_row_values('usage_intervals')} FROM usage_intervals INDEXED BY {index} WHERE {where}"


_SLACK = "0.002"  # seconds: rows are found by float seconds a little wide, then cut by exact ms


def part_sums(conn: sqlite3.Connection, grouping: str, start_ms: int, end_ms: int,
              ended_by_ms: int) -> Iterator[GroupSum]:
    """Amounts of closed intervals' parts inside [start_ms, end_ms), a span within one UTC day,
    per group (key "" by day) and source; only intervals that end by `ended_by_ms` count.

    Intervals of at most a day that overlap the span start at most a day before it (usage_time);
    longer ones have their own small index (usage_long).
    """
    amounts = _amounts("x", "x")
    found = (f"started_at > :start_s - {LONG_S} - {_SLACK} AND started_at < :end_s + {_SLACK}"
             f" AND ended_at > :start_s - {_SLACK} AND NOT (ended_at - started_at > {LONG_S})")
    found_long = (f"ended_at - started_at > {LONG_S} AND started_at < :end_s + {_SLACK}"
                  f" AND ended_at > :start_s - {_SLACK}")
    sql = (f"SELECT key, source, {', '.join(f'SUM(a{i})' for i in range(5))}, COUNT(*) FROM ("
           f" SELECT {KEYS[grouping].format(r='x')} AS key, x.estimate_source AS source,"
           f" {', '.join(f'{a} AS a{i}' for i, a in enumerate(amounts))}"
           f" FROM (SELECT *, MIN(e, :end) - MAX(s, :start) AS ms FROM ({_part_rows('usage_time', found)}"
           f" UNION ALL {_part_rows('usage_long', found_long)})) x WHERE x.e <= :ended_by AND x.ms > 0"
           f") GROUP BY key, source")
    args = {"start": start_ms, "end": end_ms, "ended_by": ended_by_ms, "start_s": start_ms / 1000,
            "end_s": end_ms / 1000}
    for row in conn.execute(sql, args):
        yield GroupSum(*row)
