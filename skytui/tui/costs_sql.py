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
    "day": "''",  # the piece's day, filled in below
}

# Each interval's part in [since, now), then cut at every UTC midnight (as accounting.pieces);
# per piece: micro-hours, micro-cost, micro on-demand cost, rounded half up like units.micro_*.
QUERY = """
WITH RECURSIVE
iv AS (
    SELECT {group} AS grp,
           CASE WHEN kind = 'compute' AND COALESCE(accelerator, '') != '' THEN accelerator_count ELSE 0 END
               AS gpus,
           kind = 'disk' AS disk,
           estimate_source AS source,
           CAST(ROUND(price_per_hour * 1000000) AS INTEGER) AS price,
           CAST(ROUND(on_demand_price_per_hour * 1000000) AS INTEGER) AS od,
           MAX(CAST(ROUND(started_at * 1000) AS INTEGER), :since) AS s,
           MIN(COALESCE(CAST(ROUND(ended_at * 1000) AS INTEGER), :now), :now) AS e
    FROM usage_intervals
    WHERE (ended_at IS NULL OR ended_at > :since_s) AND started_at < :now_s
),
pieces(grp, gpus, disk, source, price, od, a, b, e) AS (
    SELECT grp, gpus, disk, source, price, od, s, MIN(e, s - s % {day} + {day}), e FROM iv WHERE e > s
    UNION ALL
    SELECT grp, gpus, disk, source, price, od, b, MIN(e, b + {day}), e FROM pieces WHERE b < e
)
SELECT grp, a / {day} AS day_index,
       SUM(((b - a) * 10 + 18) / 36) AS hours,
       SUM(((b - a) * 10 + 18) / 36 * gpus) AS gpu_hours,
       SUM(((b - a) * price * 2 + 3600000) / 7200000) AS cost,
       SUM(((b - a) * od * 2 + 3600000) / 7200000) AS on_demand,
       SUM(CASE WHEN disk THEN ((b - a) * price * 2 + 3600000) / 7200000 ELSE 0 END) AS disk_cost,
       COUNT(*) AS items,
       GROUP_CONCAT(DISTINCT source) AS sources
FROM pieces
GROUP BY grp, day_index
"""


def grouped_by_day(store: Store, since: float, now: float, by: str) -> list[tuple[str, int, tuple[int, ...],
                                                                                    set[str]]]:
    """(group, UTC day index, (hours, gpu_hours, cost, on_demand, disk_cost, items) in micro-units,
    estimate sources) for every group and day with usage in [since, now)."""
    sql = QUERY.format(group=GROUP_SQL[by], day=MS_PER_DAY)
    params = {"since": round(since * 1000), "now": round(now * 1000), "since_s": since, "now_s": now}
    out = []
    for grp, day_index, *amounts, sources in store.db.conn.execute(sql, params):
        out.append((grp, day_index, tuple(int(a or 0) for a in amounts),
                    set(sources.split(",")) if sources else set()))
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
