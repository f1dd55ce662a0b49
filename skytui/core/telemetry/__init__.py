"""GPU telemetry: the probe run on each node, its parsers and per-GPU history."""

from __future__ import annotations

from skytui.core.telemetry.parse import (
    GpuProcess,
    GpuSample,
    NodeSample,
    join_processes,
    parse_apps_csv,
    parse_gpu_csv,
    parse_probe_output,
    sample_to_json,
)
from skytui.core.telemetry.probe import (
    PROBE_FIELDS_APPS,
    PROBE_FIELDS_GPU,
    probe_command,
    probe_script,
)
from skytui.core.telemetry.ring import FleetHistory, GpuHistory, MinuteRollup

__all__ = [
    "PROBE_FIELDS_APPS",
    "PROBE_FIELDS_GPU",
    "FleetHistory",
    "GpuHistory",
    "GpuProcess",
    "GpuSample",
    "MinuteRollup",
    "NodeSample",
    "join_processes",
    "parse_apps_csv",
    "parse_gpu_csv",
    "parse_probe_output",
    "probe_command",
    "probe_script",
    "sample_to_json",
]
