"""The GPUs view's rows from telemetry: bars, sparklines, idle GPUs and fleet totals; no Textual."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from skytui.tui.model import Row

if TYPE_CHECKING:
    from skytui.core.telemetry.parse import GpuSample
    from skytui.core.telemetry.ring import FleetHistory, GpuHistory
    from skytui.core.telemetry.sampler import IdleGpu, NodeSnapshot

BAR_WIDTH = 10
RECENT_MINUTES = 15
BUSY_PCT = 5.0  # the sampler's idle threshold: at or above it a GPU counts as busy
SPARK = "▁▂▃▄▅▆▇█"
PARTIAL = " ▏▎▍▌▋▊▉"
IDLE_MARK = "⚠ idle 15m+, billing"
# Column positions in model.GPU_COLUMNS that telemetry fills on a cluster's own row.
UTIL, MEMORY, POWER, PROCS, STATE = 3, 4, 6, 7, 9


def bar(fraction: float | None, width: int = BAR_WIDTH) -> str:
    """A bar of `width` cells in eighths (empty cells as ░), or n/a when unknown."""
    if fraction is None:
        return "n/a".center(width)
    eighths = round(min(max(fraction, 0.0), 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (PARTIAL[part] if part else "")
    return text + "░" * (width - len(text))


def sparkline(values: Iterable[float], top: float = 100.0) -> str:
    """Utilisation per minute as one character each, on a fixed 0..top scale."""
    return "".join(SPARK[min(int(max(v, 0.0) / top * len(SPARK)), len(SPARK) - 1)] for v in values)


SparkCache = dict[tuple[str, int, str], tuple[float, str]]  # GPU -> (minute drawn up to, text)


def recent(hist: GpuHistory, now: float, minutes: int = RECENT_MINUTES) -> str:
    """Mean utilisation of each of the last `minutes` completed minutes, from the ring's new end only."""
    end = now - now % 60.0
    start = end - 60.0 * minutes
    sums = [0.0] * minutes
    counts = [0] * minutes
    for r in reversed(hist.readings):
        if r.t < start:
            break
        if r.t >= end or r.utilization_gpu is None:
            continue
        i = int((r.t - start) // 60.0)
        sums[i] += r.utilization_gpu
        counts[i] += 1
    return sparkline(s / n if n else 0.0 for s, n in zip(sums, counts, strict=True))


def _recent_cached(cache: SparkCache | None, key: tuple[str, int, str], hist: GpuHistory, now: float,
                   minutes: int) -> str:
    # Completed minutes change once a minute: redraw then, not on every 5 s round of 1,000s of GPUs.
    minute = now - now % 60.0
    hit = cache.get(key) if cache is not None else None
    if hit is not None and hit[0] == minute:
        return hit[1]
    text = recent(hist, now, minutes)
    if cache is not None:
        cache[key] = (minute, text)
    return text


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:3.0f}%"


def util_cell(g: GpuSample) -> str:
    if g.utilization_gpu is None:
        return "MIG: n/a" if g.mig_mode else "n/a"
    return f"{bar(g.utilization_gpu / 100)} {_pct(g.utilization_gpu)}"


def memory_cell(used: float | None, total: float | None) -> str:
    if used is None or not total:
        return "n/a"
    return f"{bar(used / total)} {used / 1024:5.1f}/{total / 1024:.0f} GiB"


def power_cell(power: float | None, limit: float | None) -> str:
    if power is None:
        return ""
    return f"{power:.0f}/{limit:.0f} W" if limit else f"{power:.0f} W"


@dataclass(frozen=True)
class GpuTotals:
    """The header's fleet figures: GPUs read, busy and idle now, mean utilisation, idle while billing."""

    gpus: int = 0
    busy: int = 0
    idle: int = 0
    mean_util: float | None = None
    idle_billing: int = 0

    def line(self) -> str:
        if not self.gpus:
            return ""
        util = "n/a" if self.mean_util is None else f"{self.mean_util:.0f}%"
        wasted = f", {self.idle_billing} idle 15m+ billing" if self.idle_billing else ""
        return f"busy {self.busy}, idle {self.idle}, mean util {util}{wasted}"


@dataclass(frozen=True)
class Telemetry:
    """One sampling round, formatted: rows under each cluster, the cluster's own figures, totals."""

    rows: dict[str, list[Row]] = field(default_factory=dict)
    cluster_cells: dict[str, dict[int, str]] = field(default_factory=dict)
    idle: dict[str, int] = field(default_factory=dict)  # cluster -> GPUs idle 15m+ while it bills
    totals: GpuTotals = GpuTotals()


