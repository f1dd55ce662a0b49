"""Every view, in the default theme and the light one: fixed clock, UTC, no host names or timings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_tui_conf import make_app, seeded_core, utc, wait_for  # noqa: F401

pytestmark = pytest.mark.usefixtures("utc")
VIEWS = {"clusters": "1", "jobs": "2", "events": "3", "costs": "4", "gpus": "5"}


def _app(tmp_path: Path, theme: str) -> Any:
    return make_app(seeded_core(tmp_path, clusters=5, jobs=5), theme_name=theme)


@pytest.mark.parametrize("theme", ["skytui-dark", "skytui-light"])
@pytest.mark.parametrize("view", list(VIEWS))
def test_view(snap_compare: Any, tmp_path: Path, view: str, theme: str) -> None:
    app = _app(tmp_path, theme)

    async def ready(pilot: Any) -> None:
        await wait_for(pilot, lambda: app.snapshots_applied > 0)
        await pilot.press(VIEWS[view])
        await pilot.pause()

    assert snap_compare(app, terminal_size=(150, 20), run_before=ready)


@pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])
@pytest.mark.parametrize("view", list(VIEWS))
def test_view_at_terminal_size(snap_compare: Any, tmp_path: Path, view: str, size: tuple[int, int]) -> None:
    """A default 80x24 terminal leaves low-priority columns out and wraps the Costs header between figures."""
    app = _app(tmp_path, "skytui-dark")

    async def ready(pilot: Any) -> None:
        await wait_for(pilot, lambda: app.snapshots_applied > 0)
        await pilot.press(VIEWS[view])
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=ready)


def test_help_high_contrast(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(tmp_path, "skytui-high-contrast")

    async def ready(pilot: Any) -> None:
        await wait_for(pilot, lambda: app.snapshots_applied > 0)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(150, 40), run_before=ready)


def test_filtered_clusters_read_only(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(seeded_core(tmp_path, clusters=5, jobs=5), read_only=True)

    async def ready(pilot: Any) -> None:
        await wait_for(pilot, lambda: app.snapshots_applied > 0)
        await pilot.press("slash", *"status:UP", "enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(150, 20), run_before=ready)


def test_costs_by_day(snap_compare: Any, tmp_path: Path) -> None:
    app = _app(tmp_path, "skytui-dark")

    async def ready(pilot: Any) -> None:
        await wait_for(pilot, lambda: app.snapshots_applied > 0)
        await pilot.press("4", *"g" * 6)  # cluster -> job -> user -> region -> cloud -> gpu -> day
        await wait_for(pilot, lambda: app.cost_view is not None and app.cost_view.by == "day")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(150, 24), run_before=ready)


def test_gpus_with_telemetry(snap_compare: Any, tmp_path: Path) -> None:
    import asyncio

    from test_tui_gpus import fed_sampler

    core, sampler, _ = asyncio.run(fed_sampler(tmp_path))
    app = make_app(core, sampler=sampler)

    async def ready(pilot: Any) -> None:
        await wait_for(pilot, lambda: app.snapshots_applied > 0 and app.telemetry is not None)
        await pilot.press("5")
        await wait_for(pilot, lambda: "notebook/0/0" in app.table("gpus").shown_keys)
        app.table("gpus").move_cursor(row=app.table("gpus").get_row_index("dev-alice/0/0"))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(190, 20), run_before=ready)
