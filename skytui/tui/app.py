"""The dashboard app: theme, wiring and the quit hand-off.

Everything on screen is the DashboardScreen's (skytui.tui.dashboard): its views, its
keys, the services that feed it. The app builds them from the session's settings, keeps the
theme, offers the command palette, and at quit offers to hand running jobs to the daemon.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Console
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from skytui.tui import actions, model
from skytui.tui.actions import VIEWS
from skytui.tui.dashboard import DashboardScreen
from skytui.tui.loader import Loader
from skytui.tui.services import ProviderRefresh, StoreFeed, TelemetryFeed, WatcherHost
from skytui.tui.themes import DEFAULT_THEME, load_themes
from skytui.tui.views import DashboardContext

if TYPE_CHECKING:
    from skytui.core.context import Core
    from skytui.core.telemetry.sampler import Sampler
    from skytui.tui import costs, gpus
    from skytui.tui.loader import Snapshot
    from skytui.tui.widgets.bars import StatusLine
    from skytui.tui.widgets.resource_table import ResourceTable

log = logging.getLogger("skytui.tui")
Clock = Callable[[], float]


class _LogFile(io.StringIO):
    """Where Textual prints a crash: into our log file (whole), never onto the user's terminal."""

    def flush(self) -> None:
        text = self.getvalue()
        if text.strip():
            log.error("unhandled error in the dashboard:\n%s", text)
        self.seek(0)
        self.truncate()


