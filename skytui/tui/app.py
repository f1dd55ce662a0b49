"""The dashboard: views over the store, live refresh, and one-key actions on the selected row.

The app is split by job: live data (app_live), background watchers (app_workers), actions on the
selected row (app_actions) and launches (app_launch) are mixins of SkytuiApp; this module keeps
the app itself: its messages, layout, views, notes and command palette.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher, DataTable, Input, Static

from skytui.tui import actions, costs, gpus, model
from skytui.tui.actions import CLUSTERS, COSTS, EVENTS, GPUS, JOBS, VIEWS
from skytui.tui.app_actions import RowActions, cancel_managed_job
from skytui.tui.app_launch import Launching, launch_dev
from skytui.tui.app_live import CLOCK_TICK_S, REFRESH_BACKOFF_MAX_S, LiveData
from skytui.tui.app_workers import Watchers, describe_watcher
from skytui.tui.loader import Loader, Snapshot
from skytui.tui.themes import DEFAULT_THEME, load_themes
from skytui.tui.widgets.bars import KeyBar, StatusLine, SummaryBar
from skytui.tui.widgets.resource_table import ResourceTable

if TYPE_CHECKING:
    from skytui.core.context import Core, Progress
    from skytui.core.telemetry.sampler import Sampler

# Names that lived here before the split; callers and tests still import them from this module.
__all__ = ["CLOCK_TICK_S", "EMPTY_HINT", "REFRESH_BACKOFF_MAX_S", "TABLES", "SkytuiApp",
           "cancel_managed_job", "describe_watcher", "hand_to_daemon", "launch_dev"]

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


class SkytuiApp(LiveData, Watchers, RowActions, Launching, App[int]):
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
        self.loader.monthly_budget = core.config.budget.monthly_usd  # the header's spend guard
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

    # -- notes, progress, errors -------------------------------------------------------------------
    def _on_progress(self, p: Progress) -> None:
        if p.stage == "notify":  # an alert that could not be delivered: the user must hear of it
            self.post_message(self.Note(f"alerts: {p.message}", "error"))
            return
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

    # -- help and quit ------------------------------------------------------------------------------
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


def hand_to_daemon() -> str | None:
    """Start `skytui --daemon` (it takes the watcher lock we just released); a problem, or None."""
    try:
        subprocess.Popen([sys.executable, "-m", "skytui.cli.main", "--daemon"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                         env=dict(os.environ))
    except OSError as exc:
        return f"could not start the daemon: {exc}; run `skytui --daemon` yourself"
    return None

