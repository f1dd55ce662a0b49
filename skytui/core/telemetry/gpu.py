"""One GPU's readings, as every telemetry parser (NVIDIA, AMD) builds them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GpuProcess:
    """A process holding a compute context on a GPU."""

    pid: int
    name: str
    used_memory_mib: float | None


@dataclass(frozen=True, slots=True)
class GpuSample:
    """One GPU's readings at one moment; None where the driver gave no number."""

    index: int
    name: str
    uuid: str
    utilization_gpu: float | None
    utilization_memory: float | None
    memory_used_mib: float | None
    memory_total_mib: float | None
    temperature_c: float | None
    power_w: float | None
    power_limit_w: float | None
    mig_mode: bool = False
    processes: tuple[GpuProcess, ...] = ()
    notes: tuple[str, ...] = ()
