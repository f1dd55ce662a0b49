"""Parse the probe's output into typed GPU samples; never raises, whatever a node prints."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from skytui.core.telemetry.gpu import GpuProcess as GpuProcess
from skytui.core.telemetry.gpu import GpuSample as GpuSample
from skytui.core.telemetry.probe import MARK, PROBE_FIELDS_APPS, PROBE_FIELDS_GPU

# Why a node has no GPU readings, as shown to the user.
STATUS_TEXT = {
    "ok": "ok",
    "no-nvidia": "no NVIDIA telemetry",
    "driver-error": "GPU driver error",
    "garbage": "unreadable probe output",
}


@dataclass(frozen=True)
class NodeSample:
    """Everything one probe run learnt about a node."""

    sampled_at: float
    gpus: tuple[GpuSample, ...]
    load1: float | None
    mem_total_mib: float | None
    mem_available_mib: float | None
    status: str  # one of STATUS_TEXT
    detail: str = ""


# nvidia-smi answers "[Not Supported]" etc. for fields a GPU or user cannot read; these
# explain a missing number to the user, plain N/A does not need explaining.
_REASONS = {
    "Not Supported": "not supported",
    "Insufficient Permissions": "needs more permissions",
    "Unknown Error": "unknown error",
    "GPU requires reset": "GPU requires reset",
    "GPU is lost": "GPU is lost",
}
_QUIET = frozenset({"N/A", "", "Requested functionality has been deprecated", "Deprecated"})

# Numeric fields of the GPU query and the GpuSample attribute each fills.
_NUMERIC = {
    "utilization.gpu": "utilization_gpu",
    "utilization.memory": "utilization_memory",
    "memory.used": "memory_used_mib",
    "memory.total": "memory_total_mib",
    "temperature.gpu": "temperature_c",
    "power.draw": "power_w",
    "power.draw.average": "power_w",
    "power.draw.instant": "power_w",
    "power.limit": "power_limit_w",
    "enforced.power.limit": "power_limit_w",
}
# Other spellings the help texts document for the same field.
_GPU_ALIASES = {
    "gpu_name": "name",
    "gpu_uuid": "uuid",
    "gpu.power.draw.average": "power.draw.average",
    "gpu.power.draw.instant": "power.draw.instant",
    "gpu.power.requested_limit": "power.limit",
    "gpu.power.current_limit": "enforced.power.limit",
}
_APP_ALIASES = {"name": "process_name", "used_gpu_memory": "used_memory", "gpu_uuid": "uuid"}

MIG_NOTE = "utilisation unavailable in MIG mode"
MAX_DETAIL = 200


def parse_number(value: str) -> tuple[float | None, str | None]:
    """Read '131.96', '131.96 W' or '0 %' as a number; '[N/A]' and friends give (None, reason)."""
    try:
        x = float(value)
    except ValueError:
        v = value.strip()
        if v[:1] == "[":
            reason = v.strip("[]")
            return None, None if reason in _QUIET else reason
        if v in _QUIET:
            return None, None
        try:
            x = float(v.partition(" ")[0])
        except ValueError:
            return None, f"unreadable {v[:40]!r}"
    if not math.isfinite(x):
        return None, "not a finite number"
    return x, None


def _text(value: str) -> str:
    """Return a text field, or '' when the driver had none."""
    v = value.strip()
    return "" if v[:1] == "[" or v in _QUIET else v


def _positions(fields: Sequence[str], aliases: dict[str, str]) -> dict[str, int]:
    """Map each field's main name to its column, so either documented spelling works."""
    return {aliases.get(f.strip(), f.strip()): i for i, f in enumerate(fields)}


def _gpu_row(parts: list[str], pos: dict[str, int], row: int) -> GpuSample | None:
    """Turn one split CSV row into a GpuSample; None when it is not a GPU row."""
    i = pos.get("index")
    if i is not None:
        try:
            index = int(parts[i])
        except ValueError:
            return None
    else:
        index = row
    values: dict[str, float | None] = {}
    notes: list[str] = []
    for field, attr in _NUMERIC.items():
        j = pos.get(field)
        if j is None or (attr in values and values[attr] is not None):
            continue
        x, reason = parse_number(parts[j])
        values[attr] = x
        if reason is not None:
            note = _REASONS.get(reason)
            if note == "GPU requires reset" or note == "GPU is lost":
                text = note
            else:
                text = f"{field} {note or reason}"
            if text not in notes:
                notes.append(text)
    j = pos.get("mig.mode.current")
    mig = j is not None and parts[j].strip() == "Enabled"
    if mig and values.get("utilization_gpu") is None:
        notes.insert(0, MIG_NOTE)
    name = _text(parts[pos["name"]]) if "name" in pos else ""
    uuid = _text(parts[pos["uuid"]]) if "uuid" in pos else ""
    return GpuSample(
        index=index,
        name=name,
        uuid=uuid,
        utilization_gpu=values.get("utilization_gpu"),
        utilization_memory=values.get("utilization_memory"),
        memory_used_mib=values.get("memory_used_mib"),
        memory_total_mib=values.get("memory_total_mib"),
        temperature_c=values.get("temperature_c"),
        power_w=values.get("power_w"),
        power_limit_w=values.get("power_limit_w"),
        mig_mode=mig,
        notes=tuple(notes),
    )