def telemetry_view(snapshots: Iterable[NodeSnapshot], history: FleetHistory, idle: Iterable[IdleGpu],
                   now: float, minutes: int = RECENT_MINUTES, cache: SparkCache | None = None) -> Telemetry:
    """Rows per node and GPU (a node without readings shows its note once), in cluster/node/GPU order."""
    idle_keys = {(i.cluster, i.node, i.index) for i in idle}
    rows: dict[str, list[Row]] = {}
    sums: dict[str, list[float]] = {}  # cluster -> util sum, util count, mem used, mem total, power, procs
    utils: list[float] = []
    idle_count: dict[str, int] = {}
    seen: set[tuple[str, int, str]] = set()
    gpus = 0
    for snap in sorted(snapshots, key=lambda s: (s.cluster, s.node)):
        out = rows.setdefault(snap.cluster, [])
        acc = sums.setdefault(snap.cluster, [0.0] * 6)
        if not snap.gpus:
            cells = (snap.cluster, snap.alias, "", "", "", "", "", "", "", snap.note or "no GPU readings", "")
            out.append(Row(f"{snap.cluster}/{snap.node}", cells,
                           (snap.cluster, snap.node, ("", -1), None, None, None, None, None, "", cells[9], 0.0)))
            continue
        stale = "" if snap.fresh else "stale: node is slow"
        for g in snap.gpus:
            gpus += 1
            hist = history.get(snap.cluster, snap.node, g)
            key = (snap.cluster, snap.node, g.uuid or f"#{g.index}")
            seen.add(key)
            spark = _recent_cached(cache, key, hist, now, minutes) if hist is not None else ""
            is_idle = (snap.cluster, snap.node, g.index) in idle_keys
            if is_idle:
                idle_count[snap.cluster] = idle_count.get(snap.cluster, 0) + 1
            state = IDLE_MARK if is_idle else (stale or "; ".join(g.notes))
            if g.utilization_gpu is not None:
                utils.append(g.utilization_gpu)
                acc[0] += g.utilization_gpu
                acc[1] += 1
            if g.memory_used_mib is not None and g.memory_total_mib:
                acc[2] += g.memory_used_mib
                acc[3] += g.memory_total_mib
            acc[4] += g.power_w or 0.0
            acc[5] += len(g.processes)
            temp = "" if g.temperature_c is None else f"{g.temperature_c:.0f}°C"
            cells = (snap.cluster, snap.alias, f"{g.index} {g.name}", util_cell(g),
                     memory_cell(g.memory_used_mib, g.memory_total_mib), temp,
                     power_cell(g.power_w, g.power_limit_w), str(len(g.processes)), spark, state, "")
            sort = (snap.cluster, snap.node, (g.name, g.index), g.utilization_gpu, g.memory_used_mib,
                    g.temperature_c, g.power_w, len(g.processes), spark, state, 0.0)
            out.append(Row(f"{snap.cluster}/{snap.node}/{g.index}", cells, sort))
    if cache is not None and len(cache) > len(seen):  # GPUs gone with their clusters
        for gone in [k for k in cache if k not in seen]:
            del cache[gone]
    cluster_cells = {}
    for name, (u, n, used, total, power, procs) in sums.items():
        if not n and not total:
            continue
        cluster_cells[name] = {
            UTIL: f"{bar(u / n / 100)} {_pct(u / n)}" if n else "n/a",
            MEMORY: memory_cell(used, total) if total else "n/a",
            POWER: f"{power:.0f} W" if power else "",
            PROCS: str(int(procs)),
        }
    busy = sum(1 for u in utils if u >= BUSY_PCT)
    totals = GpuTotals(gpus, busy, len(utils) - busy, sum(utils) / len(utils) if utils else None,
                       sum(idle_count.values()))
    return Telemetry(rows, cluster_cells, idle_count, totals)


def merge(cluster_rows: Mapping[str, Row], t: Telemetry | None) -> dict[str, Row]:
    """Each cluster's row (from the store), then its nodes' and GPUs' rows (from telemetry)."""
    if t is None:
        return dict(cluster_rows)
    out: dict[str, Row] = {}
    for name, row in cluster_rows.items():
        cells = t.cluster_cells.get(name)
        idle = t.idle.get(name, 0)
        if cells or idle:
            filled = {**(cells or {})}
            if idle:
                filled[STATE] = f"{row.cells[STATE]} ⚠ {idle} GPU{'s' if idle != 1 else ''} idle"
            row = replace(row, cells=tuple(filled.get(i, c) for i, c in enumerate(row.cells)))
        out[name] = row
        for r in t.rows.get(name, ()):
            out[r.key] = r
    return out
