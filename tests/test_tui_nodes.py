"""The dashboard's actions against real local-cloud nodes: ssh, logs, stop, start, autostop, down, launch."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_tui_conf import make_app, real_nodes_env, wait_for

from skytui.config_model import Config
from skytui.core.clusters import LaunchOptions, exec_on, launch
from skytui.core.context import Core
from skytui.store import Store
from skytui.task.spec import Task

pytestmark = pytest.mark.slow


@pytest.fixture
async def core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    real_nodes_env(monkeypatch)
    c = Core(config=Config(), store=Store(tmp_path / "state.db"))
    yield c
    await c.aclose()


async def up(core: Core, name: str) -> None:
    await launch(core, name, Task(name=name), LaunchOptions(is_dev=True))
    assert core.store.cluster(name).status == "UP"


def app_for(core: Core):  # type: ignore[no-untyped-def]
    return make_app(core, clock=time.time)


async def test_ssh_hands_the_terminal_to_real_ssh_and_comes_back(core: Core,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib

    await up(core, "box")
    app = app_for(core)
    # The headless test driver cannot suspend; the real terminal does, and the rest is the same.
    monkeypatch.setattr(app, "suspend", contextlib.nullcontext)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.table("clusters").shown_keys == ["box"])
        app.ssh_command = ("echo", "hello", ">", "ssh-marker;", "exit", "3")
        await pilot.press("s")
        argv, rc = app.last_ssh
        assert argv[:3] == ["ssh", "-F", argv[2]] and argv[3] == "box"
        assert rc == 3  # the exit status of the remote shell: the command ran on the node
        assert "back from ssh box (exit 3)" in app.status_line.text
        app.ssh_command = ("cat", "ssh-marker")
        await pilot.press("s")
        assert app.last_ssh[1] == 0


async def test_logs_stream_from_the_node(core: Core) -> None:
    from skytui.tui.screens.logs import LogScreen

    await up(core, "logbox")
    await exec_on(core, "logbox", Task(run="for i in 1 2 3; do echo line-$i; done"), detach=True)
    app = app_for(core)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.table("clusters").shown_keys == ["logbox"])
        await pilot.press("l")
        assert isinstance(app.screen, LogScreen)
        screen = app.screen
        await wait_for(pilot, lambda: "line-3" in screen.lines, 60)
        assert screen.lines.index("line-1") < screen.lines.index("line-3")
        await pilot.press("escape")
        assert len(app.screen_stack) == 1


async def test_stop_start_autostop_down_from_the_keyboard(core: Core) -> None:
    from skytui.tui.screens.autostop import AutostopScreen
    from skytui.tui.screens.confirm import ConfirmScreen

    await up(core, "life")
    app = app_for(core)
    status = lambda: core.store.cluster("life").status
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.table("clusters")
        await wait_for(pilot, lambda: table.shown_keys == ["life"])
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen) and "disks are kept" in app.screen.body
        await pilot.press("y")
        await wait_for(pilot, lambda: status() == "STOPPED")
        await wait_for(pilot, lambda: table.cell_text("life", "status") == "STOPPED")
        await pilot.press("r")
        await wait_for(pilot, lambda: status() == "UP")
        await pilot.press("a")
        assert isinstance(app.screen, AutostopScreen)
        await pilot.press("ctrl+a", "ctrl+k", "1", "5", "enter")
        await wait_for(pilot, lambda: core.store.cluster("life").autostop_minutes == 15)
        await wait_for(pilot, lambda: table.cell_text("life", "autostop") == "15m")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen) and "cannot be undone" in app.screen.body
        await pilot.press("y")
        await wait_for(pilot, lambda: core.store.cluster("life").status == "TERMINATED")
        await wait_for(pilot, lambda: table.shown_keys == [])
        assert "torn down" in app.status_line.text


async def test_new_dev_vm_dialog_launches_a_real_node(core: Core) -> None:
    from textual.widgets import Input, Select

    from skytui.tui.screens.new_dev import NewDevScreen

    app = app_for(core)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("n")
        assert isinstance(app.screen, NewDevScreen)
        dialog = app.screen
        region = dialog.query_one("#region", Select)
        await wait_for(pilot, lambda: isinstance(region.value, str), 60)
        assert region.value.startswith("local/")  # the planner's best is preselected
        dialog.query_one("#name", Input).value = "dev-test"
        dialog.query_one("#autostop", Input).value = "45"
        await pilot.click("#ok")
        await wait_for(pilot, lambda: (c := core.store.cluster("dev-test")) is not None and c.status == "UP", 60)
        c = core.store.cluster("dev-test")
        assert c.is_dev == 1 and c.autostop_minutes == 45
        await wait_for(pilot, lambda: "dev-test" in app.table("clusters").shown_keys)


async def test_launch_task_dialog_previews_the_plan_then_launches(core: Core, tmp_path: Path) -> None:
    from skytui.tui.screens.launch_task import LaunchTaskScreen

    work = tmp_path / "work"
    (work / "examples").mkdir(parents=True)
    (work / "examples" / "tiny.yaml").write_text("name: tiny\nresources:\n  cloud: local\nrun: echo tiny-ran\n")
    (work / "broken.yaml").write_text("name: broken\nresources:\n  accelerators: NOPE:1\n")
    app = make_app(core, clock=time.time, cwd=work)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("L")
        dialog = app.screen
        assert isinstance(dialog, LaunchTaskScreen)
        assert [p.name for p in dialog.files] == ["broken.yaml", "tiny.yaml"]
        plan = dialog.query_one("#plan")
        await wait_for(pilot, lambda: "NOPE" in str(plan.render()), 60)  # the error, not a crash
        assert dialog.query_one("#ok").disabled
        await pilot.press("down")
        await wait_for(pilot, lambda: "cheapest first" in str(plan.render()), 60)
        assert "local/" in str(plan.render())
        await pilot.press("enter")
        await wait_for(pilot, lambda: not dialog.query_one("#ok").disabled, 60)
        await pilot.click("#ok")
        await wait_for(pilot, lambda: (c := core.store.cluster("tiny")) is not None and c.status == "UP", 60)
        await wait_for(pilot, lambda: bool(core.store.cluster_jobs("tiny")), 60)
