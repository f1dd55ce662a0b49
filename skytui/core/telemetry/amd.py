"""Read AMD GPUs from `amd-smi metric --json` or `rocm-smi --json` into the same GpuSample."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from skytui.core.telemetry.gpu import GpuSample

AMD_NAME = "AMD GPU"

# Factors to MiB, W; amd-smi writes "MB" for what are MiB.
_MEM_UNITS = {
    "b": 1 / 1048576,
    "kb": 1 / 1024,
    "kib": 1 / 1024,
    "mb": 1.0,
    "mib": 1.0,
    "gb": 1024.0,
    "gib": 1024.0,
}
_POWER_UNITS = {"w": 1.0, "mw": 1e-3, "uw": 1e-6, "µw": 1e-6}

_LEADING_NUMBER = re.compile(r"\s*\(?\s*([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*([A-Za-zµ%]*)")


def _load(text: str) -> Any:
    """Decode JSON, skipping any warning lines a tool printed before it; None if there is none."""
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        return None
    try:
        return json.loads(text[start:])
    except ValueError:
        try:
            return json.JSONDecoder().raw_decode(text[start:])[0]
        except ValueError:
            return None


def _quantity(value: Any) -> tuple[float | None, str]:
    """Read 20, "20", "20 W", "(400Mhz)" or {"value": 20, "unit": "W"} as (number, unit)."""
    if isinstance(value, dict):
        number, unit = _quantity(value.get("value"))
        given = value.get("unit")
        return number, given if isinstance(given, str) else unit
    if isinstance(value, bool) or value is None:
        return None, ""
    if isinstance(value, (int, float)):
        x = float(value)
        return (x if math.isfinite(x) else None), ""
    if isinstance(value, str):
        m = _LEADING_NUMBER.match(value)
        if m is None:
            return None, ""
        x = float(m.group(1))
        return (x if math.isfinite(x) else None), m.group(2)
    return None, ""


def _scaled(value: Any, units: dict[str, float], default_unit: str) -> float | None:
    """Read a quantity and convert it by its unit (the default when none is written)."""
    number, unit = _quantity(value)
    if number is None:
        return None
    factor = units.get((unit or default_unit).lower())
    return None if factor is None else number * factor


def _lookup(places: Iterable[Any], names: Iterable[str]) -> Any:
    """Return the first value under any of `names` (any case) in the dicts `places`, else None."""
    wanted = [n.lower() for n in names]
    for place in places:
        if not isinstance(place, dict):
            continue
        lowered = {str(k).lower(): v for k, v in place.items()}
        for name in wanted:
            v = lowered.get(name)
            if v is not None and _quantity(v)[0] is not None:
                return v
    return None


def _text(places: Iterable[Any], names: Iterable[str]) -> str:
    """Return the first non-empty text under any of `names`, else ''."""
    wanted = [n.lower() for n in names]
    for place in places:
        if not isinstance(place, dict):
            continue
        lowered = {str(k).lower(): v for k, v in place.items()}
        for name in wanted:
            v = lowered.get(name)
            if isinstance(v, str) and v.strip() and v.strip().upper() != "N/A":
                return v.strip()
    return ""


def _gpu_entries(data: Any) -> list[tuple[int, dict[str, Any]]]:
    """Find per-GPU objects in a list, a bare object, {"gpu_data": [...]} or {"gpu0": {...}}."""
    if isinstance(data, dict):
        if "gpu" in data:  # some versions print a bare object when there is one GPU
            return _gpu_entries([data])
        for key in ("gpu_data", "gpus", "data"):
            if isinstance(data.get(key), list):
                return _gpu_entries(data[key])
        out = []
        for key, value in data.items():
            digits = "".join(ch for ch in str(key) if ch.isdigit())
            if isinstance(value, dict) and digits:
                out.append((int(digits), value))
        return sorted(out, key=lambda kv: kv[0])
    if isinstance(data, list):
        out = []
        for n, value in enumerate(data):
            if isinstance(value, dict):
                index, _ = _quantity(value.get("gpu", value.get("index", n)))
                out.append((int(index) if index is not None else n, value))
        return out
    return []


def _index_info(list_text: str) -> dict[int, dict[str, Any]]:
    """Map GPU index to its `amd-smi list --json` entry (uuid, bdf)."""
    return dict(_gpu_entries(_load(list_text))) if list_text.strip() else {}


def parse_amd_smi(metric_text: str, list_text: str = "") -> list[GpuSample]:
    """Parse `amd-smi metric --json` (and optionally `amd-smi list --json`); [] when unreadable."""
    try:
        listing = _index_info(list_text)
        gpus = []
        for index, entry in _gpu_entries(_load(metric_text)):
            usage, power = entry.get("usage"), entry.get("power")
            temps, mem = entry.get("temperature"), entry.get("mem_usage", entry.get("memory"))
            extra = listing.get(index, {})
            places = (entry, extra, entry.get("asic"))
            gpus.append(
                GpuSample(
                    index=index,
                    name=_text(places, ("market_name", "name", "product_name")) or AMD_NAME,
                    uuid=_text(places, ("uuid", "bdf")),
                    utilization_gpu=_quantity(
                        _lookup((usage, entry), ("gfx_activity", "gfx_usage"))
                    )[0],
                    utilization_memory=_quantity(
                        _lookup((usage, entry), ("umc_activity", "mem_activity", "mem_usage"))
                    )[0],
                    memory_used_mib=_scaled(
                        _lookup((mem,), ("used_vram", "used")), _MEM_UNITS, "MB"
                    ),
                    memory_total_mib=_scaled(
                        _lookup((mem,), ("total_vram", "total")), _MEM_UNITS, "MB"
                    ),
                    temperature_c=_quantity(_lookup((temps,), ("edge", "hotspot", "junction")))[0],
                    power_w=_scaled(
                        _lookup(
                            (power,),
                            ("socket_power", "average_socket_power", "current_socket_power"),
                        ),
                        _POWER_UNITS,
                        "W",
                    ),
                    power_limit_w=_scaled(
                        _lookup(
                            (power, entry.get("limit")),
                            ("power_limit", "socket_power_limit", "max_power"),
                        ),
                        _POWER_UNITS,
                        "W",
                    ),
                )
            )
        return gpus
    except Exception:  # noqa: BLE001  # a new amd-smi layout costs the readings, not the app
        return []


def parse_rocm_smi(text: str) -> list[GpuSample]:
    """Parse `rocm-smi ... --json` ({"card0": {"GPU use (%)": "3", ...}}); [] when unreadable."""
    try:
        data = _load(text)
        if not isinstance(data, dict):
            return []
        gpus = []
        for key, card in data.items():
            name = str(key).lower()
            if not name.startswith("card") or not isinstance(card, dict):
                continue
            try:
                index = int(name[4:])
            except ValueError:
                continue
            used = _lookup((card,), ("VRAM Total Used Memory (B)", "GPU memory use"))
            total = _lookup((card,), ("VRAM Total Memory (B)",))
            gpus.append(
                GpuSample(
                    index=index,
                    name=_text((card,), ("Card series", "Device Name", "Card model", "Card SKU"))
                    or AMD_NAME,
                    uuid=_text((card,), ("Unique ID", "GUID", "PCI Bus")),
                    utilization_gpu=_quantity(_lookup((card,), ("GPU use (%)",)))[0],
                    utilization_memory=_quantity(_lookup((card,), ("GPU memory use (%)",)))[0],
                    memory_used_mib=_scaled(used, _MEM_UNITS, "B"),
                    memory_total_mib=_scaled(total, _MEM_UNITS, "B"),
                    temperature_c=_quantity(
                        _lookup(
                            (card,),
                            (
                                "Temperature (Sensor edge) (C)",
                                "Temperature (Sensor junction) (C)",
                                "Temperature (Sensor hotspot) (C)",
                            ),
                        )
                    )[0],
                    power_w=_quantity(
                        _lookup(
                            (card,),
                            (
                                "Average Graphics Package Power (W)",
                                "Current Socket Graphics Package Power (W)",
                            ),
                        )
                    )[0],
                    power_limit_w=_quantity(_lookup((card,), ("Max Graphics Package Power (W)",)))[
                        0
                    ],
                )
            )
        return sorted(gpus, key=lambda g: g.index)
    except Exception:  # noqa: BLE001  # a new rocm-smi layout costs the readings, not the app
        return []
