"""Runs the spot-job watcher inside the dashboard while it is open (the daemon's job when it is not)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.message import Message

from skytui.tui import messages
from skytui.tui.loader import watcher_label

if TYPE_CHECKING:
    from skytui.core.context import Core


class WatcherHost:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.stop_event: asyncio.Event | None = None

    async def run(self, post: Callable[[Message], object]) -> None:
        """Fails as its worker: the screen's worker handler says the in-app watcher stopped."""
        from skytui.core.watcher import run_watcher

        self.stop_event = asyncio.Event()

        def post_none(message: Message) -> None:
            post(message)

        result = run_watcher(self.core, kind="app", stop_event=self.stop_event,
                             on_status=lambda status: post_none(messages.Note(describe_watcher(status))))
        if inspect.isawaitable(result):
            await result

    def stop(self) -> None:
        if self.stop_event is not None:
            self.stop_event.set()

    def is_ours(self) -> bool:
        return self.stop_event is not None and watcher_label() == "this app"


def describe_watcher(status: Any) -> str:
    role = getattr(status, "role", str(status))
    if role == "active":
        return f"watcher: this app recovers spot jobs ({getattr(status, 'jobs_watched', 0)} watched)"
    if role == "observer":
        holder = getattr(status, "holder", None)
        return f"watcher: {holder.describe() if holder else 'another process'} recovers spot jobs"
    return f"watcher: {role}"