def _gpu_lines(lines: Iterable[str], fields: Sequence[str]) -> tuple[list[GpuSample], list[str]]:
    """Parse GPU rows; return the samples and the lines that were not rows (errors, warnings)."""
    pos = _positions(fields, _GPU_ALIASES)
    n = len(fields)
    gpus: list[GpuSample] = []
    other: list[str] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        parts = line.split(", ")
        sample = _gpu_row(parts, pos, len(gpus)) if len(parts) == n else None
        if sample is None:
            other.append(line)
        else:
            gpus.append(sample)
    return gpus, other


def parse_gpu_csv(text: str, fields: Sequence[str] = PROBE_FIELDS_GPU) -> list[GpuSample]:
    """Parse `nvidia-smi --query-gpu=FIELDS --format=csv[,noheader][,nounits]` output."""
    return _gpu_lines(text.splitlines(), fields)[0]


def _apps_lines(lines: Iterable[str], fields: Sequence[str]) -> list[tuple[str, GpuProcess]]:
    """Parse compute-app rows into (gpu uuid, process) pairs, skipping what is not a row."""
    pos = _positions(fields, _APP_ALIASES)
    n = len(fields)
    name_at = pos.get("process_name")
    pid_at, uuid_at, mem_at = pos.get("pid"), pos.get("uuid"), pos.get("used_memory")
    out: list[tuple[str, GpuProcess]] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        parts = line.split(", ")
        extra = len(parts) - n
        if extra > 0 and name_at is not None:
            # A process name may itself contain ", "; it is the only free-text field.
            parts[name_at : name_at + extra + 1] = [", ".join(parts[name_at : name_at + extra + 1])]
        elif extra != 0:
            continue
        if pid_at is None:
            continue
        try:
            pid = int(parts[pid_at])
        except ValueError:
            continue
        uuid = _text(parts[uuid_at]) if uuid_at is not None else ""
        name = parts[name_at].strip() if name_at is not None else ""
        mem = parse_number(parts[mem_at])[0] if mem_at is not None else None
        out.append((uuid, GpuProcess(pid=pid, name=name, used_memory_mib=mem)))
    return out


def parse_apps_csv(
    text: str, fields: Sequence[str] = PROBE_FIELDS_APPS
) -> list[tuple[str, GpuProcess]]:
    """Parse `nvidia-smi --query-compute-apps=FIELDS --format=csv...` into (gpu uuid, process)."""
    return _apps_lines(text.splitlines(), fields)


def join_processes(
    gpus: Iterable[GpuSample], apps: Iterable[tuple[str, GpuProcess]]
) -> tuple[GpuSample, ...]:
    """Attach each process to the GPU with its uuid; processes of unknown GPUs are dropped."""
    by_uuid: dict[str, list[GpuProcess]] = {}
    for uuid, proc in apps:
        by_uuid.setdefault(uuid, []).append(proc)
    return tuple(
        replace(g, processes=g.processes + tuple(by_uuid[g.uuid])) if g.uuid in by_uuid else g
        for g in gpus
    )


def _sections(text: str) -> dict[str, tuple[str, list[str]]]:
    """Split probe output into {section: (info on its marker line, body lines)}."""
    out: dict[str, tuple[str, list[str]]] = {}
    body: list[str] | None = None
    prefix = MARK + " "
    for line in text.splitlines():
        if line.startswith(prefix):
            name, _, info = line[len(prefix) :].strip().partition(" ")
            body = []
            out[name] = (info.strip(), body)
        elif body is not None:
            body.append(line)
    return out


def _rc(sections: dict[str, tuple[str, list[str]]], name: str) -> int | None:
    """Return the exit status recorded for a section, or None when it is missing."""
    got = sections.get(name + "-rc")
    if got is None:
        return None
    try:
        return int(got[0])
    except ValueError:
        return None


def _first_line(lines: Iterable[str]) -> str:
    """Return the first non-blank line, cut to a length fit for one line of UI."""
    for line in lines:
        if line.strip():
            return line.strip()[:MAX_DETAIL]
    return ""


