"""The spend guard in the dashboard header (issue 13): hourly and monthly budgets, crossed loudly."""

from __future__ import annotations

import time
from pathlib import Path

from textual.app import App, ComposeResult

from skytui.core.costs.units import month_bounds_ms, to_ms
from skytui.store import open_store
from skytui.tui.loader import Loader
from skytui.tui.model import Summary
from skytui.tui.widgets.bars import SummaryBar

NOW = time.time()


def test_the_header_line_names_both_budgets() -> None:
    s = Summary(clusters_up=1, clusters=1, spend_per_hour=2.0, month_spend=4.0)
    line = s.line(budget=1.5, monthly=10.0)
    assert "spend $2.00/h OVER the $1.50/h budget, month $4.00 of $10.00" in line
    assert "month $4.00 OVER the $3.00 budget" in s.line(monthly=3.0)
    assert s.line() == Summary(clusters_up=1, clusters=1, spend_per_hour=2.0).line()  # no budget: as before


def test_the_loader_reads_the_months_spend_only_with_a_monthly_budget(tmp_path: Path) -> None:
    store = open_store(tmp_path / "state.db", clock=lambda: NOW)
    store.open_usage(cluster="box", node=0, user="me", cloud="local", region="local-1", zone="a",
                     instance_type="t", price_per_hour=60.0, on_demand_price_per_hour=60.0,
                     estimate_source="x", started_at=NOW - 600)
    loader = Loader(store)
    assert loader.load(NOW, "nobody").summary.month_spend is None
    loader.monthly_budget = 5.0
    month_start = month_bounds_ms(to_ms(NOW))[0] / 1000
    expected = 60.0 * min(600.0, NOW - month_start) / 3600
    assert abs(loader.load(NOW, "nobody").summary.month_spend - expected) < 0.01  # type: ignore[operator]


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield SummaryBar()


async def test_the_header_turns_red_when_a_budget_is_crossed() -> None:
    app = Host()
    async with app.run_test() as pilot:
        bar = app.query_one(SummaryBar)
        bar.show(Summary(spend_per_hour=0.5), "Clusters", budget=1.0)
        await pilot.pause()
        assert not bar.has_class("over-budget") and "of $1.00/h" in str(bar.render())
        bar.show(Summary(spend_per_hour=0.5, month_spend=12.0), "Clusters", budget=1.0, monthly=10.0)
        await pilot.pause()
        assert bar.has_class("over-budget") and "month $12.00 OVER the $10.00 budget" in str(bar.render())
