"""The dashboard: the default screen. It owns the layout, the view on screen, filter and sort, and
the services that feed it; views post messages up and it sets data down.

Its keys are its own bindings (and each view's), so a dialog pushed on top silences them all.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Input
from textual.worker import Worker, WorkerState

from skytui.tui import actions, gpus, messages
from skytui.tui.actions import CLUSTERS, COSTS, EVENTS, GPUS, VIEWS
from skytui.tui.loader import ALL_VIEWS, Snapshot
from skytui.tui.services import ProviderRefresh, StoreFeed, TelemetryFeed, WatcherHost
from skytui.tui.views import VIEW_CLASSES, DashboardContext, TableView
from skytui.tui.views.gpus import GpusView
from skytui.tui.widgets.bars import KeyBar, StatusLine, SummaryBar
from skytui.tui.widgets.resource_table import ResourceTable

if TYPE_CHECKING:
    from skytui.tui.model import Row

log = logging.getLogger("skytui.tui")


class DashboardScreen(Screen[None]):
    view: reactive[str] = reactive(CLUSTERS, init=False)

    @classmethod
    @functools.cache
    def for_mode(cls, read_only: bool) -> type[DashboardScreen]:
        """The screen's class with keys bound for the mode: what changes things is not bound when read-only."""
        return type(cls.__name__, (cls,), {"BINDINGS": actions.screen_bindings(read_only)})

    def __init__(self, ctx: DashboardContext, feed: StoreFeed, providers: ProviderRefresh | None,
                 telemetry: TelemetryFeed | None, watcher: WatcherHost | None, first: Snapshot | None) -> None:
        super().__init__()
        self.ctx = ctx
        self.feed = feed
        self.providers = providers
        self.telemetry_feed = telemetry
        self.watcher = watcher
        self.snapshot: Snapshot | None = None
        self.snapshots_applied = 0
        self.telemetry: gpus.Telemetry | None = None
        self.rows: dict[str, dict[str, Row]] = {}
        self.stale: set[str] = set()  # views whose rows changed since their table last drew them
        self._gpu_cluster_rows: dict[str, Row] = {}
        self.telemetry_state = ("waiting for the first sample" if telemetry is not None
                                else "GPU telemetry is off")
        self._first = first

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield SummaryBar()
        # Only the first view is built now; the others on first visit (a faster first frame).
        with ContentSwitcher(initial=CLUSTERS, id="views"):
            yield self._make_view(CLUSTERS)
        yield Input(placeholder="filter: text or regex; cluster:NAME / job:ID for one column",
                    id="filter", classes="hidden")
        yield StatusLine()
        yield KeyBar()

    def _make_view(self, view: str) -> TableView:
        return VIEW_CLASSES[view].for_mode(self.ctx.read_only)(self.ctx)

    def view_widget(self, view: str) -> TableView:
        """The view's widget, built on its first visit."""
        found = self.query(f"#{view}")
        if found:
            return found.first(TableView)
        widget = self._make_view(view)
        self.query_one(ContentSwitcher).mount(widget)
        return widget

    def table(self, view: str) -> ResourceTable:
        return self.view_widget(view).table

    @property
    def status_line(self) -> StatusLine:
        return self.query_one(StatusLine)

    def on_mount(self) -> None:
        self.table(CLUSTERS).focus()
        self.status_line.say("read-only: actions that change things are off" if self.ctx.read_only else "ready")
        if self._first is not None:
            first, self._first = self._first, None
            self.on_snapshot_ready(messages.SnapshotReady(first))
        self.run_worker(self.feed.run(self.post_message), name="reading the state store", group="store",
                        exclusive=True, exit_on_error=False)
        # What the first frame does not show starts after it (their imports alone take a while).
        self.call_after_refresh(self._start_background_work)

    def _start_background_work(self) -> None:
        if not self.app.is_running:
            return
        if self.providers is not None:
            self.run_worker(self.providers.run(self.post_message), name="provider refresh", group="providers",
                            exclusive=True, exit_on_error=False)
        if self.watcher is not None:
            self.run_worker(self.watcher.run(self.post_message), name="the in-app watcher", group="watcher",
                            exclusive=True, exit_on_error=False)

    # -- data down -----------------------------------------------------------------------------
    def on_snapshot_ready(self, msg: messages.SnapshotReady) -> None:
        snap = msg.snapshot
        self.snapshot = snap
        self.snapshots_applied += 1
        if self.snapshots_applied == 1 and self.telemetry_feed is not None:
            # After the first frame with data: sampling's imports never delay it.
            self.call_after_refresh(self._start_telemetry)
        for view in snap.views & ALL_VIEWS:
            rows = getattr(snap, view)
            if rows is None:
                continue
            if view == GPUS:
                self._gpu_cluster_rows = rows
                rows = gpus.merge(rows, self.telemetry)
            self.rows[view] = rows
            self.stale.add(view)
        self.show_current()

    def _start_telemetry(self) -> None:
        if self.telemetry_feed is not None and self.app.is_running:
            self.run_worker(self.telemetry_feed.run(self.post_message), name="GPU telemetry", group="telemetry",
                            exclusive=True, exit_on_error=False)

    def on_telemetry_round(self, msg: messages.TelemetryRound) -> None:
        self.telemetry = t = msg.telemetry
        idle = ", ".join(f"{name} ({n})" for name, n in sorted(t.idle.items()))
        if idle:
            state = f"GPUs idle 15m+ while billing on {idle}: select its row and press x to stop the cluster"
        elif t.totals.gpus:
            interval = self.telemetry_feed.interval if self.telemetry_feed is not None else 0
            state = f"GPU telemetry every {interval:g}s over SSH"
        else:
            state = "no GPUs read yet: nodes without NVIDIA telemetry say so on their row"
        self.telemetry_state = state
        if self.snapshot is not None:
            self.rows[GPUS] = gpus.merge(self._gpu_cluster_rows, t)
            self.stale.add(GPUS)
        self.show_current()

    def show_current(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        fleet = self.telemetry.totals.line() if self.telemetry is not None else ""
        budget = self.ctx.core.config.budget
        self.query_one(SummaryBar).show(snap.summary, dict(VIEWS)[self.view], fleet, budget.hourly_usd,
                                        budget.monthly_usd)
        widget = self.view_widget(self.view)
        if isinstance(widget, GpusView):
            widget.telemetry, widget.telemetry_state = self.telemetry, self.telemetry_state
        if self.view in self.stale and self.view in self.rows:
            self.stale.discard(self.view)
            widget.show(self.rows[self.view], snap)
        widget.show_extras(snap)

    # -- messages up ------------------------------------------------------------------------------
    def on_note(self, msg: messages.Note) -> None:
        self.status_line.say(msg.text, msg.state)
        if msg.notify_user or msg.state == "error":
            self.notify(msg.text, severity="error" if msg.state == "error" else "information", timeout=8,
                        markup=False)
        if msg.state != "busy":
            self.feed.wake()

    def on_run_core(self, msg: messages.RunCore) -> None:
        if msg.label != "cost report":  # the export dialog's answer already said where it writes
            self.status_line.say(f"{msg.label}…", "busy")
        self.run_worker(msg.make(), name=msg.label, description=msg.done, group="actions", exit_on_error=False)

    def on_cost_grouping(self, msg: messages.CostGrouping) -> None:
        self.feed.cost_by = msg.by
        self.feed.forget(COSTS)
        self.feed.wake()

    def on_show_events(self, msg: messages.ShowEvents) -> None:
        self.view = EVENTS
        self._set_filter(msg.pattern)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's end becomes a status line: a core operation's result, or a failure."""
        worker = event.worker
        if event.state == WorkerState.SUCCESS and worker.group == "actions":
            self.post_message(messages.Note(worker.description, "ok", notify=True))
        elif event.state == WorkerState.ERROR:
            self.post_message(messages.Note(describe_failure(worker), "error", notify=True))

    # -- views, filter, sort, width --------------------------------------------------------------
    def action_show_view(self, view: str) -> None:
        if view in VIEW_CLASSES:
            self.view = view

    def watch_view(self, view: str) -> None:
        widget = self.view_widget(view)
        self.query_one(ContentSwitcher).current = view
        self.feed.view = view
        if self.feed.is_stale(view):
            self.feed.wake()  # this view's rows are older than the store: read them now
        self.call_after_refresh(widget.table.focus)
        widget.table.focus()
        self.show_current()
        flt = self.query_one("#filter", Input)
        flt.value = widget.table.pattern
        flt.set_class(not widget.table.pattern, "hidden")

    def action_filter(self) -> None:
        flt = self.query_one("#filter", Input)
        flt.remove_class("hidden")
        flt.value = self.table(self.view).pattern
        flt.focus()

    def _set_filter(self, pattern: str) -> None:
        table = self.table(self.view)
        table.set_filter(pattern)
        flt = self.query_one("#filter", Input)
        flt.value = pattern
        flt.set_class(not pattern, "hidden")
        table.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table(self.view).set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.input.set_class(not event.value, "hidden")
        self.table(self.view).focus()

    def action_clear_filter(self) -> None:
        self._set_filter("")

    def action_sort_next(self) -> None:
        t = self.table(self.view)
        current = -1 if t.sort_column is None else t.sort_column
        t.sort_by((current + 1) % len(t.spec), reverse=False)
        self._say_sort(t)

    def action_sort_reverse(self) -> None:
        t = self.table(self.view)
        t.sort_by(0 if t.sort_column is None else t.sort_column, reverse=not t.reverse)
        self._say_sort(t)

    @on(ResourceTable.HeaderSelected)
    def _header_clicked(self, event: ResourceTable.HeaderSelected) -> None:
        event.table.sort_by(event.column_index)
        self._say_sort(event.table)

    def _say_sort(self, t: ResourceTable) -> None:
        if t.sort_column is not None:
            self.status_line.say(f"sorted by {t.spec[t.sort_column].label}{' (reversed)' if t.reverse else ''}")

    def action_toggle_wide(self) -> None:
        wide = not self.table(self.view).wide
        for table in self.query(ResourceTable):
            table.wide = wide
        self.status_line.say("every column shown" if wide else "columns fit the width (w: every column)")

    def restyle(self) -> None:
        for table in self.query(ResourceTable):
            table.restyle()

    # -- what makes new things -------------------------------------------------------------------
    def action_new_dev(self) -> None:
        from skytui.core.dev import dev_task, launch_dev
        from skytui.tui.screens.new_dev import DevRequest, NewDevScreen

        core = self.ctx.core

        def go(req: DevRequest | None) -> None:
            if req is not None:
                task = dev_task(req.name, req.gpus, req.spot, req.cloud, req.region)
                self.post_message(messages.RunCore(f"launching {req.name}", lambda: launch_dev(
                    core, req.name, task, autostop_minutes=req.autostop_minutes),
                                                   f"dev VM {req.name} is UP: press s to open a shell"))

        self.app.push_screen(NewDevScreen(core, free_dev_name(core), core.config.autostop_idle_minutes), go)

    def action_launch_task(self) -> None:
        from skytui.core.clusters import LaunchOptions, launch
        from skytui.tui.screens.launch_task import LaunchRequest, LaunchTaskScreen

        core = self.ctx.core

        def go(req: LaunchRequest | None) -> None:
            if req is not None:
                self.post_message(messages.RunCore(
                    f"launching {req.cluster}",
                    lambda: launch(core, req.cluster, req.task, LaunchOptions(detach_run=True)),
                    f"{req.cluster} launched from {req.path.name}"))

        self.app.push_screen(LaunchTaskScreen(core, self.ctx.cwd), go)

    def action_demo(self) -> None:
        from skytui.core.demo import start_demo

        core = self.ctx.core
        self.post_message(messages.RunCore("starting the demo fleet", lambda: start_demo(core),
                                           "the demo fleet is up"))

    def start_demo_preemptions(self) -> None:
        import asyncio

        from skytui.core.demo import preempt_demo_job

        self.run_worker(preempt_demo_job(self.ctx.core, asyncio.Event()), name="demo preemptions", group="demo",
                        exclusive=True, exit_on_error=False)

    def action_help(self) -> None:
        from skytui.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self.ctx.read_only))


def describe_failure(worker: Worker[Any]) -> str:
    """A worker's error as one line: our typed errors as they are, anything else by type (the log has more)."""
    from skytui.errors import SkytuiError

    error = worker.error
    log.error("%s failed", worker.name, exc_info=error)
    if isinstance(error, SkytuiError):
        return f"{worker.name}: {error}"
    return f"{worker.name} failed: {type(error).__name__}: {error} (details in the log)"


def free_dev_name(core: Any) -> str:
    """`dev-<user>-<n>`, the first n no cluster has."""
    from skytui.store import current_user

    slug = "".join(ch if ch.isalnum() else "-" for ch in current_user().lower()).strip("-") or "me"
    base = f"dev-{slug}" if slug[:1].isalpha() else "dev"
    taken = {c.name for c in core.store.clusters()}
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"[:63]
