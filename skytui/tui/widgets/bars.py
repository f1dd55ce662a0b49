"""The header line (fleet summary) and the status line (what the app is doing, what failed)."""

from __future__ import annotations

from textual.widgets import Static

from skytui.tui.model import Summary


class SummaryBar(Static):
    """clusters up · GPUs in use · spend $/h · jobs running/recovering · who is watching."""

    def __init__(self) -> None:
        super().__init__("loading…", id="summary", markup=False)
        self.summary: Summary | None = None

    def show(self, summary: Summary, view_title: str, gpus: str = "") -> None:
        """`gpus`: the fleet's GPU figures from telemetry, when it has read any."""
        shown = (summary, view_title, gpus)
        if shown != getattr(self, "_shown", None):
            self.summary, self._shown = summary, shown
            self.update(f" skytui › {view_title} │ {summary.line(gpus)}")


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
