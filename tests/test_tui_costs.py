"""The Costs view: grouping by key, the totals row, the daily chart, the figures and exporting a report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from seeding import NOW
from test_tui_conf import make_app, seeded_core, utc, wait_for  # noqa: F401

from skytui.store import Store
from skytui.tui import costs

pytestmark = pytest.mark.usefixtures("utc")
STARTS = {"csv": "start,end,cluster,", "json": "{", "md": "**skytui costs by ", "html": "<!DOCTYPE html>",
          "focus": "AvailabilityZone,BilledCost,"}


def _text(app: Any, selector: str) -> str:
    return str(app.query_one(selector).render())


async def _costs_shown(app: Any, pilot: Any) -> None:
    await wait_for(pilot, lambda: app.snapshots_applied > 0)
    await pilot.press("4")
    await wait_for(pilot, lambda: costs.TOTAL_KEY in app.table("costs").shown_keys)


async def test_g_cycles_the_grouping_and_the_total_stays_last_and_equal(tmp_path: Path) -> None:
    app = make_app(seeded_core(tmp_path, clusters=5, jobs=2))
    async with app.run_test(size=(160, 40)) as pilot:
        await _costs_shown(app, pilot)
        table = app.table("costs")
        assert table.shown_keys == ["notebook", "big-train", "dev-alice", costs.TOTAL_KEY]  # by cost, highest first
        total = table.cell_text(costs.TOTAL_KEY, "cost")
        seen = {"cluster": table.shown_keys[:-1]}
        for by in costs.GROUPINGS[1:]:
            await pilot.press("g")
            await wait_for(pilot, lambda by=by: app.cost_view.by == by and table.spec[0].label == costs.GROUP_LABELS[by])
            await pilot.pause()
            keys = table.shown_keys
            assert keys[-1] == costs.TOTAL_KEY and table.cell_text(costs.TOTAL_KEY, "cost") == total, by
            seen[by] = keys[:-1]
        assert seen["job"] == ["(none)"] and seen["user"] == ["alice"] and seen["cloud"] == ["local"]
        assert seen["region"] == ["local/local-1"]
        assert sorted(seen["gpu"]) == ["A100", "L4", "cpu"]
        assert seen["day"] == sorted(seen["day"]) and seen["day"][-1] == "2026-05-28"  # calendar order
        # Sorting never moves the totals row, and the filter never hides it.
        await pilot.press("O")
        assert table.shown_keys[-1] == costs.TOTAL_KEY and table.shown_keys[0] == "2026-05-28"
        await pilot.press("slash", *"05-27", "enter")
        assert table.shown_keys == ["2026-05-27", costs.TOTAL_KEY]
        await pilot.press("g")  # back to the first grouping
        await wait_for(pilot, lambda: app.cost_view.by == "cluster")


async def test_chart_figures_currency_and_estimate_label(tmp_path: Path) -> None:
    app = make_app(seeded_core(tmp_path, clusters=5, jobs=0))
    async with app.run_test(size=(160, 40)) as pilot:
        await _costs_shown(app, pilot)
        chart = _text(app, "#cost-chart").splitlines()
        assert len(chart) == 3 and "daily spend, USD" in chart[0] and "2026-04-29 … 2026-05-28" in chart[-1]
        bars = chart[-1][: 2 * costs.WINDOW_DAYS]
        assert bars.endswith("██") and chart[-1][len(bars):].startswith("  2026")  # today spent: a bar
        assert bars.startswith(" " * 40)  # nothing ran before the seeded week
        figures = _text(app, "#cost-figures")
        assert "today $3.75" in figures and "this month $66.75" in figures and "spending $1.50/h now" in figures
        assert "spot saved $15.00" in figures and "autostop saved $0.75 over 1 stop(s)" in figures
        title = _text(app, "#cost-title")
        assert "amounts in USD" in title and "estimates (local:reference-estimate prices)" in title
        assert app.table("costs").cell_text("notebook", "prices") == "estimate"


async def test_header_spend_rate_follows_open_usage_intervals(tmp_path: Path) -> None:
    core = seeded_core(tmp_path, clusters=5, jobs=0)
    app = make_app(core)
    other = Store(core.store.db.path, clock=lambda: NOW)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: "spend $1.50/h" in _text(app, "#summary"))
        other.close_usage("notebook", "stopped", ended_at=NOW - 60)  # its 1.00 $/h no longer bills
        await wait_for(pilot, lambda: "spend $0.50/h" in _text(app, "#summary"))


@pytest.mark.parametrize("choice", list(costs.export_formats()))
async def test_export_writes_the_file_and_notifies_its_path(tmp_path: Path, choice: str) -> None:
    from textual.widgets import Input, Select

    from skytui.tui.screens.export import ExportScreen

    work = tmp_path / "work"
    work.mkdir()
    app = make_app(seeded_core(tmp_path, clusters=5, jobs=0), cwd=work)
    async with app.run_test(size=(160, 40)) as pilot:
        await _costs_shown(app, pilot)
        await pilot.press("E")
        assert isinstance(app.screen, ExportScreen)
        path_input = app.screen.query_one("#path", Input)
        assert path_input.value == "./skytui-costs-20260528.csv"
        app.screen.query_one("#format", Select).value = choice
        await pilot.pause()
        ext = costs.export_formats()[choice][2]
        assert path_input.value == f"./skytui-costs-20260528.{ext}"  # the suggestion follows the format
        await pilot.press("enter")
        target = work / f"skytui-costs-20260528.{ext}"
        await wait_for(pilot, lambda: target.exists() and "written to" in app.status_line.text, 20)
        assert target.read_text().startswith(STARTS[choice])
        assert any(str(target) in n.message for n in app._notifications)
        if choice == "json":
            assert json.loads(target.read_text())["currency"] == "USD"


async def test_export_to_a_missing_folder_is_an_error_notification(tmp_path: Path) -> None:
    from textual.widgets import Input

    app = make_app(seeded_core(tmp_path, clusters=5, jobs=0), cwd=tmp_path)
    async with app.run_test(size=(160, 40)) as pilot:
        await _costs_shown(app, pilot)
        await pilot.press("E")
        app.screen.query_one("#path", Input).value = "no/such/dir/report.csv"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.status_line.state == "error", 20)
        assert "can't write report" in app.status_line.text and "no/such/dir" in app.status_line.text
        assert any(n.severity == "error" and "choose a folder" in n.message for n in app._notifications)
        assert app.is_running
        # Escape closes the dialog without writing anything.
        await pilot.press("E", "escape")
        assert len(app.screen_stack) == 1


def bound(app) -> set[str]:  # type: ignore[no-untyped-def]
    return {b.action for _node, b, _on, _tip in app.screen.active_bindings.values()}


async def test_grouping_and_export_are_costs_actions_only(tmp_path: Path) -> None:
    app = make_app(seeded_core(tmp_path, clusters=2, jobs=0), read_only=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshots_applied > 0)
        assert "cost_grouping" not in bound(app)
        await pilot.press("E")
        assert len(app.screen_stack) == 1
        await pilot.press("4")
        assert {"cost_grouping", "export_costs"} <= bound(app)  # a report changes nothing: fine when read-only


def test_default_path_and_next_grouping() -> None:
    assert costs.default_export_path(Path("/w"), "focus", NOW) == Path("/w/skytui-costs-20260528.focus.csv")
    assert costs.next_grouping("day") == "cluster" and costs.next_grouping("cluster") == "job"


def test_loader_prices_again_only_when_usage_grouping_or_the_minute_changes(tmp_path: Path) -> None:
    from seeding import seed_store

    from skytui.tui.loader import Loader

    store = seed_store(tmp_path / "s.db", clusters=5, jobs=0)
    loader = Loader(store)
    costs_only = frozenset({"costs"})
    first = loader.load(NOW, "nobody", costs_only).cost_view
    store.add_event("recovery", "not a cost", cluster="dev-alice")
    assert loader.load(NOW + 1, "nobody", costs_only).cost_view is first  # same minute, same usage
    assert loader.load(NOW + 1, "nobody", costs_only, "user").cost_view.by == "user"
    store.close_usage("notebook", "stopped", ended_at=NOW)
    closed = loader.load(NOW, "nobody", costs_only)
    assert closed.cost_view is not first and closed.summary.spend_per_hour == 0.5
    later = loader.load(NOW + 3600, "nobody", costs_only).cost_view
    assert later.total - closed.cost_view.total == costs.Decimal("0.5")  # dev-alice's hour at 0.50 $/h


def _cost_view(top: float = 10.86) -> costs.CostView:
    from decimal import Decimal

    days = tuple((f"2026-05-{d:02d}", top * (d % 4) / 3) for d in range(1, 31))
    return costs.CostView("cluster", {}, daily=days, today=Decimal("3.75"), month=Decimal("66.75"), rate=1.5,
                          total=Decimal("66.75"), spot_savings=Decimal("15"), autostop_saved=Decimal("0.75"),
                          autostop_stops=1, estimate_sources=("local:reference-estimate",))


@pytest.mark.parametrize("width", [158, 118, 78, 64, 48])
def test_costs_header_is_laid_out_for_its_width_and_cuts_nothing(width: int) -> None:
    """Every line fits, every figure is whole, and at 80 columns the header takes five lines."""
    cv = _cost_view()
    title, figures, chart, beside = cv.header(width)
    for text in (title, figures, chart, beside):
        assert all(len(line) <= width for line in text.splitlines())
    shown = " ".join(" ".join(t.split("\n")) for t in (figures, beside))
    assert all(part in shown for part in cv.figure_parts())  # wrapped between figures, never inside one
    if cv.wide_chart_fits(width):  # 2 cells a day, the scale and dates beside the bars
        assert not beside and len(chart.splitlines()) == 3 and "daily spend, USD (top $10.86/day)" in chart
    else:  # 1 cell a day, the scale and dates under the bars
        assert chart.splitlines()[-1] == "top $10.86/day · 05-01 … 05-30"
        assert all(len(line) <= costs.WINDOW_DAYS for line in chart.splitlines())
    if width == 78:  # a default 80x24 terminal: the figures beside the chart, one title line
        assert not figures and len(title.splitlines()) == 1 and "(g: next grouping" not in title
        assert len(beside.splitlines()) <= len(chart.splitlines()) == 4
        assert all(len(line) <= width - costs.WINDOW_DAYS - costs.CHART_GAP for line in beside.splitlines())
    if width == 158:
        assert title == cv.title() and figures == " · ".join(cv.figure_parts())
    if width == 48:  # too narrow to put them beside: the figures go over the chart
        assert not beside and figures


def test_costs_header_with_a_problem_shows_only_the_problem() -> None:
    cv = costs.CostView("cluster", {}, problem="cost accounting is not installed in this build")
    assert cv.header(78)[1:] == ("cost accounting is not installed in this build", "", "")
