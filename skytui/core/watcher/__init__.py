"""The spot-recovery watcher: one per user acts (lock), inside the app or as the daemon."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from skytui.core.watcher.lock import Holder, WatcherLock, lock_holder, lock_path
from skytui.core.watcher.settings import WatcherSettings

if TYPE_CHECKING:
    from skytui.core.context import Core
    from skytui.core.watcher.loop import StatusFn

__all__ = ["Holder", "WatcherLock", "WatcherSettings", "lock_holder", "lock_path", "run_watcher"]

log = logging.getLogger("skytui.watcher")


async def run_watcher(core: Core, *, kind: str, stop_event: asyncio.Event, on_status: StatusFn | None = None,
                      settings: WatcherSettings | None = None) -> None:
    """Act while we hold the lock; otherwise observe who does, and take over when they leave."""
    from skytui.core.watcher.loop import Watcher, WatcherStatus

    settings = settings or WatcherSettings.from_config(core.config)
    lock = WatcherLock()
    last_seen: Holder | None = None
    while not stop_event.is_set():
        if lock.acquire(kind):
            try:
                me = lock_holder()
                core.progress("watcher", f"watcher started ({kind}, pid {me.pid if me else '?'})", record=False)
                await Watcher(core, settings, on_status=on_status, holder=me).run(stop_event)
            finally:
                lock.release()
            return
        holder = lock_holder()
        if on_status is not None and holder != last_seen:
            on_status(WatcherStatus("observer", holder))
        last_seen = holder
        try:
            await asyncio.wait_for(stop_event.wait(), settings.poll_seconds)
        except asyncio.TimeoutError:
            pass
    if on_status is not None:
        on_status(WatcherStatus("stopped", None))
