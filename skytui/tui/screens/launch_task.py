"""Launch a task file: pick a *.yaml, see the dry-run plan and its prices, then confirm."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from skytui.tui.screens.form import FormScreen

if TYPE_CHECKING:
    from skytui.core.context import Core

PLAN_ROWS = 6


@dataclass(frozen=True)
class LaunchRequest:
    path: Path
    cluster: str
    task: Any  # skytui.task.spec.Task, already loaded and checked


def task_files(cwd: Path) -> list[Path]:
    """*.yaml / *.yml in the working dir and its examples/ folder, in that order."""
    found: list[Path] = []
    for d in (cwd, cwd / "examples"):
        if d.is_dir():
            found += sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return found


def plan_preview(core: Core, path: Path) -> tuple[Any, str]:
    """Load the task and describe its plan: the cheapest regions first, nothing launched."""
    from skytui.core.launcher import make_plan
    from skytui.core.planner import best_per_region
    from skytui.task import load_task

    task = load_task(str(path))
    plan = make_plan(core, task)
    if not plan.candidates:
        why = "; ".join(f"{c}: {w}" for c, w in sorted(plan.not_enabled.items()))
        plan.require()  # raises the planner's own explanation
        raise ValueError(why or "no candidate")
    lines = [f"{task.name or path.stem}: {task.num_nodes} node(s), cheapest first"]
    for c in best_per_region(plan)[:PLAN_ROWS]:
        gpus = f"{c.accelerator}:{c.accelerator_count}" if c.accelerator else "no GPU"
        lines.append(f"  {c.cloud}/{c.region}/{c.zone}  {c.instance_type}  {gpus}  "
                     f"{'spot ' if c.spot else ''}${c.price_per_hour:.2f}/h")
    lines.append(f"{len(plan.candidates)} candidate(s) in all; the first is tried first.")
    return task, "\n".join(lines)


class LaunchTaskScreen(FormScreen[LaunchRequest | None]):
    """Choosing a file loads and plans it in a worker; Launch confirms."""

    class Planned(Message):
        def __init__(self, path: Path, task: Any, text: str, error: str | None) -> None:
            super().__init__()
            self.path, self.task, self.text, self.error = path, task, text, error

    def __init__(self, core: Core, cwd: Path) -> None:
        super().__init__()
        self.core, self.cwd = core, cwd
        self.files = task_files(cwd)
        self.planned: tuple[Path, Any] | None = None
        self.chosen: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Launch a task file", classes="dialog-title")
            if self.files:
                yield OptionList(*(Option(self._label(p), id=str(i)) for i, p in enumerate(self.files)),
                                 id="files")
            else:
                yield Static(f"No *.yaml in {self.cwd} or its examples/ folder.", classes="dialog-body")
            yield Static("Pick a file to see its plan.", id="plan", classes="dialog-body", markup=False)
            yield Label("Cluster name")
            yield Input("", id="cluster", placeholder="e.g. train-1")
            yield Static("", id="problem", classes="dialog-problem")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Launch", id="ok", variant="primary", disabled=True)
                yield Button("Cancel", id="cancel")

    def _label(self, p: Path) -> str:
        try:
            return str(p.relative_to(self.cwd))
        except ValueError:
            return str(p)

    def on_mount(self) -> None:
        if self.files:
            self.query_one("#files", OptionList).focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._choose(event.option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id is None:
            return
        path = self.files[int(option_id)]
        self.chosen = path
        self.query_one("#plan", Static).update(f"planning {self._label(path)}…")
        self.query_one("#ok", Button).disabled = True
        self.plan(path)

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False)
    def plan(self, path: Path) -> None:
        try:
            task, text = plan_preview(self.core, path)
            self.post_message(self.Planned(path, task, text, None))
        except Exception as exc:  # noqa: BLE001 - a bad task file is the user's to fix: show it, don't crash
            self.post_message(self.Planned(path, None, "", str(exc)))

    def on_launch_task_screen_planned(self, msg: Planned) -> None:
        if msg.path != self.chosen:
            return  # a plan for a file the user has already moved past
        plan = self.query_one("#plan", Static)
        if msg.error:
            plan.update(msg.error)
            self.planned = None
            return
        plan.update(msg.text)
        self.planned = (msg.path, msg.task)
        name_input = self.query_one("#cluster", Input)
        if not name_input.value:
            name_input.value = (msg.task.name or msg.path.stem).lower().replace("_", "-")
        self.query_one("#ok", Button).disabled = False

    def _submit(self) -> None:
        from skytui.errors import SkytuiError
        from skytui.names import validate_name

        if self.planned is None:
            self.query_one("#problem", Static).update("pick a task file whose plan has a candidate first")
            return
        name = self.query_one("#cluster", Input).value.strip()
        try:
            validate_name(name)
        except SkytuiError as exc:
            self.query_one("#problem", Static).update(str(exc))
            return
        path, task = self.planned
        self.dismiss(LaunchRequest(path, name, task))
