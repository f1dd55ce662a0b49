"""Autostop: stop (or tear down) clusters idle past their setting, and say why."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from skytui.core import clusters as ops
from skytui.core.context import Core
from skytui.core.refresh import Reconciled
from skytui.core.watcher.probe import busy_reason
from skytui.core.watcher.settings import WatcherSettings
from skytui.errors import SkytuiError
from skytui.store import Cluster


class EventFn(Protocol):
    def __call__(self, job_id: int | None, message: str, *, cluster: str | None = ...,
                 reason: str | None = ...) -> None: ...

log = logging.getLogger("skytui.watcher")


class Autostop:
    """Idle-since per cluster is kept in memory: after a restart the count starts again (never early)."""

    def __init__(self, core: Core, settings: WatcherSettings, *,
                 spawn: Callable[[Coroutine[Any, Any, Any]], None], event: EventFn) -> None:
        self.core, self.settings = core, settings
        self.spawn = spawn  # runs a check in the background (the watcher waits for it at shutdown)
        self.event = event  # says what autostop did, as the watcher's other events
        self.idle_since: dict[str, float] = {}
        self.last_check = float("-inf")
        self.acting: set[str] = set()

    def maybe_check(self, clusters: list[Cluster], listing: Reconciled) -> None:
        now = time.monotonic()
        if now - self.last_check < self.settings.autostop_check_seconds:
            return
        self.last_check = now
        wanted = [c for c in clusters if c.status == "UP" and c.job_id is None and c.autostop_minutes]
        names = {c.name for c in wanted}
        for gone in set(self.idle_since) - names:
            self.idle_since.pop(gone, None)
        if wanted:
            self.spawn(self.check(wanted))

    async def check(self, clusters: list[Cluster]) -> None:
        await asyncio.gather(*(self.check_one(c) for c in clusters if c.name not in self.acting))

    async def check_one(self, c: Cluster) -> None:
        core = self.core
        nodes = core.store.nodes(c.name)
        if not nodes:
            return
        try:
            reasons = [await busy_reason(core, c, n) for n in nodes]
        except SkytuiError:
            return  # unreachable: the cluster is not judged idle on no evidence
        # Idle time is measured on the monotonic clock: an NTP step forward must not make a
        # VM look idle for hours (and stop or delete it) when it has been idle for a minute.
        now = time.monotonic()
        busy = next((r for r in reasons if r), None)
        if busy:
            self.idle_since.pop(c.name, None)
            return
        since = self.idle_since.setdefault(c.name, now)
        minutes = c.autostop_minutes or 0
        idle_s = now - since
        if idle_s < minutes * self.settings.minute_seconds:
            return
        await self.act(c, idle_s / self.settings.minute_seconds)

    async def act(self, c: Cluster, idle_minutes: float) -> None:
        core = self.core
        down = bool(c.autostop_down) or bool(c.spot)  # spot nodes cannot be stopped, only removed
        verb = "tearing it down" if down else "stopping it"
        why = " (spot nodes cannot be stopped)" if c.spot and not c.autostop_down else ""
        self.acting.add(c.name)
        try:
            fresh = core.store.cluster(c.name)
            if fresh is None or fresh.status != "UP" or not fresh.autostop_minutes:
                return
            self.event(None, f"autostop: {c.name} idle for {idle_minutes:.0f} min (setting "
                               f"{c.autostop_minutes} min; no running job, no SSH session); {verb}{why}",
                         cluster=c.name, reason="autostop")
            if down:
                await ops.down(core, c.name, reason="autostop")
            else:
                await ops.stop(core, c.name)
            self.idle_since.pop(c.name, None)
        except SkytuiError as exc:
            self.event(None, f"autostop of {c.name} failed: {exc}", cluster=c.name, reason="autostop")
        finally:
            self.acting.discard(c.name)
