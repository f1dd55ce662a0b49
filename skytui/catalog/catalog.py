"""Offerings of the bundled AWS and GCP catalogs, read lazily once per process."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
CATALOG_CLOUDS = ("aws", "gcp")  # clouds with a bundled price file; `local` is built at run time


@dataclass(frozen=True, slots=True)
class Offering:
    """One launchable node type in one zone, with its hourly prices."""

    cloud: str
    instance_type: str
    vcpus: float
    memory_gib: float
    accelerator_name: str | None
    accelerator_count: int
    accelerator_memory_gib: float | None  # per accelerator
    region: str
    zone: str | None  # AWS: a zone ID such as use1-az1 (see data/SOURCE.md)
    price: float  # on-demand $/h for the whole node
    spot_price: float | None  # None: the catalog knows no spot price


@cache
def load(cloud: str) -> list[Offering]:
    """The bundled offerings of `cloud` (aws or gcp); callers must not mutate the list."""
    if cloud not in CATALOG_CLOUDS:
        raise ValueError(f"no bundled catalog for cloud {cloud!r}")
    out = []
    with (DATA_DIR / f"{cloud}.csv").open(newline="") as f:
        rows = csv.reader(f)
        next(rows)  # header, checked by the build and the tests
        for itype, vcpus, mem, acc, count, acc_mem, region, zone, price, spot in rows:
            out.append(Offering(
                cloud, itype, float(vcpus), float(mem), acc or None, int(count),
                float(acc_mem) if acc_mem else None, region, zone or None, float(price),
                float(spot) if spot else None))
    return out


def offerings(clouds: Iterable[str]) -> list[Offering]:
    """All bundled offerings of the given catalog clouds, in catalog order."""
    return [o for c in clouds for o in load(c)]


@cache
def accelerator_names() -> tuple[str, ...]:
    """Every accelerator name in the bundled catalogs, sorted."""
    return tuple(sorted({o.accelerator_name for o in offerings(CATALOG_CLOUDS)
                         if o.accelerator_name}))


def per_gpu_prices(name: str) -> list[float]:
    """On-demand $/h per accelerator of every catalog offering of `name` (host share included)."""
    return [o.price / o.accelerator_count for o in offerings(CATALOG_CLOUDS)
            if o.accelerator_name == name and o.accelerator_count]
