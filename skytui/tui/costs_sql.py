"""The Costs view's sums done by SQLite: clip to the window, cut at UTC midnights, price, group.

Reading 100,000 usage intervals into Python objects to price them took seconds; SQLite does
the same integer arithmetic as skytui.core.costs.accounting (micro-units, rounding per UTC-day
piece) and hands back one row per group and day. A test checks the sums equal the core's report
for every grouping. No Textual here.
"""

from __future__ import annotations

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
    SELECT {group} AS grp, source, gpus, disk, price, od, s, e,
           MIN(e, s - s % {day} + {day}) - s AS first,
           CASE WHEN e <= s - s % {day} + {day} THEN 0
                WHEN (e - (s - s % {day} + {day})) % {day} = 0 THEN {day}
                ELSE (e - (s - s % {day} + {day})) % {day} END AS last,
           s - s % {day} + {day} AS midnight
    FROM (
        SELECT *, estimate_source AS source,
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
def _groups_sql(by: str) -> str:
    day = str(MS_PER_DAY)
    whole = WHOLE_DAYS.format(day=day)
    parts = [_amounts("first"), _amounts("last"), _amounts(day, whole)]
    split = [p.split(", ") for p in parts]
    sums = ", ".join(f"SUM({' + '.join(p[i] for p in split)})" for i in range(5))
    return (CLIPPED.format(group=GROUP_SQL[by], day=day)
            + f"SELECT grp, {sums}, COUNT(*), GROUP_CONCAT(DISTINCT source) FROM iv GROUP BY grp")


def _days_sql() -> str:
    """One pass: per (source, first piece's day, whole days), the first, whole-day and last pieces'
    amounts; the whole days follow the first day and the last piece follows them."""
    day = str(MS_PER_DAY)
    whole = WHOLE_DAYS.format(day=day)
    sums = ", ".join(f"SUM({x})" for x in
                     _amounts("first").split(", ") + _amounts(day).split(", ") + _amounts("last").split(", "))
    return (CLIPPED.format(group="''", day=day)
            + f"SELECT source, s / {day}, {whole}, {sums}, COUNT(*), SUM(last > 0)"
            + f" FROM iv GROUP BY source, s / {day}, {whole}")


Amounts = tuple[int, int, int, int, int, int]  # hours, gpu hours, cost, on-demand, disk cost, items


def _params(since: float, now: float) -> dict[str, float]:
    return {"since": round(since * 1000), "now": round(now * 1000), "since_s": since, "now_s": now}


def groups(store: Store, since: float, now: float, by: str) -> list[tuple[str, Amounts, set[str]]]:
    """(group, amounts in micro-units, estimate sources) of every group with usage in [since, now)."""
    out = []
    for grp, *amounts, sources in store.db.conn.execute(_groups_sql(by), _params(since, now)):
        out.append((grp, tuple(int(a or 0) for a in amounts), set(sources.split(",")) if sources else set()))
    return out  # type: ignore[return-value]


def days(store: Store, since: float, now: float) -> dict[int, tuple[list[int], set[str]]]:
    """UTC day index -> (amounts, estimate sources) of the pieces that fall on that day."""
    out: dict[int, tuple[list[int], set[str]]] = {}

    def add(d: int, amounts: list[int], items: int, source: str) -> None:
        sums, sources = out.setdefault(d, ([0] * 6, set()))
        for i, a in enumerate(amounts):
            sums[i] += a
        sums[5] += items
        sources.add(source)

    for source, first_day, whole, *rest in store.db.conn.execute(_days_sql(), _params(since, now)):
        amounts = [int(a or 0) for a in rest]
        first, per_day, last, n, with_last = amounts[0:5], amounts[5:10], amounts[10:15], amounts[15], amounts[16]
        add(first_day, first, n, source)
        for d in range(first_day + 1, first_day + 1 + whole):
            add(d, per_day, n, source)
        if with_last:
            add(first_day + 1 + whole, last, with_last, source)
    return out


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
