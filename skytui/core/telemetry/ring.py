"""An hour of readings per GPU in memory: sparklines, per-minute roll-ups and idle detection."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from skytui.core.telemetry.parse import GpuSample, NodeSample

HOUR_S = 3600.0
# A gap of more than this many intervals means we were not watching, so it is not idle time.
MAX_GAP_INTERVALS = 2.5


@dataclass(frozen=True, slots=True)
class Reading:
    """One GPU reading kept for history."""

    t: float
    utilization_gpu: float | None
    memory_used_mib: float | None
    power_w: float | None


@dataclass(frozen=True, slots=True)
class MinuteRollup:
    """Averages over one wall-clock minute, as kept in the store's per-minute history."""

    minute: float  # Unix time of the minute's start
    utilization_gpu: float | None
    memory_used_mib: float | None
    power_w: float | None
    samples: int


def _mean(values: list[float]) -> float | None:
    """Average, or None for no values."""
    return sum(values) / len(values) if values else None


class GpuHistory:
    """The last `span_s` seconds of one GPU's readings, newest last."""

    def __init__(self, interval_s: float, span_s: float = HOUR_S) -> None:
        if not interval_s > 0:
            raise ValueError("interval_s must be positive")
        self.interval_s = float(interval_s)
        self.readings: deque[Reading] = deque(maxlen=max(1, math.ceil(span_s / interval_s)))

    def __len__(self) -> int:
        return len(self.readings)

    def __iter__(self) -> Iterator[Reading]:
        return iter(self.readings)

    def add(
        self, t: float, util: float | None, mem_used: float | None, power: float | None
    ) -> None:
        """Append a reading; one not newer than the last is dropped (a late, overlapping probe)."""
        if self.readings and t <= self.readings[-1].t:
            return
        self.readings.append(Reading(t, util, mem_used, power))

    def add_sample(self, t: float, s: GpuSample) -> None:
        """Append the readings of a parsed GPU sample."""
        self.add(t, s.utilization_gpu, s.memory_used_mib, s.power_w)

    def minute_rollup(self, *, complete_only: bool = False) -> list[MinuteRollup]:
        """Per-minute averages, oldest first; `complete_only` drops the minute still filling."""
        groups: dict[float, list[Reading]] = {}
        for r in self.readings:
            groups.setdefault(math.floor(r.t / 60.0) * 60.0, []).append(r)
        minutes = sorted(groups)
        if complete_only and minutes:
            minutes.pop()
        return [
            MinuteRollup(
                minute=m,
                utilization_gpu=_mean(
                    [r.utilization_gpu for r in groups[m] if r.utilization_gpu is not None]
                ),
                memory_used_mib=_mean(
                    [r.memory_used_mib for r in groups[m] if r.memory_used_mib is not None]
                ),
                power_w=_mean([r.power_w for r in groups[m] if r.power_w is not None]),
                samples=len(groups[m]),
            )
            for m in minutes
        ]

    def idle_for(self, seconds: float, threshold: float = 5.0, now: float | None = None) -> bool:
        """True when all readings of the last `seconds` are below `threshold`% with none missing."""
        if not self.readings:
            return False
        end = self.readings[-1].t if now is None else now
        start = end - seconds
        gap = MAX_GAP_INTERVALS * self.interval_s
        window = [r for r in self.readings if r.t >= start]
        if not window or window[0].t - start > gap or end - window[-1].t > gap:
            return False
        previous = window[0].t
        for r in window:
            # Unknown utilisation (MIG, driver error) is no evidence of idleness.
            if r.utilization_gpu is None or r.utilization_gpu >= threshold or r.t - previous > gap:
                return False
            previous = r.t
        return True

    def sparkline_values(self, minutes: int, now: float | None = None) -> list[float]:
        """Per-minute mean utilisation over the last `minutes`, oldest first, 0 where unknown."""
        if minutes <= 0:
            return []
        if now is None:
            if not self.readings:
                return [0.0] * minutes
            now = self.readings[-1].t
        end = now
        last = math.floor(end / 60.0) * 60.0
        first = last - 60.0 * (minutes - 1)
        by_minute = {m.minute: m.utilization_gpu for m in self.minute_rollup()}
        return [by_minute.get(first + 60.0 * i) or 0.0 for i in range(minutes)]


class FleetHistory:
    """Histories of every GPU seen, keyed by cluster, node and GPU uuid (index when it has none)."""

    def __init__(self, interval_s: float, span_s: float = HOUR_S) -> None:
        self.interval_s, self.span_s = interval_s, span_s
        self._gpus: dict[tuple[str, str, str], GpuHistory] = {}

    @staticmethod
    def _gpu_key(s: GpuSample) -> str:
        return s.uuid or f"#{s.index}"

    def record(self, cluster: str, node: str | int, sample: NodeSample) -> None:
        """Add a node sample's readings to the history of each of its GPUs."""
        for g in sample.gpus:
            key = (cluster, str(node), self._gpu_key(g))
            hist = self._gpus.get(key)
            if hist is None:
                hist = self._gpus[key] = GpuHistory(self.interval_s, self.span_s)
            hist.add_sample(sample.sampled_at, g)

    def get(self, cluster: str, node: str | int, gpu: GpuSample | str) -> GpuHistory | None:
        """Return one GPU's history (by sample or uuid), or None if never seen."""
        key = self._gpu_key(gpu) if isinstance(gpu, GpuSample) else gpu
        return self._gpus.get((cluster, str(node), key))

    def forget(self, cluster: str) -> None:
        """Drop every history of a cluster that is gone."""
        for key in [k for k in self._gpus if k[0] == cluster]:
            del self._gpus[key]
