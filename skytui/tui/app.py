"""The dashboard: views over the store, live refresh, and one-key actions on the selected row."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher, DataTable, Input, Static

from skytui.tui import actions, costs, gpus, model
from skytui.tui.actions import CLUSTERS, COSTS, EVENTS, GPUS, JOBS, VIEWS
from skytui.tui.loader import ALL_VIEWS, Loader, Snapshot, watcher_label
from skytui.tui.themes import DEFAULT_THEME, load_themes
from skytui.tui.widgets.bars import KeyBar, StatusLine, SummaryBar
from skytui.tui.widgets.resource_table import ResourceTable

if TYPE_CHECKING:
    from skytui.core.context import Core, Progress
    from skytui.core.telemetry.sampler import Sampler

log = logging.getLogger("skytui.tui")
Clock = Callable[[], float]

TABLES: dict[str, tuple[tuple[model.Column, ...], int | None, bool]] = {
    CLUSTERS: (model.CLUSTER_COLUMNS, 0, False),
    JOBS: (model.JOB_COLUMNS, 0, False),
    EVENTS: (model.EVENT_COLUMNS, None, False),  # arrival order: newest at the bottom, like a log
    COSTS: (model.COST_COLUMNS, 3, True),
    GPUS: (model.GPU_COLUMNS, None, False),  # clusters, each followed by its nodes and GPUs
}
EMPTY_HINT = ("No clusters yet. Press n for a dev VM, L to launch a task file, or D to start the demo "
              "fleet (two dev VMs and a spot job on the local cloud).")
REFRESH_BACKOFF_MAX_S = 600.0
CLOCK_TICK_S = 30.0  # uptimes and durations have minute resolution: redraw them this often


class SkytuiApp(App[int]):
    """Reads go through a loader in worker threads; actions go through the core in async workers."""

    CSS_PATH = "app.tcss"
    TITLE = "skytui"
    BINDINGS = actions.bindings()
    ENABLE_COMMAND_PALETTE = True

    class SnapshotReady(Message):
        def __init__(self, snapshot: Snapshot) -> None:
            super().__init__()
            self.snapshot = snapshot

    class GpusSampled(Message):
        """A telemetry round, formatted in the sampling worker."""

        def __init__(self, telemetry: gpus.Telemetry) -> None:
            super().__init__()
            self.telemetry = telemetry

    class Note(Message):
        """A line for the status bar (and a notification when it is an error)."""

        def __init__(self, text: str, state: str = "ok", notify: bool = False) -> None:
            super().__init__()
            self.text, self.state, self.notify_user = text, state, notify

    def __init__(self, core: Core, *, read_only: bool = False, theme_name: str | None = None,
                 clock: Clock = time.time, store_poll_seconds: float = 1.0,
                 provider_refresh_seconds: float | None = None, watch: bool = True,
                 cwd: Path | None = None, demo: bool = False, telemetry: bool = True,
                 sampler: Sampler | None = None) -> None:
        super().__init__()
        from skytui.store import Store

        self.core = core
        self.read_only = read_only
        self.clock = clock
        self.store_poll_seconds = store_poll_seconds
        self.provider_refresh_seconds = (core.config.provider_refresh_seconds
                                         if provider_refresh_seconds is None else provider_refresh_seconds)
        self.run_in_app_watcher = watch and not read_only
        self.cwd = cwd or Path.cwd()
        self.demo = demo and not read_only
        # The UI reads through its own connection, so PRAGMA data_version sees every writer,
        # our own actions included.
        self.loader = Loader(Store(core.store.db.path, clock))
        self.view = CLUSTERS
        self.snapshot: Snapshot | None = None
        self.snapshots_applied = 0
        self.ssh_command: tuple[str, ...] = ()  # run this instead of a login shell (scripts, tests)
        self.last_ssh: tuple[list[str], int] | None = None
        self._wake = asyncio.Event()
        self._stale: set[str] = set()
        self.rows: dict[str, dict[str, model.Row]] = {}
        self.cost_by = "cluster"
        self.cost_view: costs.CostView | None = None
        # GPU telemetry: the sampler runs while the app is open (tests hand in one fed by a fake transport).
        self.telemetry_on = telemetry or sampler is not None
        self.sampler = sampler
        self.telemetry: gpus.Telemetry | None = None
        self.telemetry_state = "GPU telemetry is off" if not self.telemetry_on else "waiting for the first sample"
        self._gpu_cluster_rows: dict[str, model.Row] = {}
        self._telemetry_stop: asyncio.Event | None = None
        self._spark_cache: gpus.SparkCache = {}
        self._loaded_at: dict[str, int] = {}  # data_version each view was last loaded at
        self._version: int | None = None
        self.provider_delay = 0.0  # the wait before the next provider round (it grows on errors)
        self._watcher_stop: Any = None
        loaded = load_themes()
        self.theme_problems = loaded.problems
        for theme in loaded.themes.values():
            self.register_theme(theme)
        wanted = theme_name or core.config.theme or DEFAULT_THEME
        self._theme_missing = wanted if wanted not in self.available_themes else None
        self.theme = wanted if self._theme_missing is None else (
            DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark")
        self._first_snapshot = self._read_first()

    def _read_first(self) -> Snapshot | None:
        """The first snapshot, read before the screen opens so that its first frame has data.

        Every later read runs in a worker (store_loop); a failure here is left to it to report.
        """
        try:
            return self.loader.load(self.clock(), self._watcher_text(), frozenset({CLUSTERS}), self.cost_by)
        except Exception:
            log.exception("first read of the store failed")
            return None

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield SummaryBar()
        with ContentSwitcher(initial=CLUSTERS, id="views"):
            for view in TABLES:
                # Only the first view is built now; the others on first visit (a faster first frame).
                with Vertical(id=view, classes="view"):
                    if view == CLUSTERS:
                        yield from self._view_widgets(view)
        yield Input(placeholder="filter: text or regex; cluster:NAME / job:ID for one column",
                    id="filter", classes="hidden")
        yield StatusLine()
        yield KeyBar()

    def _view_widgets(self, view: str) -> Iterable[Widget]:
        columns, sort_column, reverse = TABLES[view]
        if view == CLUSTERS:
            yield Static(EMPTY_HINT, id="empty-hint", classes="hint hidden", markup=False)
        if view == COSTS:
            yield Static("", id="cost-title", classes="hint", markup=False)
            yield Static("", id="cost-figures", classes="hint", markup=False)
            yield Static("", id="cost-chart", markup=False)
        if view == GPUS:
            yield Static(self.telemetry_state, id="gpu-hint", classes="hint", markup=False)
        yield ResourceTable(columns, sort_column=sort_column, reverse=reverse, id=f"table-{view}")

    def _ensure_view(self, view: str) -> None:
        container = self.main_screen.query_one(f"#{view}", Vertical)
        if not container.children:
            container.mount_all(list(self._view_widgets(view)))

    def on_mount(self) -> None:
        for problem in self.theme_problems:
            self.notify(problem, title="Theme skipped", severity="warning", timeout=10)
        if self._theme_missing:
            names = ", ".join(sorted(n for n in self.available_themes if n.startswith("skytui")))
            self.notify(f"no theme named {self._theme_missing!r}; using {self.theme} (have: {names})",
                        title="Theme", severity="warning")
        self.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())
        self.core.listeners.append(self._on_progress)
        self.table(CLUSTERS).focus()
        self.status_line.say("read-only: actions that change things are off" if self.read_only else "ready")
        if self._first_snapshot is not None:
            first, self._first_snapshot = self._first_snapshot, None
            self._loaded_at[CLUSTERS] = first.version
            self.on_skytui_app_snapshot_ready(self.SnapshotReady(first))
        self.store_loop()
        # What the first frame does not show starts after it (their imports alone take a while).
        self.call_after_refresh(self._start_background_work)

    def _start_background_work(self) -> None:
        if self._exit:
            return
        if self.provider_refresh_seconds and self.provider_refresh_seconds > 0:
            self.provider_loop()
        if self.run_in_app_watcher:
            self.start_watcher()
        if self.demo:
            self.action_demo()
            self.demo_preempter()

    @property
    def main_screen(self) -> Screen[Any]:
        """The dashboard's own screen: dialogs on top must not hide its widgets from us."""
        return self.screen_stack[0]

    @property
    def status_line(self) -> StatusLine:
        return self.main_screen.query_one(StatusLine)

    def table(self, view: str) -> ResourceTable:
        return self.main_screen.query_one(f"#table-{view}", ResourceTable)

    # -- live data ------------------------------------------------------------------------------
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

    def on_skytui_app_snapshot_ready(self, msg: SnapshotReady) -> None:
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

    def on_skytui_app_gpus_sampled(self, msg: GpusSampled) -> None:
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
        self.main_screen.query_one(SummaryBar).show(snap.summary, title, fleet)
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

    # -- the in-app watcher ------------------------------------------------------------------------
    def start_watcher(self) -> None:
        try:
            from skytui.core import watcher  # noqa: F401
        except ImportError:
            return
        self.run_watcher_worker()

    @work(group="watcher", exclusive=True, exit_on_error=False)
    async def run_watcher_worker(self) -> None:
        import inspect

        from skytui.core.watcher import run_watcher

        self._watcher_stop = asyncio.Event()

        def on_status(status: Any) -> None:
            self.post_message(self.Note(describe_watcher(status)))

        try:
            result = run_watcher(self.core, kind="app", stop_event=self._watcher_stop, on_status=on_status)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            log.exception("watcher stopped")
            self.post_message(self.Note(f"the in-app watcher stopped: {exc}", "error", notify=True))

    async def stop_watcher(self) -> None:
        if self._watcher_stop is not None:
            self._watcher_stop.set()
        for w in self.workers:
            if w.group == "watcher":
                try:
                    await asyncio.wait_for(w.wait(), timeout=10)
                except Exception:
                    w.cancel()

    # -- GPU telemetry ------------------------------------------------------------------------------
    @work(group="telemetry", exclusive=True, exit_on_error=False)
    async def telemetry_loop(self) -> None:
        """Sample every UP node's GPUs until the app closes; a failure is a status-line state, then a retry."""
        from skytui.core.telemetry.sampler import Sampler

        self._telemetry_stop = stop = asyncio.Event()
        delay = 0.0
        while not stop.is_set():
            try:
                if self.sampler is None:
                    self.sampler = Sampler(self.core)
                sampler = self.sampler
                if sampler.latest:  # a sampler with readings already (a restart, a test): show them now
                    self._post_round(sampler)
                await sampler.run(stop, self._on_round)
            except Exception as exc:  # any failure is a state on the status line, then a retry
                delay = min(max(delay * 2, self._sample_interval()), REFRESH_BACKOFF_MAX_S)
                log.exception("GPU telemetry failed")
                self.post_message(self.Note(f"GPU telemetry failed: {exc}; next try in {delay:.0f}s", "error"))
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                except asyncio.TimeoutError:
                    pass

    def _on_round(self, _snapshots: object) -> None:
        if self.sampler is not None:
            self._post_round(self.sampler)

    def _post_round(self, sampler: Sampler) -> None:
        # Runs in the sampling worker: format the rows there, hand them over as a message.
        sampler.record_minutes = self._records_gpu_minutes()
        now = self.core.clock()
        view = gpus.telemetry_view(sampler.latest.values(), sampler.history, sampler.idle(now=now), now,
                                   cache=self._spark_cache)
        self.post_message(self.GpusSampled(view))

    def _records_gpu_minutes(self) -> bool:
        """Per-minute history goes to the store from one process: the daemon when it watches, else us."""
        if self.read_only:
            return False
        try:
            from skytui.core.watcher import lock_holder

            holder = lock_holder()
        except Exception:  # noqa: BLE001  # an unreadable lock file: keep our own history
            return True
        return holder is None or getattr(holder, "kind", None) != "daemon"

    def stop_telemetry(self) -> None:
        if self._telemetry_stop is not None:
            self._telemetry_stop.set()

    # -- notes, progress, errors -------------------------------------------------------------------
    def _on_progress(self, p: Progress) -> None:
        if p.stage == "telemetry":  # a node's telemetry note (said once per change): news, not work
            self.post_message(self.Note(f"GPU telemetry: {p.message}"))
            return
        where = f"{p.cluster}: " if p.cluster else (f"job {p.job_id}: " if p.job_id else "")
        self.post_message(self.Note(f"{where}{p.message}", "busy"))

    def on_skytui_app_note(self, msg: Note) -> None:
        if self._widgets_gone():
            log.info("after close: %s", msg.text)
            return
        self.status_line.say(msg.text, msg.state)
        if msg.notify_user or msg.state == "error":
            self.notify(msg.text, severity="error" if msg.state == "error" else "information", timeout=8)
        if msg.state != "busy":
            self.request_refresh()

    def _handle_exception(self, error: Exception) -> None:
        # A bug of ours: the traceback goes to the log file, never onto the user's terminal.
        log.error("unhandled error in the dashboard", exc_info=error)
        super()._handle_exception(error)

    def _print_error_renderables(self) -> None:
        self._exit_renderables.clear()

    def notify(self, message: str, *, markup: bool = False, **kw: Any) -> None:  # type: ignore[override]
        # Our messages carry paths, YAML excerpts and remote errors: never read them as markup.
        super().notify(message, markup=markup, **kw)

    # -- views, filter, sort --------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Textual: False hides a binding (and blocks it), None shows it dimmed (and blocks it).
        a = actions.lookup(action)
        if a is None:
            return True
        if self._dialog_open() and action != "quit_app":
            return False  # dialogs and the log screen own their keys
        if self.view not in a.views:
            return False
        if a.mutates and self.read_only:
            return None
        return True

    def _dialog_open(self) -> bool:
        from textual.command import CommandPalette

        return any(not isinstance(s, CommandPalette) for s in self.screen_stack[1:])

    def action_show_view(self, view: str) -> None:
        if view not in TABLES or self._dialog_open():
            return
        self.view = view
        self._ensure_view(view)
        self.main_screen.query_one(ContentSwitcher).current = view
        table = self.table(view)
        table.focus()
        if self._loaded_at.get(view) != self._version:
            self.request_refresh()  # this view's rows are older than the store: read them now
        self._show_current()
        flt = self.main_screen.query_one("#filter", Input)
        flt.value = table.pattern
        flt.set_class(not table.pattern, "hidden")
        self.refresh_bindings()

    def action_filter(self) -> None:
        flt = self.main_screen.query_one("#filter", Input)
        flt.remove_class("hidden")
        flt.value = self.table(self.view).pattern
        flt.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table(self.view).set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.input.set_class(not event.value, "hidden")
        self.table(self.view).focus()

    def action_clear_filter(self) -> None:
        flt = self.main_screen.query_one("#filter", Input)
        flt.value = ""
        flt.add_class("hidden")
        self.table(self.view).set_filter("")
        self.table(self.view).focus()

    def action_sort_next(self) -> None:
        t = self.table(self.view)
        current = -1 if t.sort_column is None else t.sort_column
        t.sort_by((current + 1) % len(t.spec), reverse=False)
        self._say_sort(t)

    def action_sort_reverse(self) -> None:
        t = self.table(self.view)
        t.sort_by(0 if t.sort_column is None else t.sort_column, reverse=not t.reverse)
        self._say_sort(t)

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        t = self.table(self.view)
        t.sort_by(event.column_index)
        self._say_sort(t)

    def _say_sort(self, t: ResourceTable) -> None:
        if t.sort_column is not None:
            self.status_line.say(f"sorted by {t.spec[t.sort_column].label}{' (reversed)' if t.reverse else ''}")

    # -- the selected row ---------------------------------------------------------------------------------
    def selected(self) -> str | None:
        return self.table(self.view).selected_key

    def selected_cluster(self) -> str | None:
        key = self.selected()
        if key is None:
            self.notify("nothing selected", severity="warning")
            return None
        if self.view == CLUSTERS:
            return key
        if self.view == GPUS:  # rows are clusters, nodes and GPUs: each names its cluster
            return self.table(GPUS).cell_text(key, "cluster")
        if self.view == JOBS:
            job = self.core.store.job(int(key))
            if job is None or not job.cluster:
                self.notify(f"job {key} has no cluster right now", severity="warning")
                return None
            return job.cluster
        return None

    def _up_cluster(self, name: str) -> Any:
        c = self.core.store.cluster(name)
        if c is None or c.status == "TERMINATED":
            self.notify(f"cluster {name} is gone", severity="warning")
            return None
        if c.status != "UP":
            self.notify(f"cluster {name} is {c.status}; start it first (r)", severity="warning")
            return None
        return c

    # -- actions ---------------------------------------------------------------------------------------------
    def ssh_argv(self, name: str) -> list[str]:
        from skytui.core.context import ssh_dir

        return ["ssh", "-F", str(ssh_dir() / "config"), name, *self.ssh_command]

    def action_ssh(self) -> None:
        name = self.selected_cluster()
        if name is None or self._up_cluster(name) is None:
            return
        from textual.app import SuspendNotSupported

        argv = self.ssh_argv(name)
        try:
            with self.suspend():
                rc = subprocess.run(argv, check=False).returncode
        except SuspendNotSupported:
            self.notify("this terminal cannot hand over to ssh; run `skytui ssh NAME`", severity="error")
            return
        except FileNotFoundError:
            self.notify("OpenSSH's `ssh` is not installed; install openssh-client", severity="error")
            return
        self.last_ssh = (argv, rc)
        if rc == 255:
            self.post_message(self.Note(f"ssh {name}: could not connect (exit 255)", "error", notify=True))
        else:
            self.status_line.say(f"back from ssh {name} (exit {rc})")

    def action_logs(self) -> None:
        from skytui.paths import log_dir
        from skytui.tui.screens.logs import LogScreen

        core = self.core
        if self.view == JOBS:
            key = self.selected()
            if key is None:
                return
            job_id = int(key)

            async def job_source(emit: Callable[[str], None]) -> None:
                from skytui.core.jobs import stream_job_logs

                await stream_job_logs(core, job_id, follow=True, on_output=lambda text, _s: emit(text))

            self.push_screen(LogScreen(f"logs of managed job {job_id} (every attempt)", job_source,
                                       log_dir() / "saved", slug=f"job-{job_id}"))
            return
        name = self.selected_cluster()
        if name is None:
            return
        cluster = self._up_cluster(name)
        if cluster is None:
            return

        async def source(emit: Callable[[str], None]) -> None:
            from skytui.core.logs import stream_cluster_job

            await stream_cluster_job(core, cluster, None, follow=True, on_output=lambda text, _s: emit(text))

        self.push_screen(LogScreen(f"logs of {name} (newest job)", source, log_dir() / "saved",
                                   slug=name))

    def _run_core(self, label: str, make: Callable[[], Awaitable[Any]], done: str) -> None:
        self.status_line.say(f"{label}…", "busy")
        self._core_worker(label, make, done)

    @work(group="actions", exit_on_error=False)
    async def _core_worker(self, label: str, make: Callable[[], Awaitable[Any]], done: str) -> None:
        from skytui.errors import SkytuiError

        try:
            await make()
        except SkytuiError as exc:
            self.post_message(self.Note(f"{label}: {exc}", "error", notify=True))
        except Exception as exc:
            log.exception("%s failed", label)
            self.post_message(self.Note(f"{label} failed: {type(exc).__name__}: {exc} (details in the log)",
                                        "error", notify=True))
        else:
            self.post_message(self.Note(done, "ok", notify=True))

    def _cluster_row(self) -> Any:
        if self.view != CLUSTERS:
            return None
        key = self.selected()
        c = self.core.store.cluster(key) if key else None
        if c is None:
            self.notify("select a cluster first", severity="warning")
        return c

    def action_stop(self) -> None:
        from skytui.core import clusters
        from skytui.tui.screens.confirm import ConfirmScreen

        c = self._gpu_cluster() if self.view == GPUS else self._cluster_row()
        if c is None:
            return
        idle = self.telemetry.idle.get(c.name, 0) if self.telemetry is not None else 0
        why = f"{idle} of its GPUs have been idle for 15 minutes or more. " if idle else ""
        body = (f"{why}Running jobs on {c.name} end and its memory is lost; its disks are kept (they cost a "
                f"little while stopped). It stops billing {model.money(c.price_per_hour)} $/h for compute.")

        def go(yes: bool | None) -> None:
            if yes:
                self._run_core(f"stopping {c.name}", lambda: clusters.stop(self.core, c.name), f"{c.name} stopped")

        self.push_screen(ConfirmScreen(f"Stop {c.name}?", body, yes="Stop"), go)

    def _gpu_cluster(self) -> Any:
        name = self.selected_cluster()
        return self._up_cluster(name) if name is not None else None

    def action_cost_grouping(self) -> None:
        self.cost_by = costs.next_grouping(self.cost_by)
        table = self.table(COSTS)
        # Days read best in calendar order; every other grouping by cost, highest first.
        table.sort_column, table.reverse = (0, False) if self.cost_by == "day" else (3, True)
        self._loaded_at.pop(COSTS, None)
        self.status_line.say(f"costs grouped by {self.cost_by}")
        self.request_refresh()

    def action_export_costs(self) -> None:
        from skytui.tui.screens.export import ExportRequest, ExportScreen

        by = self.cost_by

        def go(req: ExportRequest | None) -> None:
            if req is not None:
                self.status_line.say(f"writing the cost report to {req.path}…", "busy")
                self._export_worker(req.choice, req.path, by)

        self.push_screen(ExportScreen(self.cwd, self.clock(), by), go)

    @work(group="export", thread=True, exit_on_error=False)
    def _export_worker(self, choice: str, path: Path, by: str) -> None:
        from skytui.errors import SkytuiError
        from skytui.store import Store

        store = Store(self.core.store.db.path, self.clock)  # this thread's own connection
        try:
            costs.write_export(store, self.clock(), by, choice, path)
        except SkytuiError as exc:
            self.post_message(self.Note(f"cost report: {exc}", "error", notify=True))
        except Exception as exc:
            log.exception("cost export failed")
            self.post_message(self.Note(f"cost report failed: {type(exc).__name__}: {exc} (details in the log)",
                                        "error", notify=True))
        else:
            self.post_message(self.Note(f"cost report ({choice}, by {by}) written to {path}", notify=True))
        finally:
            store.close()

    def action_start(self) -> None:
        from skytui.core import clusters

        c = self._cluster_row()
        if c is not None:
            self._run_core(f"starting {c.name}", lambda: clusters.start(self.core, c.name), f"{c.name} is UP")

    def action_down(self) -> None:
        from skytui.core import clusters
        from skytui.tui.screens.confirm import ConfirmScreen

        c = self._cluster_row()
        if c is None:
            return
        running = [j for j in self.core.store.cluster_jobs(c.name) if j.status == "RUNNING"]
        body = (f"Its {c.num_nodes} node(s) and their disks are deleted, with everything on them that was "
                f"not synced elsewhere (checkpoints, installed packages, home directories)"
                f"{f'; {len(running)} running job(s) end' if running else ''}. This cannot be undone.")

        def go(yes: bool | None) -> None:
            if yes:
                self._run_core(f"tearing down {c.name}", lambda: clusters.down(self.core, c.name),
                               f"{c.name} torn down")

        self.push_screen(ConfirmScreen(f"Tear down {c.name}?", body, yes="Tear down"), go)

    def action_autostop(self) -> None:
        from skytui.core import clusters
        from skytui.errors import SkytuiError
        from skytui.tui.screens.autostop import AutostopChoice, AutostopScreen

        c = self._cluster_row()
        if c is None:
            return

        def go(choice: AutostopChoice | None) -> None:
            if choice is None:
                return
            try:
                clusters.set_autostop(self.core, c.name, choice.minutes, choice.down)
            except SkytuiError as exc:
                self.notify(str(exc), severity="error")
                return
            what = "off" if not choice.minutes else \
                f"{'tear down' if choice.down else 'stop'} after {choice.minutes} idle minutes"
            self.post_message(self.Note(f"autostop for {c.name}: {what}", notify=True))

        self.push_screen(AutostopScreen(c.name, c.autostop_minutes, bool(c.autostop_down)), go)

    def action_cancel_job(self) -> None:
        from skytui.tui.screens.confirm import ConfirmScreen

        key = self.selected() if self.view == JOBS else None
        job = self.core.store.job(int(key)) if key else None
        if job is None:
            self.notify("select a managed job first", severity="warning")
            return
        if job.status in model.ACTIVE_JOB - {"CANCELLING"}:
            body = (f"Job {job.id} ({job.name}) stops; its cluster{f' {job.cluster}' if job.cluster else ''} "
                    f"is torn down and progress not checkpointed is lost.")
        else:
            self.notify(f"job {job.id} is {job.status}: nothing to cancel", severity="warning")
            return

        def go(yes: bool | None) -> None:
            if yes:
                self._run_core(f"cancelling job {job.id}", lambda: cancel_managed_job(self.core, job.id),
                               f"job {job.id} cancelled")

        self.push_screen(ConfirmScreen(f"Cancel job {job.id}?", body, yes="Cancel job"), go)

    def action_events_for(self) -> None:
        key = self.selected()
        if key is None:
            return
        pattern = f"cluster:{key}" if self.view == CLUSTERS else f"job:{key}"
        self.action_show_view(EVENTS)
        self.table(EVENTS).set_filter(pattern)
        flt = self.main_screen.query_one("#filter", Input)
        flt.value = pattern
        flt.remove_class("hidden")
        self.table(EVENTS).focus()

    def action_new_dev(self) -> None:
        from skytui.tui.screens.new_dev import DevRequest, NewDevScreen

        def go(req: DevRequest | None) -> None:
            if req is not None:
                self._run_core(f"launching {req.name}", lambda: launch_dev(self.core, req),
                               f"dev VM {req.name} is UP: press s to open a shell")

        cfg = self.core.config
        self.push_screen(NewDevScreen(self.core, self._free_dev_name(), cfg.autostop_idle_minutes), go)

    def _free_dev_name(self) -> str:
        from skytui.store import current_user

        slug = "".join(ch if ch.isalnum() else "-" for ch in current_user().lower()).strip("-") or "me"
        base = f"dev-{slug}" if slug[:1].isalpha() else "dev"
        taken = {c.name for c in self.core.store.clusters()}
        n = 1
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"[:63]

    def action_launch_task(self) -> None:
        from skytui.core.clusters import LaunchOptions, launch
        from skytui.tui.screens.launch_task import LaunchRequest, LaunchTaskScreen

        def go(req: LaunchRequest | None) -> None:
            if req is not None:
                self._run_core(f"launching {req.cluster}",
                               lambda: launch(self.core, req.cluster, req.task, LaunchOptions(detach_run=True)),
                               f"{req.cluster} launched from {req.path.name}")

        self.push_screen(LaunchTaskScreen(self.core, self.cwd), go)

    def action_demo(self) -> None:
        from skytui.core.demo import start_demo

        self._run_core("starting the demo fleet", lambda: start_demo(self.core), "the demo fleet is up")

    @work(group="demo", exclusive=True, exit_on_error=False)
    async def demo_preempter(self) -> None:
        from skytui.core.demo import preempt_demo_job

        stop = asyncio.Event()
        try:
            await preempt_demo_job(self.core, stop)
        except Exception as exc:
            log.exception("demo preemptions stopped")
            self.post_message(self.Note(f"demo preemptions stopped: {exc}", "error"))

    def action_help(self) -> None:
        from skytui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.read_only))

    def action_quit_app(self) -> None:
        if len(self.screen_stack) > 1:
            self.pop_screen()
            return
        from skytui.tui.screens.confirm import ConfirmScreen

        active = [j for j in self.core.store.jobs(statuses=model.ACTIVE_JOB - {"CANCELLING"})]
        if not active or not self._watcher_is_ours():
            self.stop_telemetry()
            self.exit(0)
            return
        kind = "spot " if all(j.spot for j in active) else "managed "
        question = f"{len(active)} {kind}job(s) are running: keep watching them in the background?"

        async def go(yes: bool | None) -> None:
            if yes:
                await self.stop_watcher()
                problem = hand_to_daemon()
                if problem:
                    self.notify(problem, severity="error")
                    return
            self.stop_telemetry()
            self.exit(0)

        self.push_screen(ConfirmScreen(question, "The daemon (skytui --daemon) recovers them from preemptions "
                                       "while this app is closed. No: they run unwatched until you come back.",
                                       yes="Keep watching", no="Just quit", danger=False), go)

    def _watcher_is_ours(self) -> bool:
        return self._watcher_stop is not None and watcher_label() == "this app"

    # -- the command palette ------------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if screen is not self.screen_stack[0]:
            return
        for view, title in VIEWS:
            yield SystemCommand(f"View: {title}", f"show the {title} view",
                                lambda v=view: self.action_show_view(v))
        for a in actions.ACTIONS:
            method = actions.method_name(a)
            if method in ("show_view", "command_palette") or self.check_action(method, ()) is not True:
                continue
            yield SystemCommand(f"{a.title} ({actions.shown_key(a)})", a.help,
                                lambda m=method: getattr(self, f"action_{m}")())
        for name in sorted(self.available_themes):
            if name.startswith("skytui"):
                yield SystemCommand(f"Theme: {name}", "switch to this theme",
                                    lambda n=name: setattr(self, "theme", n))


