"""Reads the store for the view on screen whenever `PRAGMA data_version` moves (and each clock tick)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from textual.message import Message

from skytui.tui import messages
from skytui.tui.loader import CLOCK_TICK_S, Loader, Snapshot, watcher_label

log = logging.getLogger("skytui.tui")
Post = Callable[[Message], object]


class StoreFeed:
    """What to read (the view on screen, the cost grouping) is set by the screen; reads run in a thread."""

    def __init__(self, loader: Loader, clock: Callable[[], float], poll_seconds: float) -> None:
        self.loader = loader
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.view = "clusters"
        self.cost_by = "cluster"
        self.version: int | None = None
        self.loaded_at: dict[str, int] = {}  # data_version each view was last loaded at
        self._wake = asyncio.Event()
        self._last_load = 0.0

    def first(self) -> Snapshot | None:
        """The first snapshot, read before the screen opens so that its first frame has data."""
        try:
            snap = self.loader.load(self.clock(), watcher_label(), frozenset({"clusters"}), self.cost_by)
        except Exception:  # the feed's first round reports it
            log.exception("first read of the store failed")
            return None
        self.loaded_at["clusters"] = snap.version
        self._last_load = time.monotonic()
        return snap

    def wake(self) -> None:
        """Read now instead of at the next tick (after our own actions, a view switch)."""
        self._wake.set()

    def forget(self, view: str) -> None:
        self.loaded_at.pop(view, None)

    def is_stale(self, view: str) -> bool:
        return self.loaded_at.get(view) != self.version

    async def run(self, post: Post) -> None:
        first = not self.loaded_at
        while True:
            try:
                self.version = version = self.loader.version()
                view = self.view
                due = time.monotonic() - self._last_load >= CLOCK_TICK_S
                if self.loaded_at.get(view) != version or due or self._wake.is_set():
                    self._wake.clear()
                    views = frozenset({view, "clusters"}) if first else frozenset({view})
                    by = self.cost_by
                    snap = await asyncio.to_thread(self.loader.load, self.clock(), watcher_label(), views, by)
                    self._last_load = time.monotonic()
                    first = False
                    for v in views:
                        if v != "costs" or by == self.cost_by:  # a `g` while loading: the next load has it
                            self.loaded_at[v] = snap.version
                    post(messages.SnapshotReady(snap))
            except Exception as exc:  # a locked or moved database: say so, keep trying
                log.exception("store refresh failed")
                post(messages.Note(f"reading the state store failed: {exc}", "error"))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except asyncio.TimeoutError:
                pass
