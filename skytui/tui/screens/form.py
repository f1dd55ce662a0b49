"""The plumbing every form dialog shares: Enter or OK submits, Cancel or Escape closes."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Button, Input

R = TypeVar("R")


class FormScreen(ModalScreen[R]):
    """A modal form; subclasses validate in `_submit` and dismiss with their result."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def _submit(self) -> None:
        """Check the fields and dismiss with the result, or show what is wrong (subclasses)."""
        self.dismiss(None)

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
