"""Pilot tests of the dashboard against a seeded store: views, live refresh, filter, sort, actions."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_conf import make_app, seeded_core, utc, wait_for  # noqa: F401
from seeding import NOW

from skytui.store import Cluster, Store

pytestmark = pytest.mark.usefixtures("utc")


async def test_every_view_shows_the_store(tmp_path: Path) -> None:
    app = make_app(seeded_core(tmp_path, clusters=5, jobs=5))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshots_applied > 0)
        assert app.table("clusters").shown_keys == ["big-train", "dev-alice", "notebook", "spotty", "sweep"]
        assert app.table("clusters").cell_text("dev-alice", "uptime") == "1h00m"
        summary = str(app.query_one("#summary").render())
        assert "clusters up 2/5" in summary and "GPUs in use 9" in summary and "spend $1.50/h" in summary
        assert "jobs running 1, recovering 1" in summary and "watching: nobody" in summary
        for key, view, expected in (("2", "jobs", "1"), ("3", "events", "1"), ("4", "costs", "notebook"),
                                    ("5", "gpus", "dev-alice")):
            await pilot.press(key)
            await pilot.pause()
            assert app.view == view
            assert app.query_one("#views").current == view
            assert expected in app.table(view).shown_keys
        assert app.table("jobs").cell_text("2", "status") == "RECOVERING"
        assert app.table("gpus").cell_text("sweep", "gpu") == "H100 x16"


async def test_palette_switches_views(tmp_path: Path) -> None:
    from textual.command import CommandPalette

    app = make_app(seeded_core(tmp_path))
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("colon")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"View: Events")
        await pilot.pause(0.5)  # the palette searches in the background
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.view == "events", 5)


async def test_live_refresh_updates_only_changed_cells_and_keeps_the_cursor(tmp_path: Path) -> None:
    core = seeded_core(tmp_path, clusters=5, jobs=2)
    app = make_app(core)
    other = Store(core.store.db.path, clock=lambda: NOW)  # another process, as far as SQLite knows
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.table("clusters")
        await wait_for(pilot, lambda: table.row_count == 5)
        table.move_cursor(row=table.get_row_index("sweep"))
        rebuilds = table.rebuilds
        other.transition_cluster("dev-alice", ["UP"], "STOPPED", event="dev-alice stopped")
        await wait_for(pilot, lambda: table.cell_text("dev-alice", "status") == "STOPPED")
        assert table.rebuilds == rebuilds  # a changed cell, not a redraw
        assert table.selected_key == "sweep"
        # A new cluster sorts in above the cursor: the cursor stays on the same cluster.
        other.create_cluster(Cluster(name="aaa-new", cloud="local", status="INIT", user="carol", updated_at=NOW))
        await wait_for(pilot, lambda: "aaa-new" in table.shown_keys)
        assert table.shown_keys[0] == "aaa-new"
        assert table.selected_key == "sweep"
        # Gone from the store: gone from the table.
        other.transition_cluster("big-train", ["STOPPED"], "TERMINATED")
        await wait_for(pilot, lambda: "big-train" not in table.shown_keys)
        assert table.selected_key == "sweep"


async def test_nothing_changed_means_no_reload(tmp_path: Path) -> None:
    app = make_app(seeded_core(tmp_path))
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshots_applied == 1)
        await pilot.pause(0.5)  # ten polls at 50 ms
        assert app.snapshots_applied == 1


async def test_sort_by_key_and_header_click(tmp_path: Path) -> None:
    app = make_app(seeded_core(tmp_path, clusters=5, jobs=0))
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.table("clusters")
        await wait_for(pilot, lambda: table.row_count == 5)
        await pilot.press("O")  # reverse the name order
        assert table.shown_keys == ["sweep", "spotty", "notebook", "dev-alice", "big-train"]
        for _ in range(6):  # name -> where -> status -> resources -> spot -> uptime -> price
            await pilot.press("o")
        assert table.spec[table.sort_column].key == "price"
        assert table.shown_keys == ["dev-alice", "big-train", "notebook", "sweep", "spotty"]
        await pilot.click("#table-clusters", offset=(3, 0))  # the NAME header
        await pilot.pause()
        assert table.sort_column == 0
        assert table.shown_keys[0] == "big-train"


async def test_filter_substring_regex_and_column(tmp_path: Path) -> None:
    app = make_app(seeded_core(tmp_path, clusters=5, jobs=3))
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.table("clusters")
        await wait_for(pilot, lambda: table.row_count == 5)
        await pilot.press("slash", *"note")
        assert table.shown_keys == ["notebook"]
        await pilot.press("ctrl+a", "ctrl+k", *"^(dev|sp)")
        assert table.shown_keys == ["dev-alice", "spotty"]
        await pilot.press("enter")
        assert table.has_focus
        await pilot.press("escape")
        assert len(table.shown_keys) == 5
        # `e` on a cluster shows its events only.
        table.move_cursor(row=table.get_row_index("notebook"))
        await pilot.press("e")
        await pilot.pause()
        events = app.table("events")
        assert app.view == "events" and events.shown_keys
        assert all(events.cell_text(k, "cluster") == "notebook" for k in events.shown_keys)


async def test_read_only_disables_every_change(tmp_path: Path) -> None:
    core = seeded_core(tmp_path, clusters=5, jobs=2)
    app = make_app(core, read_only=True)
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.table("clusters")
        await wait_for(pilot, lambda: table.row_count == 5)
        table.move_cursor(row=table.get_row_index("dev-alice"))
        for key in ("x", "d", "a", "n", "L", "D"):
            await pilot.press(key)
            await pilot.pause()
            assert len(app.screen_stack) == 1, key
        await pilot.press("2", "c")
        assert len(app.screen_stack) == 1
        assert "cancel_job" not in bound(app)  # read-only: not bound at all
        await pilot.press("1")
        assert {"down", "stop", "start", "autostop", "new_dev", "launch_task", "demo"}.isdisjoint(bound(app))
        assert {"ssh", "logs", "events_for", "filter"} <= bound(app)
        assert core.store.cluster("dev-alice").status == "UP"


def bound(app) -> set[str]:  # type: ignore[no-untyped-def]
    """The actions bound where the focus is now (screen, view, table; the app's own)."""
    return {b.action for _node, b, _on, _tip in app.screen.active_bindings.values()}


async def test_cancel_job_asks_then_marks_it_cancelling(tmp_path: Path) -> None:
    from skytui.tui.screens.confirm import ConfirmScreen

    core = seeded_core(tmp_path, clusters=1, jobs=3)
    app = make_app(core)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("2")
        table = app.table("jobs")
        await wait_for(pilot, lambda: table.row_count == 3)
        table.move_cursor(row=table.get_row_index("1"))
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmScreen)
        assert "train-0" in app.screen.body
        await pilot.press("n")
        assert core.store.job(1).status == "RUNNING"
        await pilot.press("c", "y")
        await wait_for(pilot, lambda: core.store.job(1).status == "CANCELLING")
        await wait_for(pilot, lambda: table.cell_text("1", "status") == "CANCELLING")
        table.move_cursor(row=table.get_row_index("3"))  # SUCCEEDED: nothing to cancel
        await pilot.press("c")
        assert len(app.screen_stack) == 1


