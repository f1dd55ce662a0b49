"""Every key, from the one action registry, grouped by where it works."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from skytui.tui.actions import ACTIONS, ALL, VIEWS, shown_key


class HelpScreen(ModalScreen[None]):
    """A table of keys; any of escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, read_only: bool) -> None:
        super().__init__()
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Label("Keys", classes="dialog-title")
            table: DataTable[Text] = DataTable(id="help-table", cursor_type="none", zebra_stripes=True)
            table.add_columns("KEY", "ACTION", "WHERE", "WHAT IT DOES")
            titles = dict(VIEWS)
            for a in ACTIONS:
                where = "everywhere" if a.views == ALL else ", ".join(titles[v] for v in sorted(a.views))
                note = " (off: read-only)" if a.mutates and self.read_only else ""
                table.add_row(Text(shown_key(a)), Text(a.title), Text(where), Text(a.help + note))
            table.add_row(Text("ctrl+p"), Text("Palette"), Text("everywhere"),
                          Text("every action, view and theme by name"))
            yield table
            yield Static("Filters are case-insensitive regexes; `cluster:NAME` or `job:ID` match one column.",
                         classes="dialog-body")

    def action_close(self) -> None:
        self.dismiss(None)
