"""Usage intervals as the store keeps them; reports make no cloud calls."""

from __future__ import annotations

from skytui.core.costs.model import KINDS, UsageInterval
from skytui.errors import StateError
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
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    conn = store.db.conn
    # Check the whole selection once in SQL, so each row can skip the per-row checks.
    bad = conn.execute(
        "SELECT id FROM usage_intervals" + (clause + " AND" if clause else " WHERE")
        + " (price_per_hour < 0 OR on_demand_price_per_hour < 0 OR accelerator_count < 0"
        + f" OR kind NOT IN ({', '.join('?' * len(KINDS))})) LIMIT 1", [*args, *KINDS]).fetchone()
    if bad is not None:
        raise StateError(f"{store.db.path}: usage interval {bad[0]} has a negative price or an unknown kind",
                         "this is a bug in what recorded it; please report it")
    # spot is stored as 0/1: ask SQLite for 0/1 and make it a bool on the way.
    cur = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM usage_intervals{clause} ORDER BY id", args)
    cur.row_factory = None
    make = UsageInterval.trusted
    spot = _COLUMNS.index("spot")
    return [make((*r[:spot], r[spot] == 1, *r[spot + 1:])) for r in cur]
