"""Messages between the dashboard's parts: services and views post them up, the screen handles them.

Module-level classes (not nested in a widget), so any part may post them without importing
the widget that handles them. Their handlers are `on_<snake_case_name>`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.message import Message

from skytui.tui import gpus
from skytui.tui.loader import Snapshot


class SnapshotReady(Message):
    """The store feed read the views it was asked for."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


class TelemetryRound(Message):
    """A GPU telemetry round, formatted in the sampling worker."""

    def __init__(self, telemetry: gpus.Telemetry) -> None:
        super().__init__()
        self.telemetry = telemetry


class Note(Message):
    """A line for the status bar (and a notification when it is an error)."""

    def __init__(self, text: str, state: str = "ok", notify: bool = False) -> None:
        super().__init__()
        self.text, self.state, self.notify_user = text, state, notify


class RunCore(Message):
    """Run a core operation in a worker: `label` while it runs, `done` when it succeeded."""

    def __init__(self, label: str, make: Callable[[], Awaitable[Any]], done: str) -> None:
        super().__init__()
        self.label, self.make, self.done = label, make, done


class CostGrouping(Message):
    """The Costs view now groups by `by`: read its rows again."""

    def __init__(self, by: str) -> None:
        super().__init__()
        self.by = by


class ShowEvents(Message):
    """Show the Events view filtered by `pattern` (from a cluster's or a job's row)."""

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern = pattern
