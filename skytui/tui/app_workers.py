"""The dashboard's background watchers: the in-app spot-job watcher and GPU telemetry sampling."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from textual import work

from skytui.tui import gpus
from skytui.tui.app_live import REFRESH_BACKOFF_MAX_S
from skytui.tui.loader import watcher_label

if TYPE_CHECKING:
    from skytui.core.telemetry.sampler import Sampler
    from skytui.tui.app_host import AppHost
else:
    AppHost = object  # the host's attributes are declared for the type checker only

log = logging.getLogger("skytui.tui")


class Watchers(AppHost):
    """Mixed into SkytuiApp: workers that run while the app is open and stop when it quits."""

    # -- the in-app watcher ------------------------------------------------------------------------
    def start_watcher(self) -> None:
        try:
            from skytui.core import watcher  # noqa: F401
        except ImportError:
            return
        self.run_watcher_worker()

    @work(group="watcher", exclusive=True, exit_on_error=False)
    async def run_watcher_worker(self) -> None:
        import inspect

        from skytui.core.watcher import run_watcher

        self._watcher_stop = asyncio.Event()

        def on_status(status: Any) -> None:
            self.post_message(self.Note(describe_watcher(status)))

        try:
            result = run_watcher(self.core, kind="app", stop_event=self._watcher_stop, on_status=on_status)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            log.exception("watcher stopped")
            self.post_message(self.Note(f"the in-app watcher stopped: {exc}", "error", notify=True))

    async def stop_watcher(self) -> None:
        if self._watcher_stop is not None:
            self._watcher_stop.set()
        for w in self.workers:
            if w.group == "watcher":
                try:
                    await asyncio.wait_for(w.wait(), timeout=10)
                except Exception:
                    w.cancel()

    def _watcher_is_ours(self) -> bool:
        return self._watcher_stop is not None and watcher_label() == "this app"

    # -- GPU telemetry ------------------------------------------------------------------------------
    @work(group="telemetry", exclusive=True, exit_on_error=False)
    async def telemetry_loop(self) -> None:
        """Sample every UP node's GPUs until the app closes; a failure is a status-line state, then a retry."""
        from skytui.core.telemetry.sampler import Sampler

        self._telemetry_stop = stop = asyncio.Event()
        delay = 0.0
        while not stop.is_set():
            try:
                if self.sampler is None:
                    self.sampler = Sampler(self.core)
                sampler = self.sampler
                if sampler.latest:  # a sampler with readings already (a restart, a test): show them now
                    self._post_round(sampler)
                await sampler.run(stop, self._on_round)
            except Exception as exc:  # any failure is a state on the status line, then a retry
                delay = min(max(delay * 2, self._sample_interval()), REFRESH_BACKOFF_MAX_S)
                log.exception("GPU telemetry failed")
                self.post_message(self.Note(f"GPU telemetry failed: {exc}; next try in {delay:.0f}s", "error"))
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                except asyncio.TimeoutError:
                    pass

    def _on_round(self, _snapshots: object) -> None:
        if self.sampler is not None:
            self._post_round(self.sampler)

    def _post_round(self, sampler: Sampler) -> None:
        # Runs in the sampling worker: format the rows there, hand them over as a message.
        sampler.record_minutes = self._records_gpu_minutes()
        now = self.core.clock()
        view = gpus.telemetry_view(sampler.latest.values(), sampler.history, sampler.idle(now=now), now,
                                   cache=self._spark_cache)
        self.post_message(self.GpusSampled(view))

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

    def stop_telemetry(self) -> None:
        if self._telemetry_stop is not None:
            self._telemetry_stop.set()


def describe_watcher(status: Any) -> str:
    role = getattr(status, "role", str(status))
    if role == "active":
        return f"watcher: this app recovers spot jobs ({getattr(status, 'jobs_watched', 0)} watched)"
    if role == "observer":
        holder = getattr(status, "holder", None)
        return f"watcher: {holder.describe() if holder else 'another process'} recovers spot jobs"
    return f"watcher: {role}"
