"""The Costs view's sums done by SQLite: clip to the window, cut at UTC midnights, price, group.

Reading 100,000 usage intervals into Python objects to price them took seconds; SQLite does
the same integer arithmetic as skytui.core.costs.accounting (micro-units, rounding per UTC-day
piece) and hands back one row per group and day. A test checks the sums equal the core's report
for every grouping. No Textual here.
"""

from __future__ import annotations

from typing import Any

from skytui.store import Store

MS_PER_DAY = 86_400_000
# The group each interval falls in, as SQL over the interval's columns (fixed strings, never input).
GROUP_SQL = {
    "cluster": "cluster",
    "job": "COALESCE(CAST(job_id AS TEXT), '(none)')",
    "user": "user",
    "region": "cloud || '/' || region",
    "cloud": "cloud",
    "gpu": "COALESCE(NULLIF(accelerator, ''), 'cpu')",
    "day": "''",  # by day: from days() instead
}

# Each interval's part in [since, now), cut at UTC midnights as accounting.pieces cuts it: a first
# piece up to midnight, `days` whole days, a last piece. Every piece is priced on its own and
# rounded half up like units.micro_*, in closed form, so no interval is split into rows.
CLIPPED = """
WITH iv AS (
    SELECT grp, source, gpus, disk, price, od, s, e,
           MIN(e, s - s % {day} + {day}) - s AS first,
           CASE WHEN e <= s - s % {day} + {day} THEN 0
                WHEN (e - (s - s % {day} + {day})) % {day} = 0 THEN {day}
                ELSE (e - (s - s % {day} + {day})) % {day} END AS last,
           s - s % {day} + {day} AS midnight
    FROM (
        SELECT {group} AS grp, estimate_source AS source,
               CASE WHEN kind = 'compute' AND COALESCE(accelerator, '') != '' THEN accelerator_count ELSE 0 END
                   AS gpus,
               kind = 'disk' AS disk,
               CAST(ROUND(price_per_hour * 1000000) AS INTEGER) AS price,
               CAST(ROUND(on_demand_price_per_hour * 1000000) AS INTEGER) AS od,
               MAX(CAST(ROUND(started_at * 1000) AS INTEGER), :since) AS s,
               MIN(COALESCE(CAST(ROUND(ended_at * 1000) AS INTEGER), :now), :now) AS e
        FROM usage_intervals NOT INDEXED  -- one pass over the table beats an index's row-by-row lookups
        WHERE (ended_at IS NULL OR ended_at > :since_s) AND started_at < :now_s
        LIMIT -1  -- computed once per row, not copied into every expression that uses it
    )
    WHERE e > s
    LIMIT -1
)
"""
H = "(({ms}) * 10 + 18) / 36"  # micro-hours of a piece
C = "(({ms}) * {price} * 2 + 3600000) / 7200000"  # micro-dollars of a piece at a micro-dollar price


def _amounts(ms: str, times: str = "1", named: bool = False) -> str:
    """hours, gpu hours, cost, on-demand cost, disk cost of pieces of `ms` milliseconds, `times` of them."""
    h, c, o = H.format(ms=ms), C.format(ms=ms, price="price"), C.format(ms=ms, price="od")
    exprs = [f"{times} * ({h})", f"{times} * ({h}) * gpus", f"{times} * ({c})", f"{times} * ({o})",
             f"CASE WHEN disk THEN {times} * ({c}) ELSE 0 END"]
    if named:
        exprs = [f"{x} AS {n}" for x, n in zip(exprs, ("h", "g", "c", "o", "dk"))]
    return ", ".join(exprs)


WHOLE_DAYS = "(e - midnight - last) / {day}"
# A whole UTC day rounds to nothing: 24 hours exactly (24,000,000 micro-hours) at 24 times the price.
WHOLE_DAY = ("24000000", "24000000 * gpus", "24 * price", "24 * od", "CASE WHEN disk THEN 24 * price ELSE 0 END")


def _sql(by: str) -> str:
    """One pass over the table: per (group, source, first piece's day, whole days), the first
    pieces' amounts, one whole day's amounts and the last pieces' amounts. The whole days follow
    the first piece's day and the last piece follows them, so Python places each on its day."""
    day = str(MS_PER_DAY)
    whole = WHOLE_DAYS.format(day=day)
    parts = _amounts("first").split(", ") + list(WHOLE_DAY) + _amounts("last").split(", ")
    sums = ", ".join(f"SUM({x})" for x in parts)
    return (CLIPPED.format(group=GROUP_SQL[by], day=day)
            + f"SELECT grp, source, s / {day}, {whole}, {sums}, COUNT(*), SUM(last > 0)"
            + f" FROM iv GROUP BY grp, source, s / {day}, {whole}")


Sums = dict[Any, tuple[list[int], set[str]]]  # key -> (hours, gpu hours, cost, on-demand, disk, items), sources


def _params(since: float, now: float) -> dict[str, float]:
    return {"since": round(since * 1000), "now": round(now * 1000), "since_s": since, "now_s": now}


def summed(store: Store, since: float, now: float, by: str) -> tuple[Sums, Sums]:
    """Amounts in micro-units of the pieces in [since, now): per group (`by`; unused for "day")
    and per UTC day index, each with the estimate sources behind them."""
    groups: Sums = {}
    days: Sums = {}

    def add(into: Sums, key: object, amounts: list[int], items: int, source: str) -> None:
        sums, sources = into.setdefault(key, ([0] * 6, set()))
        for i, a in enumerate(amounts):
            sums[i] += a
        sums[5] += items
        sources.add(source)

    for grp, source, first_day, whole, *rest in store.db.conn.execute(_sql(by), _params(since, now)):
        v = [int(a or 0) for a in rest]
        first, per_day, last, n, with_last = v[0:5], v[5:10], v[10:15], v[15], v[16]
        add(days, first_day, first, n, source)
        if by != "day":
            whole_sum = [a * whole for a in per_day]
            add(groups, grp, [f + w + la for f, w, la in zip(first, whole_sum, last)], n, source)
        for d in range(first_day + 1, first_day + 1 + whole):
            add(days, d, per_day, n, source)
        if with_last:
            add(days, first_day + 1 + whole, last, with_last, source)
    return groups, days


def open_spend_micro(store: Store, now: float) -> int:
    """Micro-dollars per hour the open intervals bill now (as accounting.spend_rate's total)."""
    row = store.db.conn.execute(
        "SELECT TOTAL(CAST(ROUND(price_per_hour * 1000000) AS INTEGER)) FROM usage_intervals"
        " WHERE ended_at IS NULL AND CAST(ROUND(started_at * 1000) AS INTEGER) <= ?",
        (round(now * 1000),)).fetchone()
    return int(row[0])


def autostop_nodes_clause() -> str:
    """Intervals of nodes that autostopped: only they matter to the autostop savings."""
    return ("(cluster, node) IN (SELECT cluster, node FROM usage_intervals WHERE end_reason = 'autostop'"
            " AND ended_at IS NOT NULL)")