def _host(
    sections: dict[str, tuple[str, list[str]]],
) -> tuple[float | None, float | None, float | None]:
    """Read load1, MemTotal and MemAvailable (MiB) from their sections."""
    load1 = None
    for line in sections.get("loadavg", ("", []))[1]:
        load1 = parse_number(line.strip().partition(" ")[0])[0]
        break
    mem: dict[str, float | None] = {}
    for line in sections.get("meminfo", ("", []))[1]:
        key, _, rest = line.partition(":")
        kib = parse_number(rest.strip().partition(" ")[0])[0]
        mem[key.strip()] = None if kib is None else kib / 1024.0
    return load1, mem.get("MemTotal"), mem.get("MemAvailable")


def _nvidia(sections: dict[str, tuple[str, list[str]]]) -> tuple[tuple[GpuSample, ...], str, str]:
    """Read the NVIDIA sections into GPUs, a status and a detail line."""
    info, body = sections["gpu"]
    fields = [f for f in info.split(",") if f] or list(PROBE_FIELDS_GPU)
    gpus, other = _gpu_lines(body, fields)
    rc = _rc(sections, "gpu")
    if "apps" in sections:
        app_info, app_body = sections["apps"]
        app_fields = [f for f in app_info.split(",") if f] or list(PROBE_FIELDS_APPS)
        gpus_t = join_processes(gpus, _apps_lines(app_body, app_fields))
    else:
        gpus_t = tuple(gpus)
    if rc == 124:
        return gpus_t, "driver-error", "nvidia-smi timed out"
    if rc is None:
        return gpus_t, ("ok" if gpus_t else "garbage"), "probe output was cut short"
    if rc != 0:
        detail = _first_line(other) or f"nvidia-smi exited with status {rc}"
        return gpus_t, ("ok" if gpus_t else "driver-error"), detail
    if other and not gpus_t:
        return gpus_t, "garbage", _first_line(other)
    return gpus_t, "ok", _first_line(other)


def _amd(sections: dict[str, tuple[str, list[str]]]) -> tuple[tuple[GpuSample, ...], str, str]:
    """Read the AMD sections when the node had no nvidia-smi."""
    from skytui.core.telemetry.amd import parse_amd_smi, parse_rocm_smi

    if "amd-smi-metric" in sections:
        listing = "\n".join(sections.get("amd-smi-list", ("", []))[1])
        gpus = parse_amd_smi("\n".join(sections["amd-smi-metric"][1]), listing)
        tool = "amd-smi"
        body = sections["amd-smi-metric"][1]
    elif "rocm-smi" in sections:
        gpus = parse_rocm_smi("\n".join(sections["rocm-smi"][1]))
        tool = "rocm-smi"
        body = sections["rocm-smi"][1]
    else:
        return (), "no-nvidia", "nvidia-smi not found"
    if gpus:
        return tuple(gpus), "ok", f"AMD GPUs read with {tool}"
    return (), "no-nvidia", f"{tool} gave no GPUs: {_first_line(body)}".rstrip(": ")


def parse_probe_output(text: str, sampled_at: float) -> NodeSample:
    """Parse what `probe_command()` printed on a node into a NodeSample."""
    try:
        sections = _sections(text)
        if "begin" not in sections:
            detail = f"no probe sections in output: {_first_line(text.splitlines())}"
            return NodeSample(sampled_at, (), None, None, None, "garbage", detail.rstrip(": "))
        load1, mem_total, mem_avail = _host(sections)
        if "gpu" in sections:
            gpus, status, detail = _nvidia(sections)
        elif "no-nvidia" in sections:
            gpus, status, detail = _amd(sections)
        else:
            gpus, status, detail = (), "garbage", "probe output was cut short"
        return NodeSample(sampled_at, gpus, load1, mem_total, mem_avail, status, detail)
    except Exception as exc:  # noqa: BLE001  # a parser bug shows as one unreadable node
        return NodeSample(
            sampled_at, (), None, None, None, "garbage", f"parse failed: {exc!r}"[:MAX_DETAIL]
        )


def iso_utc(t: float) -> str:
    """Format a Unix time as ISO-8601 UTC with a Z, to the millisecond."""
    stamp = datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def sample_to_json(
    cluster: str, node: str | int, s: GpuSample, sampled_at: float
) -> dict[str, Any]:
    """Return the JSON object `skytui gpus --json` prints for one GPU."""
    return {
        "cluster": cluster,
        "node": node,
        "index": s.index,
        "name": s.name,
        "uuid": s.uuid,
        "utilization_gpu": s.utilization_gpu,
        "utilization_memory": s.utilization_memory,
        "memory_used_mib": s.memory_used_mib,
        "memory_total_mib": s.memory_total_mib,
        "temperature_c": s.temperature_c,
        "power_w": s.power_w,
        "power_limit_w": s.power_limit_w,
        "processes": [
            {"pid": p.pid, "name": p.name, "used_memory_mib": p.used_memory_mib}
            for p in s.processes
        ],
        "sampled_at": iso_utc(sampled_at),
    }
