"""Usage intervals as the store keeps them; reports make no cloud calls."""

from __future__ import annotations

from skytui.core.costs.model import UsageInterval
from skytui.store import Store

_COLUMNS = ("id", "cluster", "node", "job_id", "attempt", "user", "cloud", "region", "zone", "instance_type",
            "accelerator", "accelerator_count", "spot", "price_per_hour", "on_demand_price_per_hour",
            "started_at", "ended_at", "end_reason", "estimate_source", "kind")


def intervals(store: Store, *, since: float | None = None, until: float | None = None) -> list[UsageInterval]:
    """Every interval that overlaps [since, until)."""
    where, args = [], []
    if since is not None:
        where.append("(ended_at IS NULL OR ended_at > ?)")
        args.append(since)
    if until is not None:
        where.append("started_at < ?")
        args.append(until)
    sql = f"SELECT {', '.join(_COLUMNS)} FROM usage_intervals"
    if where:
        sql += " WHERE " + " AND ".join(where)
    cur = store.db.conn.execute(sql + " ORDER BY id", args)
    cur.row_factory = None  # plain tuples: 100,000 rows build noticeably faster
    make = UsageInterval
    # The columns' affinities already give ints and floats; only `spot` (0/1) needs a bool.
    return [make(i, c, n, j, a, u, cl, r, z, it, acc, ac, sp == 1, p, od, s, e, er, src, k)
            for (i, c, n, j, a, u, cl, r, z, it, acc, ac, sp, p, od, s, e, er, src, k) in cur]
