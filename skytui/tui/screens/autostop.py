"""Set a cluster's autostop: idle minutes, and whether to stop or tear down."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static


@dataclass(frozen=True)
class AutostopChoice:
    minutes: int  # 0 turns autostop off
    down: bool


class AutostopScreen(ModalScreen[AutostopChoice | None]):
    """Dismisses with the choice, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

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

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
