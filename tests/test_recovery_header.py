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
    async with app.run_test(size=(160, 24)) as pilot:  # wide: the budget in full words
        bar = app.query_one(SummaryBar)
        bar.show(Summary(spend_per_hour=0.5), "Clusters", budget=1.0)
        await pilot.pause()
        assert not bar.has_class("over-budget") and "of $1.00/h" in str(bar.render())
        bar.show(Summary(spend_per_hour=0.5, month_spend=12.0), "Clusters", budget=1.0, monthly=10.0)
        await pilot.pause()
        assert bar.has_class("over-budget") and "month $12.00 OVER the $10.00 budget" in str(bar.render())


def test_a_narrow_header_shortens_figures_before_it_drops_any() -> None:
    from skytui.tui.model import fit_header

    s = Summary(clusters_up=2, clusters=5, gpus_in_use=9, spend_per_hour=1.5, jobs_running=1, jobs_recovering=1,
                watcher="nobody")
    wide = fit_header("Clusters", s.parts("3 busy, 6 idle, 41% util"), 200)
    assert wide == f" skytui \u203a Clusters │ {s.line('3 busy, 6 idle, 41% util')}"
    narrow = fit_header("Clusters", s.parts("3 busy, 6 idle, 41% util"), 80)
    assert len(narrow) <= 80
    for figure in ("up 2/5", "GPUs 9", "$1.50/h", "1 running, 1 recovering", "watch: nobody"):
        assert figure in narrow, (figure, narrow)
    over = Summary(spend_per_hour=2.0, month_spend=12.0)
    tight = fit_header("Costs", over.parts(budget=1.0, monthly=10.0), 80)
    assert len(tight) <= 80 and "$2.00/h OVER $1.00/h, month OVER $10.00" in tight  # a crossed budget stays
    assert "watch:" not in tight  # the droppable figure gave way to it


async def test_the_header_lays_itself_out_again_when_the_terminal_narrows() -> None:
    app = Host()
    async with app.run_test(size=(160, 24)) as pilot:
        bar = app.query_one(SummaryBar)
        bar.show(Summary(clusters_up=2, clusters=5, jobs_running=1, jobs_recovering=1), "Jobs")
        await pilot.pause()
        assert "clusters up 2/5" in str(bar.render())
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        shown = str(bar.render())
        assert "clusters up" not in shown and "up 2/5" in shown and len(shown.rstrip()) <= 80
