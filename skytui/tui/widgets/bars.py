"""The header line (fleet summary), the status line (what the app is doing, what failed) and the key bar."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.events import Click, Resize
from textual.widget import Widget
from textual.widgets import Static

from skytui.tui.model import Part, Summary, fit_header


class SummaryBar(Static):
    """clusters up · GPUs in use · spend $/h · jobs running/recovering · who is watching.

    Laid out for the width it has: figures narrow, then the least needed goes (model.fit_header).
    """

    def __init__(self) -> None:
        super().__init__("loading…", id="summary", markup=False)
        self.summary: Summary | None = None
        self.title = ""
        self.parts: list[Part] = []
        self.text = ""

    def show(self, summary: Summary, view_title: str, gpus: str = "", budget: float | None = None,
             monthly: float | None = None) -> None:
        """`gpus`: the fleet's GPU figures from telemetry, when it has read any; `budget` / `monthly`:
        the spend guard ($/h, USD this month)."""
        over = (budget is not None and summary.spend_per_hour > budget) or (
            monthly is not None and summary.month_spend is not None and summary.month_spend > monthly)
        self.set_class(over, "over-budget")
        self.summary, self.title = summary, view_title
        self.parts = summary.parts(gpus, budget, monthly)
        self.lay_out()

    def lay_out(self) -> None:
        text = fit_header(self.title, self.parts, self.size.width or 10_000) if self.parts else ""
        if text and text != self.text:  # an unchanged header costs no refresh (a snapshot every second)
            self.text = text
            self.update(text)

    def on_resize(self, _event: Resize) -> None:
        self.lay_out()


class StatusLine(Static):
    """One line: the last progress message or error; `state` is a CSS class (ok, busy, error)."""

    def __init__(self) -> None:
        super().__init__("", id="status-line", markup=False)
        self.state = "ok"
        self.text = ""

    def say(self, text: str, state: str = "ok") -> None:
        if state != self.state:
            self.remove_class(f"-{self.state}")
            self.add_class(f"-{state}")
            self.state = state
        if text != self.text:
            self.text = text
            self.update(text)


class KeyBar(Widget):
    """The footer: the keys that work on this screen now, on one line.

    One widget drawing one line of text, where Textual's Footer builds a widget per key
    and rebuilds them all on every focus change (that cost the first frame ~250 ms).
    Keys come from the screen's active bindings, so `check_action` hides keys that do
    not apply to the view and dims the ones that are off (read-only); a click on a
    key presses it.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"keybar--key", "keybar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        & > .keybar--key {
            color: $footer-key-foreground;
            text-style: bold;
        }
        & > .keybar--description {
            color: $footer-description-foreground;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__(id="keys")
        self._spans: list[tuple[int, int, str]] = []  # (first cell, end cell, key) as last drawn

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, lambda _screen: self.refresh())

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def keys(self) -> list[tuple[str, str, str, bool]]:
        """(key, shown as, description, enabled) of each key to show."""
        app = self.app
        keys: list[tuple[str, str, str, bool]] = []
        seen: set[str] = set()
        for _node, binding, enabled, _tip in self.screen.active_bindings.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                keys.append((binding.key, app.get_key_display(binding), binding.description, enabled))
        return keys

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key", partial=True)
        text_style = self.get_component_rich_style("keybar--description", partial=True)
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        spans: list[tuple[int, int, str]] = []
        for key, shown, description, enabled in self.keys():
            dim = Style(dim=not enabled)
            start = line.cell_len
            line.append(f" {shown} ", key_style + dim)
            line.append(f"{description} ", text_style + dim)
            spans.append((start, line.cell_len, key))
        self._spans = spans
        return line

    def on_click(self, event: Click) -> None:
        """A click on a key presses it (as the key itself would: disabled ones are refused)."""
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
