"""The Costs view's SQL sums equal the core's report (skytui.core.costs) for every grouping."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from seeding import NOW

from skytui.store import Store
from skytui.tui import costs

COLS = ("cluster", "node", "job_id", "user", "cloud", "region", "zone", "instance_type", "accelerator",
        "accelerator_count", "spot", "price_per_hour", "on_demand_price_per_hour", "started_at", "ended_at",
        "end_reason", "estimate_source", "kind")


def varied_store(path: Path, n: int = 600, seed: int = 7) -> Store:
    """Intervals of every shape: across midnights and the window's start, open, disk, autostopped,
    estimated, CPU-only, with and without a job, with odd prices."""
    rng = random.Random(seed)
    store = Store(path, clock=lambda: NOW)
    rows = []
    for i in range(n):
        start = NOW - rng.uniform(0, 40) * 86400 + rng.random()  # some begin before the 30-day window
        length = rng.choice([rng.uniform(60, 7200), rng.uniform(3600, 3 * 86400)])
        ended = None if rng.random() < 0.05 else min(start + length, NOW + 0.0)
        disk = rng.random() < 0.15
        acc = None if rng.random() < 0.3 else rng.choice(["A100", "H100", ""])
        rows.append((f"c{rng.randrange(12)}", rng.randrange(3), rng.choice([None, rng.randrange(1, 9)]),
                     rng.choice(["alice", "bob"]), rng.choice(["aws", "gcp", "local"]), f"r{rng.randrange(3)}",
                     "a", "t", acc, rng.randrange(0, 9), rng.randrange(2), round(rng.uniform(0, 40), 6),
                     round(rng.uniform(0, 60), 6), start, ended,
                     None if ended is None else rng.choice(["stopped", "autostop", "spot-preempted"]),
                     rng.choice(["catalog:aws", "local:reference-estimate"]), "disk" if disk else "compute"))
    with store.db.transaction() as conn:
        conn.executemany(f"INSERT INTO usage_intervals({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})",
                         rows)
    return store


@pytest.mark.parametrize("now", [NOW, NOW + 3 * 86400 + 1234.5], ids=["seed-day", "later"])
@pytest.mark.parametrize("by", costs.GROUPINGS)
def test_sql_sums_equal_the_core_report(tmp_path: Path, by: str, now: float) -> None:
    from skytui.core.costs import autostop_savings, build_report, spend_rate, spend_today_and_month
    from skytui.core.costs.accounting import daily_costs

    store = varied_store(tmp_path / "s.db")
    view = costs.load_costs(store, now, by)
    intervals = costs.intervals_for(store, now)
    since = now - costs.WINDOW_DAYS * costs.DAY_S
    report = build_report(intervals, since=since, by=by, now=now)
    want = costs.report_rows(report)
    assert {k: r.cells for k, r in view.rows.items()} == {k: r.cells for k, r in want.items()}
    assert {k: r.sort for k, r in view.rows.items()} == {k: r.sort for k, r in want.items()}
    assert view.total == report.total.cost and view.spot_savings == report.total.savings
    assert view.daily == costs.last_days(daily_costs(report.items), now)
    assert (view.today, view.month) == spend_today_and_month(intervals, now)
    assert view.rate == pytest.approx(float(spend_rate(intervals, now)["total"]))  # type: ignore[arg-type]
    saved = autostop_savings(intervals, now=now, since=since)
    assert (view.autostop_saved, view.autostop_disk, view.autostop_stops) == (saved.saved, saved.disk_cost,
                                                                              saved.stops)
    assert view.estimate_sources == tuple(report.estimate_sources)
    store.close()
