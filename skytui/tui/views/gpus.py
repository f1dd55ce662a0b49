"""The GPUs view: clusters, each followed by its nodes and GPUs, from telemetry; x stops an idle one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.widget import Widget
from textual.widgets import Static

from skytui.tui import gpus, model
from skytui.tui.actions import GPUS
from skytui.tui.loader import Snapshot
from skytui.tui.views.base import DashboardContext, TableView


class GpusView(TableView):
    VIEW = GPUS
    COLUMNS = model.GPU_COLUMNS
    SORT_COLUMN = None  # clusters, each followed by its nodes and GPUs

    def __init__(self, ctx: DashboardContext) -> None:
        super().__init__(ctx)
        self.telemetry_state = ""  # the screen sets these down with each round
        self.telemetry: gpus.Telemetry | None = None

    def above(self) -> Iterable[Widget]:
        yield Static(self.telemetry_state, id="gpu-hint", classes="hint", markup=False)

    def show_extras(self, snap: Snapshot) -> None:
        hint = self.hints.get("gpu-hint")
        if hint is not None:
            hint.update(self.telemetry_state)

    def cluster_of(self, key: str) -> str | None:
        return self.table.cell_text(key, "cluster")  # rows are clusters, nodes and GPUs: each names its cluster

    def stop_target(self) -> Any:
        name = self.selected_cluster()
        return self.up_cluster(name) if name is not None else None

    def stop_reason(self, cluster: str) -> str:
        idle = self.telemetry.idle.get(cluster, 0) if self.telemetry is not None else 0
        return f"{idle} of its GPUs have been idle for 15 minutes or more. " if idle else ""
