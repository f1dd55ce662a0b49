"""The Clusters view: one row per cluster; start, stop, tear down, autostop, shell, logs, events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.widget import Widget
from textual.widgets import Static

from skytui.tui import model
from skytui.tui.actions import CLUSTERS
from skytui.tui.loader import Snapshot
from skytui.tui.views.base import TableView

EMPTY_HINT = ("No clusters yet. Press n for a dev VM, L to launch a task file, or D to start the demo "
              "fleet (two dev VMs and a spot job on the local cloud).")


class ClustersView(TableView):
    VIEW = CLUSTERS
    COLUMNS = model.CLUSTER_COLUMNS

    def above(self) -> Iterable[Widget]:
        yield Static(EMPTY_HINT, id="empty-hint", classes="hint hidden", markup=False)

    def show_extras(self, snap: Snapshot) -> None:
        hint = self.hints.get("empty-hint")
        if hint is not None:
            empty = not self.table.row_count and snap.summary.clusters == 0
            hint.set_class(not empty, "hidden")

    def cluster_row(self) -> Any:
        key = self.selected()
        c = self.core.store.cluster(key) if key else None
        if c is None:
            self.notify("select a cluster first", severity="warning")
        return c

    def stop_target(self) -> Any:
        return self.cluster_row()

    def action_start(self) -> None:
        from skytui.core import clusters

        c = self.cluster_row()
        if c is not None:
            self.run_core(f"starting {c.name}", lambda: clusters.start(self.core, c.name), f"{c.name} is UP")

    def action_down(self) -> None:
        from skytui.core import clusters
        from skytui.tui.screens.confirm import ConfirmScreen

        c = self.cluster_row()
        if c is None:
            return
        running = [j for j in self.core.store.cluster_jobs(c.name) if j.status == "RUNNING"]
        body = (f"Its {c.num_nodes} node(s) and their disks are deleted, with everything on them that was "
                f"not synced elsewhere (checkpoints, installed packages, home directories)"
                f"{f'; {len(running)} running job(s) end' if running else ''}. This cannot be undone.")

        def go(yes: bool | None) -> None:
            if yes:
                self.run_core(f"tearing down {c.name}", lambda: clusters.down(self.core, c.name),
                              f"{c.name} torn down")

        self.app.push_screen(ConfirmScreen(f"Tear down {c.name}?", body, yes="Tear down"), go)

    def action_autostop(self) -> None:
        from skytui.core import clusters
        from skytui.errors import SkytuiError
        from skytui.tui.screens.autostop import AutostopChoice, AutostopScreen

        c = self.cluster_row()
        if c is None:
            return

        def go(choice: AutostopChoice | None) -> None:
            if choice is None:
                return
            try:
                clusters.set_autostop(self.core, c.name, choice.minutes, choice.down)
            except SkytuiError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            what = "off" if not choice.minutes else \
                f"{'tear down' if choice.down else 'stop'} after {choice.minutes} idle minutes"
            self.say(f"autostop for {c.name}: {what}", notify=True)

        self.app.push_screen(AutostopScreen(c.name, c.autostop_minutes, bool(c.autostop_down)), go)
