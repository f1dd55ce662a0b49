"""The dashboard's live data: store reads, provider refreshes, and drawing what they bring."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from textual import work
from textual.widgets import Static

from skytui.tui import costs, gpus
from skytui.tui.actions import CLUSTERS, COSTS, GPUS, VIEWS
from skytui.tui.loader import ALL_VIEWS, watcher_label
from skytui.tui.widgets.bars import StatusLine, SummaryBar
from skytui.tui.widgets.resource_table import ResourceTable

if TYPE_CHECKING:
    from skytui.tui.app import SkytuiApp
    from skytui.tui.app_host import AppHost
else:
    AppHost = object  # the host's attributes are declared for the type checker only

log = logging.getLogger("skytui.tui")
REFRESH_BACKOFF_MAX_S = 600.0
CLOCK_TICK_S = 30.0  # uptimes and durations have minute resolution: redraw them this often


class LiveData(AppHost):
    """Mixed into SkytuiApp: the store and provider loops, and the messages they post."""

    def request_refresh(self) -> None:
        """Read the store now instead of at the next tick (after our own actions)."""
        self._wake.set()

    @work(group="store", exclusive=True, exit_on_error=False)
    async def store_loop(self) -> None:
        """Probe `PRAGMA data_version` each tick; load the view on screen only when it moved."""
        last_load = time.monotonic() if self.snapshot is not None else 0.0  # read before the first frame
        while True:
            try:
                self._version = version = self.loader.version()
                due = time.monotonic() - last_load >= CLOCK_TICK_S
                view = self.view
                if self._loaded_at.get(view) != version or due or self._wake.is_set():
                    self._wake.clear()
                    views = frozenset({view}) if self.snapshot is not None else frozenset({view, "clusters"})
                    snap = await asyncio.to_thread(self.loader.load, self.clock(), self._watcher_text(), views,
                                                   self.cost_by)
                    last_load = time.monotonic()
                    for v in views:
                        if v != COSTS or snap.cost_view is None or snap.cost_view.by == self.cost_by:
                            self._loaded_at[v] = snap.version
                    self.post_message(self.SnapshotReady(snap))
            except Exception as exc:  # a locked or moved database: say so, keep trying
                log.exception("store refresh failed")
                self.post_message(self.Note(f"reading the state store failed: {exc}", "error"))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.store_poll_seconds)
            except asyncio.TimeoutError:
                pass

    def _watcher_text(self) -> str:
        return watcher_label()

    def _widgets_gone(self) -> bool:
        """Workers' messages can land while the app shuts down, after its widgets are gone."""
        return self._exit or not self.screen_stack or not self.main_screen.query(StatusLine)

    def on_skytui_app_snapshot_ready(self, msg: SkytuiApp.SnapshotReady) -> None:
        if self._widgets_gone():
            return
        snap = msg.snapshot
        self.snapshot = snap
        self.snapshots_applied += 1
        if self.snapshots_applied == 1 and self.telemetry_on:
            # After the first frame with data: sampling's imports never delay it.
            self.call_after_refresh(self.telemetry_loop)
        for view in snap.views & ALL_VIEWS:
            rows = getattr(snap, view)
            if rows is None:
                continue
            if view == COSTS:
                if snap.cost_view is None or snap.cost_view.by != self.cost_by:
                    continue  # loaded for the grouping before the last `g`: the next load has ours
                self.cost_view = snap.cost_view
            if view == GPUS:
                self._gpu_cluster_rows = rows
                rows = gpus.merge(rows, self.telemetry)
            self.rows[view] = rows
            self._stale.add(view)
        self._show_current()

    def on_skytui_app_gpus_sampled(self, msg: SkytuiApp.GpusSampled) -> None:
        if self._widgets_gone():
            return
        self.telemetry = msg.telemetry
        t = msg.telemetry
        idle = ", ".join(f"{name} ({n})" for name, n in sorted(t.idle.items()))
        if idle:
            self.telemetry_state = (f"GPUs idle 15m+ while billing on {idle}: select its row and press x to stop "
                                    f"the cluster")
        elif t.totals.gpus:
            self.telemetry_state = f"GPU telemetry every {self._sample_interval():g}s over SSH"
        else:
            self.telemetry_state = "no GPUs read yet: nodes without NVIDIA telemetry say so on their row"
        if self.snapshot is not None:
            self.rows[GPUS] = gpus.merge(self._gpu_cluster_rows, t)
            self._stale.add(GPUS)
        self._show_current()

    def _sample_interval(self) -> float:
        return self.sampler.interval if self.sampler is not None else self.core.config.telemetry_interval_seconds

    def _show_current(self) -> None:
        snap = self.snapshot
        title = dict(VIEWS)[self.view]
        if snap is None:
            return
        fleet = self.telemetry.totals.line() if self.telemetry is not None else ""
        budget = self.core.config.budget
        self.main_screen.query_one(SummaryBar).show(snap.summary, title, fleet, budget.hourly_usd,
                                                   budget.monthly_usd)
        if self.view in self._stale:
            self._stale.discard(self.view)
            self.table(self.view).show(self.rows[self.view])
        if self.view == CLUSTERS:
            empty = not self.rows.get(CLUSTERS) and snap.summary.clusters == 0
            self.main_screen.query_one("#empty-hint").set_class(not empty, "hidden")
        if self.view == COSTS and self.cost_view is not None:
            cv = self.cost_view
            screen = self.main_screen
            self.table(COSTS).relabel(0, costs.GROUP_LABELS[cv.by])
            screen.query_one("#cost-title", Static).update(cv.title())
            screen.query_one("#cost-figures", Static).update(cv.figures())
            screen.query_one("#cost-chart", Static).update(cv.chart())
        if self.view == GPUS:
            self.main_screen.query_one("#gpu-hint", Static).update(self.telemetry_state)

    def _restyle(self) -> None:
        for table in self.main_screen.query(ResourceTable):
            if table.row_count:
                table.restyle()

    @work(group="providers", exclusive=True, exit_on_error=False)
    async def provider_loop(self) -> None:
        """Ask the clouds what runs, one round at a time; failures back off instead of spinning."""
        from skytui.core.refresh import refresh_all

        base = float(self.provider_refresh_seconds or 30.0)
        delay = self.provider_delay = base
        while True:
            self.provider_delay = delay
            await asyncio.sleep(delay)
            try:
                rec = await refresh_all(self.core)
            except Exception as exc:
                delay = min(delay * 2, REFRESH_BACKOFF_MAX_S)
                log.warning("provider refresh failed: %s", exc, exc_info=True)
                self.post_message(self.Note(f"provider refresh failed: {exc}; next try in {delay:.0f}s",
                                            "error", notify=True))
                continue
            if rec.errors:
                delay = min(delay * 2, REFRESH_BACKOFF_MAX_S)
                where = ", ".join(f"{c}/{r}" for c, r in sorted(rec.errors))
                self.post_message(self.Note(f"could not list {where}; next try in {delay:.0f}s", "error"))
            else:
                delay = base
                if rec.preempted or rec.lost:
                    names = ", ".join(rec.preempted + rec.lost)
                    self.post_message(self.Note(f"lost nodes: {names}", "error", notify=True))