class SkytuiApp(App[int]):
    """Reads go through a loader in worker threads; actions go through the core in async workers."""

    CSS_PATH = "app.tcss"
    TITLE = "skytui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit_app", "Quit", show=False)]  # also from dialogs that do not take q

    def __init__(self, core: Core, *, read_only: bool = False, theme_name: str | None = None,
                 clock: Clock = time.time, store_poll_seconds: float = 1.0,
                 provider_refresh_seconds: float | None = None, watch: bool = True,
                 cwd: Path | None = None, demo: bool = False, telemetry: bool = True,
                 sampler: Sampler | None = None) -> None:
        super().__init__()
        from skytui.store import Store

        # A bug of ours: its traceback goes to the log file (Textual prints crashes to this console).
        self.error_console = Console(file=_LogFile(), markup=False, highlight=False, width=120,
                                     color_system=None)
        self.core = core
        self.read_only = read_only
        self.clock = clock
        self.demo = demo and not read_only
        self.ctx = DashboardContext(core, read_only, clock, cwd or Path.cwd())
        # The UI reads through its own connection, so PRAGMA data_version sees every writer,
        # our own actions included.
        self.feed = StoreFeed(Loader(Store(core.store.db.path, clock)), clock, store_poll_seconds)
        self.feed.loader.monthly_budget = core.config.budget.monthly_usd  # the header's spend guard
        seconds = core.config.provider_refresh_seconds if provider_refresh_seconds is None \
            else provider_refresh_seconds
        self.providers = ProviderRefresh(core, seconds) if seconds and seconds > 0 else None
        self.telemetry_feed = TelemetryFeed(core, sampler, read_only) if telemetry or sampler else None
        self.watcher = WatcherHost(core) if watch and not read_only else None
        loaded = load_themes()
        self.theme_problems = loaded.problems
        for theme in loaded.themes.values():
            self.register_theme(theme)
        wanted = theme_name or core.config.theme or DEFAULT_THEME
        self.theme_missing = wanted if wanted not in self.available_themes else None
        self.theme = wanted if self.theme_missing is None else (
            DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark")
        # Read before the screen opens, so that its first frame has data.
        self.dashboard = DashboardScreen.for_mode(read_only)(
            self.ctx, self.feed, self.providers, self.telemetry_feed, self.watcher, self.feed.first())

    def get_default_screen(self) -> Screen[Any]:
        return self.dashboard

    def on_mount(self) -> None:
        for problem in self.theme_problems:
            self.notify(problem, title="Theme skipped", severity="warning", timeout=10)
        if self.theme_missing:
            names = ", ".join(sorted(n for n in self.available_themes if n.startswith("skytui")))
            self.notify(f"no theme named {self.theme_missing!r}; using {self.theme} (have: {names})",
                        title="Theme", severity="warning")
        self.theme_changed_signal.subscribe(self, lambda _theme: self.dashboard.restyle())
        self.core.listeners.append(self._on_progress)
        if self.demo:
            self.call_after_refresh(self._start_demo)

    def _start_demo(self) -> None:
        if self.is_running:
            self.dashboard.action_demo()
            self.dashboard.start_demo_preemptions()

    def _on_progress(self, p: Any) -> None:
        from skytui.tui.messages import Note

        if p.stage == "notify":  # an alert that could not be delivered: the user must hear of it
            self.dashboard.post_message(Note(f"alerts: {p.message}", "error"))
            return
        if p.stage == "telemetry":  # a node's telemetry note (said once per change): news, not work
            self.dashboard.post_message(Note(f"GPU telemetry: {p.message}"))
            return
        where = f"{p.cluster}: " if p.cluster else (f"job {p.job_id}: " if p.job_id else "")
        self.dashboard.post_message(Note(f"{where}{p.message}", "busy"))

    def notify(self, message: str, *, markup: bool = False, **kw: Any) -> None:
        # Our messages carry paths, YAML excerpts and remote errors: never read them as markup.
        super().notify(message, markup=markup, **kw)

    # -- what tests and benchmarks read (the dashboard holds it) ----------------------------------
    def table(self, view: str) -> ResourceTable:
        return self.dashboard.table(view)

    @property
    def main_screen(self) -> DashboardScreen:
        return self.dashboard

    @property
    def status_line(self) -> StatusLine:
        return self.dashboard.status_line

    @property
    def view(self) -> str:
        return self.dashboard.view

    @property
    def snapshot(self) -> Snapshot | None:
        return self.dashboard.snapshot

    @property
    def snapshots_applied(self) -> int:
        return self.dashboard.snapshots_applied

    @property
    def telemetry(self) -> gpus.Telemetry | None:
        return self.dashboard.telemetry

    @property
    def cost_view(self) -> costs.CostView | None:
        from skytui.tui.views.costs import CostsView

        found = self.dashboard.query(CostsView)
        return found.first().cost_view if found else None

    @property
    def loader(self) -> Loader:
        return self.feed.loader

    @property
    def provider_delay(self) -> float:
        return self.providers.delay if self.providers is not None else 0.0

    @property
    def ssh_command(self) -> tuple[str, ...]:
        return self.ctx.ssh_command

    @ssh_command.setter
    def ssh_command(self, argv: tuple[str, ...]) -> None:
        self.ctx.ssh_command = argv

    @property
    def last_ssh(self) -> tuple[list[str], int] | None:
        return self.ctx.last_ssh

    # -- quit ----------------------------------------------------------------------------------------
    def watcher_is_ours(self) -> bool:
        return self.watcher is not None and self.watcher.is_ours()

    async def action_quit_app(self) -> None:
        if self.screen is not self.dashboard:
            self.pop_screen()
            return
        from skytui.tui.screens.confirm import ConfirmScreen

        active = self.core.store.jobs(statuses=model.ACTIVE_JOB - {"CANCELLING"})
        if not active or not self.watcher_is_ours():
            self._stop_services()
            self.exit(0)
            return
        kind = "spot " if all(j.spot for j in active) else "managed "
        question = f"{len(active)} {kind}job(s) are running: keep watching them in the background?"

        async def go(yes: bool | None) -> None:
            if yes:
                await self._stop_watcher()
                problem = await hand_to_daemon()
                if problem:
                    self.notify(problem, severity="error")
                    return
            self._stop_services()
            self.exit(0)

        self.push_screen(ConfirmScreen(question, "The daemon (skytui --daemon) recovers them from preemptions "
                                       "while this app is closed. No: they run unwatched until you come back.",
                                       yes="Keep watching", no="Just quit", danger=False), go)

    async def _stop_watcher(self) -> None:
        """Stop the in-app watcher and wait for it, so the daemon can take its lock."""
        import asyncio

        if self.watcher is None:
            return
        self.watcher.stop()
        for w in self.dashboard.workers:
            if w.group == "watcher":
                try:
                    await asyncio.wait_for(w.wait(), timeout=10)
                except Exception:  # noqa: BLE001  # a watcher that will not stop: cancel it
                    w.cancel()

    def _stop_services(self) -> None:
        if self.telemetry_feed is not None:
            self.telemetry_feed.stop()

    # -- the command palette ------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if screen is not self.dashboard:
            return
        dashboard = self.dashboard
        for view, title in VIEWS:
            yield SystemCommand(f"View: {title}", f"show the {title} view",
                                lambda v=view: dashboard.action_show_view(v))
        # Every key bound where the focus is now: the screen's and the view's own.
        bound = {b.action: node for node, b, enabled, _tip in screen.active_bindings.values() if enabled}
        for a in actions.ACTIONS:
            node = bound.get(a.bound_to)
            if node is None or a.name.startswith(("show_view", "command_palette")):
                continue
            yield SystemCommand(f"{a.title} ({actions.shown_key(a)})", a.help,
                                lambda n=node, name=a.bound_to: self.run_action(name, n))
        for name in sorted(self.available_themes):
            if name.startswith("skytui"):
                yield SystemCommand(f"Theme: {name}", "switch to this theme",
                                    lambda n=name: setattr(self, "theme", n))


async def hand_to_daemon() -> str | None:
    """Start `skytui --daemon` (it takes the watcher lock we just released); a problem, or None.

    The one daemon starter the CLI uses too (skytui.core.daemon_start), in a thread.
    """
    import asyncio

    from skytui.core.daemon_start import start_daemon
    from skytui.errors import SkytuiError

    try:
        await asyncio.to_thread(start_daemon)
    except SkytuiError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001  # an OS error starting Python: say it, do not crash the quit
        return f"could not start the daemon: {exc}; run `skytui --daemon` yourself"
    return None
