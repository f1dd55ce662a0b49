"""The GPUs view fed by a real Sampler over an in-process transport: bars, notes, idle GPUs and stopping them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_telemetry_e2e import NO_NVIDIA, FakeFleet, probe_output
from test_tui_conf import make_app, utc, wait_for  # noqa: F401
from seeding import NOW, seed_store

from skytui.config_model import Config
from skytui.core.context import Core
from skytui.core.telemetry.sampler import Sampler
from skytui.store import Cluster, Node
from skytui.tui import gpus

pytestmark = pytest.mark.usefixtures("utc")
INTERVAL = 30.0


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


async def fed_sampler(tmp: Path) -> tuple[Core, Sampler, FakeFleet]:
    """The seeded fleet plus a CPU box; 15 minutes of rounds: dev-alice's GPU idle, notebook's busy."""
    clock = Clock(NOW - 15 * 60)
    store = seed_store(tmp / "state.db", clusters=5, jobs=2)
    store.create_cluster(Cluster(name="cpu-box", cloud="local", status="UP", user="bob", updated_at=NOW,
                                 region="local-1", zone="a", num_nodes=1, instance_type="local-4x16",
                                 price_per_hour=0.2, on_demand_price_per_hour=0.2, launched_at=NOW - 3600))
    for name in ("dev-alice", "notebook", "cpu-box"):
        store.set_nodes(name, [Node(cluster=name, rank=0, host="127.0.0.1", port=22)])
    core = Core(config=Config(), store=store, clock=clock)
    fleet = FakeFleet()
    fleet.answers = {"dev-alice": probe_output(2.0, uuid="GPU-A"), "notebook": probe_output(87.0, uuid="GPU-N"),
                     "cpu-box": NO_NVIDIA}
    sampler = Sampler(core, interval=INTERVAL, transport=fleet, record_minutes=False)
    while clock.t <= NOW:
        await sampler.round(wait=1)
        clock.t += INTERVAL
    clock.t = NOW  # the app then samples at the fixed clock: the same readings, nothing moves
    return core, sampler, fleet


def _header(app: Any) -> str:
    return str(app.query_one("#summary").render())


async def test_rows_per_cluster_node_and_gpu_with_bars_notes_and_idle(tmp_path: Path) -> None:
    core, sampler, fleet = await fed_sampler(tmp_path)
    app = make_app(core, sampler=sampler)
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_for(pilot, lambda: app.snapshots_applied > 0 and app.telemetry is not None)
        await pilot.press("5")
        table = app.table("gpus")
        await wait_for(pilot, lambda: "notebook/0/0" in table.shown_keys)
        assert table.shown_keys == ["cpu-box", "cpu-box/0", "dev-alice", "dev-alice/0/0", "notebook",
                                    "notebook/0/0", "sweep"]
        busy, idle = "notebook/0/0", "dev-alice/0/0"
        assert table.cell_text(busy, "util") == f"{gpus.bar(0.87)}  87%"
        assert table.cell_text(busy, "memory").endswith("GiB") and table.cell_text(busy, "gpu").startswith("0 ")
        assert table.cell_text(busy, "recent") == "▇" * 15  # a quarter-hour at 87 %, one mark a minute
        assert table.cell_text(busy, "state") == ""
        assert table.cell_text(idle, "state") == gpus.IDLE_MARK
        assert "1 GPU idle" in table.cell_text("dev-alice", "state")  # the cluster's own row says so too
        assert table.cell_text("notebook", "util") == table.cell_text(busy, "util")  # one GPU: same mean
        # A node without nvidia-smi: its note once, on its one row.
        notes = [k for k in table.shown_keys if "NVIDIA" in table.cell_text(k, "state")]
        assert notes == ["cpu-box/0"]
        assert table.cell_text("cpu-box/0", "state").startswith("no NVIDIA telemetry")
        header = _header(app)
        assert "GPUs in use 9 (busy 1, idle 1, mean util 44%, 1 idle 15m+ billing)" in header
        assert "press x to stop" in str(app.query_one("#gpu-hint").render())
        assert fleet.calls["notebook"] > 30  # the app kept sampling with the same sampler


async def test_stop_is_offered_for_an_idle_gpus_cluster(tmp_path: Path) -> None:
    from skytui.tui.screens.confirm import ConfirmScreen

    core, sampler, _ = await fed_sampler(tmp_path)
    app = make_app(core, sampler=sampler)
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_for(pilot, lambda: app.telemetry is not None and app.snapshots_applied > 0)
        await pilot.press("5")
        table = app.table("gpus")
        await wait_for(pilot, lambda: "dev-alice/0/0" in table.shown_keys)
        table.move_cursor(row=table.get_row_index("dev-alice/0/0"))
        actions = {b.action for _n, b, _on, _t in app.screen.active_bindings.values()}
        assert "stop" in actions and "down" not in actions  # only stop is offered here
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.title_text == "Stop dev-alice?"
        assert "1 of its GPUs have been idle for 15 minutes" in app.screen.body
        await pilot.press("n")
        assert len(app.screen_stack) == 1 and core.store.cluster("dev-alice").status == "UP"


async def test_read_only_dims_the_stop_and_a_failing_sampler_is_a_status_not_a_crash(tmp_path: Path) -> None:
    core, sampler, _ = await fed_sampler(tmp_path)
    calls = 0

    async def broken(wait: float | None = None) -> list[Any]:
        nonlocal calls
        calls += 1
        raise RuntimeError("the store is locked")

    sampler.latest.clear()
    sampler.round = broken  # type: ignore[method-assign]
    sampler.interval = 0.05
    app = make_app(core, sampler=sampler, read_only=True)
    async with app.run_test(size=(200, 40)) as pilot:
        await wait_for(pilot, lambda: calls >= 2)
        await wait_for(pilot, lambda: "GPU telemetry failed: the store is locked" in app.status_line.text)
        assert app.status_line.state == "error" and app.is_running
        await pilot.press("5")
        actions = {b.action for _n, b, _on, _t in app.screen.active_bindings.values()}
        assert "ssh" in actions and "stop" not in actions  # read-only: not bound at all
        assert "waiting for the first sample" in str(app.query_one("#gpu-hint").render())


def test_bars_and_sparklines() -> None:
    assert gpus.bar(0.0) == "░" * 10 and gpus.bar(1.0) == "█" * 10
    assert gpus.bar(0.55) == "█████▌░░░░" and gpus.bar(None).strip() == "n/a"
    assert gpus.sparkline([0, 12.5, 50, 100]) == "▁▂▅█"


def test_recent_minutes_are_drawn_once_a_minute_from_completed_minutes() -> None:
    from skytui.core.telemetry.ring import GpuHistory

    hist = GpuHistory(5.0)
    start = NOW - NOW % 60  # a minute boundary
    for i in range(12 * 4):  # four minutes of 5 s readings at 0, 25, 50, 100 %
        hist.add(start + 5 * i, (0.0, 25.0, 50.0, 100.0)[i // 12], None, None)
    end = start + 240
    assert gpus.recent(hist, end, minutes=5) == "▁▁▃▅█"  # the minute before the four: no readings
    cache: gpus.SparkCache = {}
    key = ("c", 0, "GPU-1")
    first = gpus._recent_cached(cache, key, hist, end + 10, 4)
    hist.add(end + 20, 100.0, None, None)  # the minute still filling: not drawn, not recomputed
    assert gpus._recent_cached(cache, key, hist, end + 30, 4) == first == "▁▃▅█"
    assert gpus._recent_cached(cache, key, hist, end + 60, 4) == "▃▅██"
