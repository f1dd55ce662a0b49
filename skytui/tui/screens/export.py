"""Export the cost report: choose a format and a path (a dated file in the working directory by default)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from skytui.tui.costs import default_export_path, export_formats
from skytui.tui.screens.form import FormScreen


@dataclass(frozen=True)
class ExportRequest:
    choice: str  # a key of costs.export_formats() (a `cost-report --format` flag)
    path: Path


class ExportScreen(FormScreen[ExportRequest | None]):
    """Dismisses with the format and an absolute path, or None when cancelled."""

    def __init__(self, cwd: Path, now: float, by: str) -> None:
        super().__init__()
        self.cwd, self.now, self.by = cwd, now, by
        self._default = self._path_for("csv")

    def _path_for(self, choice: str) -> str:
        return f"./{default_export_path(Path('.'), choice, self.now).name}"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Export the cost report (by {self.by}, last 30 days)", classes="dialog-title")
            yield Select([(label, flag) for flag, (label, _, _) in export_formats().items()],
                         value="csv", allow_blank=False, id="format")
            yield Static(f"Path (relative to {self.cwd}):", classes="dialog-body", markup=False)
            yield Input(self._default, id="path")
            yield Static("", id="problem", classes="dialog-problem", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        path = self.query_one("#path", Input)
        # Follow the format only while the path is still our suggestion, never over the user's own.
        if path.value == self._default and isinstance(event.value, str):
            self._default = path.value = self._path_for(event.value)

    def _submit(self) -> None:
        text = self.query_one("#path", Input).value.strip()
        if not text:
            self.query_one("#problem", Static).update("path: give a file name, e.g. " + self._default)
            return
        path = Path(text).expanduser()
        choice = self.query_one("#format", Select).value
        self.dismiss(ExportRequest(str(choice), path if path.is_absolute() else self.cwd / path))