def describe_watcher(status: Any) -> str:
    role = getattr(status, "role", str(status))
    if role == "active":
        return f"watcher: this app recovers spot jobs ({getattr(status, 'jobs_watched', 0)} watched)"
    if role == "observer":
        holder = getattr(status, "holder", None)
        return f"watcher: {holder.describe() if holder else 'another process'} recovers spot jobs"
    return f"watcher: {role}"


async def launch_dev(core: Core, req: Any) -> Any:
    from skytui.core.clusters import LaunchOptions, launch
    from skytui.tui.screens.new_dev import dev_task

    task = dev_task(req.name, req.gpus, req.spot, req.cloud, req.region)
    return await launch(core, req.name, task, LaunchOptions(
        is_dev=True, autostop_minutes=req.autostop_minutes or None, autostop_down=core.config.autostop_down))


async def cancel_managed_job(core: Core, job_id: int) -> None:
    from skytui.errors import NotAvailableYet

    try:
        from skytui.core import jobs
    except ImportError:
        raise NotAvailableYet("managed jobs are not in this build", "update skytui") from None
    jobs.request_cancel(core, job_id)


def hand_to_daemon() -> str | None:
    """Start `skytui --daemon` (it takes the watcher lock we just released); a problem, or None."""
    try:
        subprocess.Popen([sys.executable, "-m", "skytui.cli.main", "--daemon"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                         env=dict(os.environ))
    except OSError as exc:
        return f"could not start the daemon: {exc}; run `skytui --daemon` yourself"
    return None

