"""What every view shares: its table, the selected row, and the row actions several views offer.

A view's keys come from the one action registry (skytui.tui.actions); `for_mode` makes the
view class for read-only or writable use, so keys that change things are not bound at all
when read-only rather than bound and refused.
"""

from __future__ import annotations

import functools
import logging
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from skytui.tui import actions, messages, model
from skytui.tui.widgets.resource_table import ResourceTable

if TYPE_CHECKING:
    from skytui.core.context import Core
    from skytui.tui.loader import Snapshot

log = logging.getLogger("skytui.tui")


@dataclass
class DashboardContext:
    """What views need of the app: the core and the session's settings (no widgets)."""

    core: Core
    read_only: bool
    clock: Callable[[], float]
    cwd: Path
    ssh_command: tuple[str, ...] = ()  # run this instead of a login shell (scripts, tests)
    last_ssh: tuple[list[str], int] | None = field(default=None)


class TableView(Vertical):
    """A view: its table and whatever it shows above it."""

    VIEW: ClassVar[str]
    COLUMNS: ClassVar[tuple[model.Column, ...]]
    SORT_COLUMN: ClassVar[int | None] = 0
    REVERSE: ClassVar[bool] = False

    @classmethod
    @functools.cache
    def for_mode(cls, read_only: bool) -> type[TableView]:
        """This view's class with its keys bound for the mode (same name, so CSS and queries match)."""
        return type(cls.__name__, (cls,), {"BINDINGS": actions.view_bindings(cls.VIEW, read_only)})

    def __init__(self, ctx: DashboardContext) -> None:
        super().__init__(id=self.VIEW, classes="view")
        self.ctx = ctx
        # Built now, not at mount: the screen may set rows down before the view is mounted.
        self.table = ResourceTable(self.COLUMNS, sort_column=self.SORT_COLUMN, reverse=self.REVERSE,
                                   id=f"table-{self.VIEW}")
        self.hints: dict[str, Static] = {}

    def compose(self) -> ComposeResult:
        for widget in self.above():
            if isinstance(widget, Static) and widget.id:
                self.hints[widget.id] = widget
            yield widget
        yield self.table

    def above(self) -> Iterable[Widget]:
        """Widgets shown above the table (hints, charts)."""
        return ()

    def show(self, rows: dict[str, model.Row], snap: Snapshot) -> None:
        """The screen sets new rows down (only when they changed since this view last drew them)."""
        self.table.show(rows)

    def show_extras(self, snap: Snapshot) -> None:
        """Redraw what sits beside the table (each time the view is shown or data arrives)."""

    # -- the selected row -----------------------------------------------------------------------
    @property
    def core(self) -> Core:
        return self.ctx.core

    def selected(self) -> str | None:
        return self.table.selected_key

    def selected_cluster(self) -> str | None:
        """The cluster the selected row is about (a cluster, a job's cluster, a GPU's cluster)."""
        key = self.selected()
        if key is None:
            self.notify("nothing selected", severity="warning", markup=False)
            return None
        return self.cluster_of(key)

    def cluster_of(self, key: str) -> str | None:
        return key

    def up_cluster(self, name: str) -> Any:
        c = self.core.store.cluster(name)
        if c is None or c.status == "TERMINATED":
            self.notify(f"cluster {name} is gone", severity="warning", markup=False)
            return None
        if c.status != "UP":
            self.notify(f"cluster {name} is {c.status}; start it first (r)", severity="warning", markup=False)
            return None
        return c

    def say(self, text: str, state: str = "ok", notify: bool = False) -> None:
        self.post_message(messages.Note(text, state, notify))

    def run_core(self, label: str, make: Callable[[], Any], done: str) -> None:
        self.post_message(messages.RunCore(label, make, done))

    # -- actions several views offer (bound by the views that list them in the registry) --------
    def action_ssh(self) -> None:
        name = self.selected_cluster()
        if name is None or self.up_cluster(name) is None:
            return
        from textual.app import SuspendNotSupported

        from skytui.core.context import ssh_dir

        argv = ["ssh", "-F", str(ssh_dir() / "config"), name, *self.ctx.ssh_command]
        try:
            with self.app.suspend():
                rc = subprocess.run(argv, check=False).returncode
        except SuspendNotSupported:
            self.notify("this terminal cannot hand over to ssh; run `skytui ssh NAME`", severity="error")
            return
        except FileNotFoundError:
            self.notify("OpenSSH's `ssh` is not installed; install openssh-client", severity="error")
            return
        self.ctx.last_ssh = (argv, rc)
        if rc == 255:
            self.say(f"ssh {name}: could not connect (exit 255)", "error", notify=True)
        else:
            self.say(f"back from ssh {name} (exit {rc})")

    def action_logs(self) -> None:
        from skytui.paths import log_dir
        from skytui.tui.screens.logs import LogScreen

        core = self.core
        name = self.selected_cluster()
        if name is None:
            return
        cluster = self.up_cluster(name)
        if cluster is None:
            return

        async def source(emit: Callable[[str], None]) -> None:
            from skytui.core.logs import stream_cluster_job

            await stream_cluster_job(core, cluster, None, follow=True, on_output=lambda text, _s: emit(text))

        self.app.push_screen(LogScreen(f"logs of {name} (newest job)", source, log_dir() / "saved", slug=name))

    def action_events_for(self) -> None:
        key = self.selected()
        if key is not None:
            self.post_message(messages.ShowEvents(self.events_filter(key)))

    def events_filter(self, key: str) -> str:
        return f"cluster:{key}"

    def action_stop(self) -> None:
        from skytui.core import clusters
        from skytui.tui.screens.confirm import ConfirmScreen

        c = self.stop_target()
        if c is None:
            return
        why = self.stop_reason(c.name)
        body = (f"{why}Running jobs on {c.name} end and its memory is lost; its disks are kept (they cost a "
                f"little while stopped). It stops billing {model.money(c.price_per_hour)} $/h for compute.")

        def go(yes: bool | None) -> None:
            if yes:
                self.run_core(f"stopping {c.name}", lambda: clusters.stop(self.core, c.name), f"{c.name} stopped")

        self.app.push_screen(ConfirmScreen(f"Stop {c.name}?", body, yes="Stop"), go)

    def stop_target(self) -> Any:
        return None

    def stop_reason(self, cluster: str) -> str:
        return ""
