"""`skytui gpus [--json] [--watch]`: every UP node's GPUs, read live over SSH."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable
from typing import Any

from skytui.cli.output import table
from skytui.core.context import Core
from skytui.core.telemetry.parse import GpuSample, sample_to_json
from skytui.core.telemetry.sampler import NodeSnapshot, Sampler, sample_fleet

NO_CLUSTERS = "no clusters are UP, so there are no GPUs to read; start one with `skytui launch`"
BAR_WIDTH = 10


def gpus_json(snaps: Iterable[NodeSnapshot]) -> list[dict[str, Any]]:
    """The documented JSON list: one object per GPU, nodes without readings left out."""
    return [sample_to_json(s.cluster, s.node, g, s.sample.sampled_at)
            for s in snaps if s.sample is not None for g in s.gpus]


def bar(value: float | None, total: float | None = 100.0) -> str:
    """An ASCII bar like `[###-------]`; `[  n/a   ]` when the value is unknown."""
    if value is None or not total:
        return "[" + "n/a".center(BAR_WIDTH) + "]"
    filled = round(BAR_WIDTH * min(max(value / total, 0.0), 1.0))
    return "[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "]"


def _num(v: float | None, unit: str = "") -> str:
    return "-" if v is None else f"{v:g}{unit}"


def _gpu_row(s: NodeSnapshot, g: GpuSample) -> tuple[str, ...]:
    util = f"{bar(g.utilization_gpu)} {_num(g.utilization_gpu, '%')}"
    mem = (f"{bar(g.memory_used_mib, g.memory_total_mib)} "
           f"{_num(g.memory_used_mib)}/{_num(g.memory_total_mib)} MiB")
    power = f"{_num(g.power_w)}/{_num(g.power_limit_w)} W"
    procs = " ".join(f"{p.name}({p.pid})" for p in g.processes) or "-"
    notes = [*g.notes, *([] if s.fresh else ["stale: node is slow"])]
    return (s.cluster, s.alias, str(g.index), g.name, util, mem, _num(g.temperature_c, "C"),
            power, procs, "; ".join(notes))


def gpus_table(snaps: Iterable[NodeSnapshot]) -> str:
    """Rows per cluster / node / GPU with bars; a node without readings gets one row saying why."""
    rows: list[tuple[str, ...]] = []
    for s in sorted(snaps, key=lambda s: (s.cluster, s.node)):
        if s.gpus:
            rows.extend(_gpu_row(s, g) for g in s.gpus)
        else:
            rows.append((s.cluster, s.alias, "-", "-", "", "", "", "", "", s.note))
    return table(["CLUSTER", "NODE", "GPU", "NAME", "UTIL", "MEMORY", "TEMP", "POWER",
                  "PROCESSES", "NOTE"], rows)


def render(snaps: list[NodeSnapshot], as_json: bool) -> str:
    if as_json:
        return json.dumps(gpus_json(snaps))
    return gpus_table(snaps) if snaps else NO_CLUSTERS


async def _once(core: Core, as_json: bool) -> None:
    snaps = await sample_fleet(core)
    text = json.dumps(gpus_json(snaps), indent=2) if as_json else render(snaps, False)
    sys.stdout.write(text + "\n")


async def _watch(core: Core, as_json: bool) -> None:
    """Print a fresh view every interval until Ctrl-C; JSON mode prints one array per line."""
    clear = sys.stdout.isatty() and not as_json

    def show(snaps: list[NodeSnapshot]) -> None:
        text = render(snaps, as_json)
        sys.stdout.write(("\x1b[H\x1b[2J" if clear else "") + text + "\n")
        sys.stdout.flush()

    await Sampler(core).run(asyncio.Event(), show)


def run(args: argparse.Namespace) -> int:
    """Entry point of `skytui gpus`."""
    from skytui.cli.commands import run_core

    as_json = bool(getattr(args, "json", False))
    go = _watch if getattr(args, "watch", False) else _once
    try:
        run_core(lambda core: go(core, as_json), progress=False)
    except KeyboardInterrupt:
        return 0  # Ctrl-C is how --watch ends
    return 0