async def test_help_lists_every_registered_action(tmp_path: Path) -> None:
    from skytui.tui.actions import ACTIONS, shown_key
    from skytui.tui.screens.help import HelpScreen

    app = make_app(seeded_core(tmp_path))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_table = app.screen.query_one("#help-table")
        keys = [str(help_table.get_row_at(i)[0]) for i in range(help_table.row_count)]
        assert {shown_key(a) for a in ACTIONS} <= set(keys)
        await pilot.press("escape")
        assert len(app.screen_stack) == 1


async def test_bindings_come_from_the_registry() -> None:
    from skytui.tui.actions import ACTIONS
    from skytui.tui.app import SkytuiApp
    from skytui.tui.dashboard import DashboardScreen
    from skytui.tui.views import VIEW_CLASSES

    screen = DashboardScreen.for_mode(False)
    views = [v.for_mode(False) for v in VIEW_CLASSES.values()]
    keys = {b.key for b in screen.BINDINGS} | {b.key for v in views for b in v.BINDINGS}  # type: ignore[union-attr]
    assert {a.key for a in ACTIONS} == keys
    for a in ACTIONS:
        # Each action runs somewhere: on the app ("app." ones), the screen, or every view that binds it.
        method = "action_" + a.name.split("(")[0]
        owners = [SkytuiApp] if a.namespace == "app." else (
            [screen] if a.views == frozenset(VIEW_CLASSES) else [VIEW_CLASSES[v] for v in a.views])
        assert all(hasattr(o, method) for o in owners), a.name


