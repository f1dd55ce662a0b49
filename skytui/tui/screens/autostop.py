"""Set a cluster's autostop: idle minutes, and whether to stop or tear down."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from skytui.tui.screens.form import FormScreen


@dataclass(frozen=True)
class AutostopChoice:
    minutes: int  # 0 turns autostop off
    down: bool


class AutostopScreen(FormScreen[AutostopChoice | None]):
    """Dismisses with the choice, or None when cancelled."""

    def __init__(self, cluster: str, minutes: int | None, down: bool) -> None:
        super().__init__()
        self.cluster, self.minutes, self.down = cluster, minutes, down

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Autostop for {self.cluster}", classes="dialog-title")
            yield Static("Idle minutes before it stops (0 turns autostop off):", classes="dialog-body")
            yield Input(str(self.minutes or 0), id="minutes", type="integer")
            yield Checkbox("Tear down instead of stopping (disks are deleted)", self.down, id="down")
            yield Static("", id="problem", classes="dialog-problem")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Set", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#minutes", Input).focus()

    def _submit(self) -> None:
        text = self.query_one("#minutes", Input).value.strip() or "0"
        try:
            minutes = int(text)
        except ValueError:
            minutes = -1
        if minutes < 0:
            self.query_one("#problem", Static).update("minutes: a whole number, 0 or more")
            return
        self.dismiss(AutostopChoice(minutes, self.query_one("#down", Checkbox).value))
