"""Asks the clouds what runs, one round at a time; failures wait longer (the core's Backoff)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message

from skytui.tui import messages

if TYPE_CHECKING:
    from skytui.core.context import Core

log = logging.getLogger("skytui.tui")
REFRESH_BACKOFF_MAX_S = 600.0


class ProviderRefresh:
    def __init__(self, core: Core, seconds: float) -> None:
        self.core = core
        self.seconds = seconds
        self.delay = seconds  # the wait before the next round (it grows on errors)

    async def run(self, post: Callable[[Message], object]) -> None:
        from skytui.core.refresh import refresh_all
        from skytui.core.watcher.strategy import Backoff

        base = float(self.seconds or 30.0)
        backoff = Backoff(base * 2, REFRESH_BACKOFF_MAX_S)
        self.delay = base
        while True:
            await asyncio.sleep(self.delay)
            try:
                rec = await refresh_all(self.core)
            except Exception as exc:
                self.delay = backoff.next_delay()
                log.warning("provider refresh failed: %s", exc, exc_info=True)
                post(messages.Note(f"provider refresh failed: {exc}; next try in {self.delay:.0f}s",
                                   "error", notify=True))
                continue
            if rec.errors:
                self.delay = backoff.next_delay()
                where = ", ".join(f"{c}/{r}" for c, r in sorted(rec.errors))
                post(messages.Note(f"could not list {where}; next try in {self.delay:.0f}s", "error"))
                continue
            backoff.reset()
            self.delay = base
            if rec.preempted or rec.lost:
                names = ", ".join(rec.preempted + rec.lost)
                post(messages.Note(f"lost nodes: {names}", "error", notify=True))