async def test_empty_store_offers_the_demo(tmp_path: Path) -> None:
    from skytui.config_model import Config
    from skytui.core.context import Core

    core = Core(config=Config(), store=Store(tmp_path / "empty.db", clock=lambda: NOW))
    app = make_app(core)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshots_applied > 0)
        hint = app.query_one("#empty-hint")
        assert not hint.has_class("hidden")
        assert "demo" in str(hint.render())


async def test_provider_errors_back_off_and_never_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skytui.core import refresh
    from skytui.errors import ProviderError

    calls: list[float] = []

    async def failing(core: object) -> None:
        calls.append(app.provider_delay)
        raise ProviderError("local cloud registry is unreadable")

    monkeypatch.setattr(refresh, "refresh_all", failing)
    app = make_app(seeded_core(tmp_path), provider_refresh_seconds=0.1)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: len(calls) >= 3, 10)
        assert "provider refresh failed" in app.status_line.text
        assert app.status_line.state == "error"
        # Each failure waits longer (the core's Backoff: doubling, with jitter): backing off, not spinning.
        assert calls[0] == 0.1 and 0.1 <= calls[1] <= 0.2 and 0.2 <= calls[2] <= 0.4
        assert app.is_running


async def test_quit_offers_to_hand_running_jobs_to_the_daemon(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from skytui.tui import app as app_module
    from skytui.tui.screens.confirm import ConfirmScreen

    started: list[bool] = []
    async def hand_to_daemon() -> None:
        started.append(True)

    monkeypatch.setattr(app_module, "hand_to_daemon", hand_to_daemon)
    core = seeded_core(tmp_path, clusters=5, jobs=5)  # jobs 1 and 2 are RUNNING and RECOVERING
    app = make_app(core)
    monkeypatch.setattr(app, "watcher_is_ours", lambda: True)  # as if this app held the watcher lock
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshots_applied > 0)
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), 5)
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "job(s) are running: keep watching them in the background?" in text
        await pilot.press("y")
        await wait_for(pilot, lambda: started == [True], 5)
    assert app.return_code == 0


async def test_quit_without_running_jobs_asks_nothing(tmp_path: Path) -> None:
    app = make_app(seeded_core(tmp_path, clusters=2, jobs=0))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshots_applied > 0)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


def _keybar_text(app) -> str:  # type: ignore[no-untyped-def]
    from skytui.tui.widgets.bars import KeyBar

    return str(app.main_screen.query_one(KeyBar).render())


async def test_key_bar_follows_the_view_and_a_click_presses_the_key(tmp_path: Path) -> None:
    from skytui.tui.widgets.bars import KeyBar

    app = make_app(seeded_core(tmp_path, clusters=5, jobs=5))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshots_applied > 0)
        shown = _keybar_text(app)
        assert " s SSH " in shown and " x Stop " in shown and " c Cancel " not in shown
        await pilot.press("2")
        await wait_for(pilot, lambda: " c Cancel " in _keybar_text(app))
        assert " x Stop " not in _keybar_text(app)
        # A click on "? Help" opens the help screen, as pressing ? does.
        bar = app.main_screen.query_one(KeyBar)
        start = next(a for a, _b, key in bar._spans if key == "question_mark")
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")


async def test_read_only_leaves_the_keys_that_change_things_out(tmp_path: Path) -> None:
    app = make_app(seeded_core(tmp_path), read_only=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshots_applied > 0)
        text = _keybar_text(app)
        assert " s SSH " in text and " l Logs " in text
        for gone in (" x Stop ", " d Down ", " n New dev VM ", " L Launch task "):
            assert gone not in text


async def test_first_frame_has_data_and_sized_columns_then_every_row(tmp_path: Path) -> None:
    app = make_app(seeded_core(tmp_path, clusters=300, jobs=3))
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.table("clusters")
        # Read before the screen opened: the rows are there at the first frame, columns sized...
        assert app.snapshots_applied == 1 and table.row_count == 300
        assert table.column_width("name") >= len("c0000") and table.column_width("status") >= len("PREEMPTED")
        # ...and a frame draws only the lines on screen (the first row under the header).
        await pilot.pause()
        assert table.shown_keys[0] in table.render_line(1).text
        assert table.rebuilds == 0
        assert table.shown_keys == sorted(table.shown_keys)
