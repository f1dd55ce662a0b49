"""What SkytuiApp's mixins may use of the app, declared for the type checker only.

The mixins (app_live, app_workers, app_actions, app_launch) are plain classes at run time; under
TYPE_CHECKING they derive from AppHost, so their uses of the app's state and of each other's
methods are checked. Keep it in step with SkytuiApp.__init__ and the methods named here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import asyncio
    from pathlib import Path

    from textual.app import App
    from textual.screen import Screen

    from skytui.core.context import Core
    from skytui.core.telemetry.sampler import Sampler
    from skytui.tui import costs, gpus, model
    from skytui.tui.app import Clock, SkytuiApp
    from skytui.tui.loader import Loader, Snapshot
    from skytui.tui.widgets.bars import StatusLine
    from skytui.tui.widgets.resource_table import ResourceTable

    class AppHost(App[int]):
        # The messages stay nested in SkytuiApp: their handlers' names derive from it.
        SnapshotReady: ClassVar[type[SkytuiApp.SnapshotReady]]
        GpusSampled: ClassVar[type[SkytuiApp.GpusSampled]]
        Note: ClassVar[type[SkytuiApp.Note]]

        # State set up in SkytuiApp.__init__.
        core: Core
        read_only: bool
        clock: Clock
        store_poll_seconds: float
        provider_refresh_seconds: float
        cwd: Path
        loader: Loader
        view: str
        snapshot: Snapshot | None
        snapshots_applied: int
        ssh_command: tuple[str, ...]
        last_ssh: tuple[list[str], int] | None
        _wake: asyncio.Event
        _stale: set[str]
        rows: dict[str, dict[str, model.Row]]
        cost_by: str
        cost_view: costs.CostView | None
        telemetry_on: bool
        sampler: Sampler | None
        telemetry: gpus.Telemetry | None
        telemetry_state: str
        _gpu_cluster_rows: dict[str, model.Row]
        _telemetry_stop: asyncio.Event | None
        _spark_cache: gpus.SparkCache
        _loaded_at: dict[str, int]
        _version: int | None
        provider_delay: float
        _watcher_stop: Any

        # Methods of SkytuiApp and of its other mixins.
        @property
        def main_screen(self) -> Screen[Any]: ...
        @property
        def status_line(self) -> StatusLine: ...
        def table(self, view: str) -> ResourceTable: ...
        def action_show_view(self, view: str) -> None: ...
        def request_refresh(self) -> None: ...
        def _show_current(self) -> None: ...
        def _sample_interval(self) -> float: ...
        def telemetry_loop(self) -> Any: ...
        def selected(self) -> str | None: ...
        def selected_cluster(self) -> str | None: ...
        def _up_cluster(self, name: str) -> Any: ...
        def _run_core(self, label: str, make: Any, done: str) -> None: ...
