"""Samples every UP node's GPUs while the dashboard is open and hands each round over formatted."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message

from skytui.tui import gpus, messages
from skytui.tui.services.provider_refresh import REFRESH_BACKOFF_MAX_S

if TYPE_CHECKING:
    from skytui.core.context import Core
    from skytui.core.telemetry.sampler import Sampler

log = logging.getLogger("skytui.tui")


class TelemetryFeed:
    def __init__(self, core: Core, sampler: Sampler | None, read_only: bool) -> None:
        self.core = core
        self.sampler = sampler
        self.read_only = read_only
        self.stop_event: asyncio.Event | None = None
        self.spark_cache: gpus.SparkCache = {}

    @property
    def interval(self) -> float:
        return self.sampler.interval if self.sampler is not None else self.core.config.telemetry_interval_seconds

    async def run(self, post: Callable[[Message], object]) -> None:
        """A failure is a state on the status line, then a retry after a growing wait."""
        from skytui.core.telemetry.sampler import Sampler
        from skytui.core.watcher.strategy import Backoff

        self.stop_event = stop = asyncio.Event()
        backoff = Backoff(self.interval, REFRESH_BACKOFF_MAX_S)
        while not stop.is_set():
            try:
                if self.sampler is None:
                    self.sampler = Sampler(self.core)
                sampler = self.sampler
                if sampler.latest:  # a sampler with readings already (a restart, a test): show them now
                    post(self._round(sampler))
                await sampler.run(stop, functools.partial(self._post_round, post, sampler))
            except Exception as exc:
                delay = backoff.next_delay()
                log.exception("GPU telemetry failed")
                post(messages.Note(f"GPU telemetry failed: {exc}; next try in {delay:.0f}s", "error"))
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                except asyncio.TimeoutError:
                    pass

    def _post_round(self, post: Callable[[Message], object], sampler: Sampler, _snapshots: object) -> None:
        post(self._round(sampler))

    def _round(self, sampler: Sampler) -> messages.TelemetryRound:
        # Runs in the sampling worker: the rows are formatted there, not on the UI's turn.
        sampler.record_minutes = self._records_gpu_minutes()
        now = self.core.clock()
        view = gpus.telemetry_view(sampler.latest.values(), sampler.history, sampler.idle(now=now), now,
                                   cache=self.spark_cache)
        return messages.TelemetryRound(view)

    def _records_gpu_minutes(self) -> bool:
        """Per-minute history goes to the store from one process: the daemon when it watches, else us."""
        if self.read_only:
            return False
        try:
            from skytui.core.watcher import lock_holder

            holder = lock_holder()
        except Exception:  # noqa: BLE001  # an unreadable lock file: keep our own history
            return True
        return holder is None or getattr(holder, "kind", None) != "daemon"

    def stop(self) -> None:
        if self.stop_event is not None:
            self.stop_event.set()
