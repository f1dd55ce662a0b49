"""Offerings of the embedded local cloud: slices of this host, priced by reference estimates."""

from __future__ import annotations

import csv
import os
import re
import shutil
import statistics
import subprocess
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from skytui.catalog import accelerators
from skytui.catalog.catalog import Offering, per_gpu_prices

NVIDIA_SMI_TIMEOUT_S = 3.0
QUERY = ("nvidia-smi", "--query-gpu=index,name,memory.total,uuid",
         "--format=csv,noheader,nounits")


@dataclass(frozen=True)
class HostGpu:
    """One GPU of this host as nvidia-smi reports it, with the catalog-style name."""

    index: int
    name: str  # normalised: "H200", "A100-80GB", "RTX4090"
    memory_mib: int | None
    uuid: str
    raw_name: str = ""  # as the driver spells it: "NVIDIA H200"


# Words in driver names that say nothing about the model (vendor, brand, form factor).
_NOISE = re.compile(r"^(nvidia|tesla|geforce|quadro|sxm\d*|pcie|hbm\d*e?|nvl|generation)\Z",
                    re.IGNORECASE)
_MEMORY = re.compile(r"^(\d+)\s*gi?b?\Z", re.IGNORECASE)
# Models the catalog names by memory size too; any other size is dropped from the name.
_MEMORY_VARIANTS = {"A100": {80}, "V100": {32}}


def normalise_gpu_name(raw: str) -> str:
    """The catalog-style name of a driver GPU name ("NVIDIA A100-SXM4-80GB" -> "A100-80GB")."""
    exact = accelerators.canonical(raw)
    if exact:
        return exact
    words = [w for w in re.split(r"[\s\-_/]+", raw.strip()) if w]
    memory = None
    model_words: list[str] = []
    for w in words:
        m = _MEMORY.match(w)
        if m and model_words:  # a size before any model word is not a size ("80GB" alone)
            memory = int(m.group(1))
        elif not _NOISE.match(w):
            model_words.append(w)
    model = "".join(model_words) or raw.strip().replace(" ", "")
    model = accelerators.canonical(model) or model
    if memory and memory in _MEMORY_VARIANTS.get(model, ()):
        model = f"{model}-{memory}GB"
    return accelerators.canonical(model) or model


def parse_query(text: str) -> list[HostGpu]:
    """HostGpus from `nvidia-smi --query-gpu=index,name,memory.total,uuid` CSV output."""
    gpus = []
    for row in csv.reader(text.splitlines(), skipinitialspace=True):
        if len(row) < 4:
            continue
        index, name, mem, uuid = (c.strip() for c in row[:4])
        try:
            idx = int(index)
        except ValueError:
            continue
        mem_mib = int(float(mem)) if re.fullmatch(r"\d+(\.\d+)?", mem) else None
        gpus.append(HostGpu(idx, normalise_gpu_name(name), mem_mib, uuid, name))
    return gpus


def host_gpus() -> list[HostGpu]:
    """This host's NVIDIA GPUs; [] when nvidia-smi is missing, fails or hangs."""
    exe = shutil.which(QUERY[0])
    if exe is None:
        return []
    try:
        done = subprocess.run([exe, *QUERY[1:]], capture_output=True, text=True,
                              timeout=NVIDIA_SMI_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    if done.returncode != 0:
        return []
    return parse_query(done.stdout)


def _catalog_gpu_price(name: str) -> float | None:
    prices = per_gpu_prices(name)
    return statistics.median(prices) if prices else None


@dataclass(frozen=True)
class LocalPrices:
    """Reference ESTIMATES for what a slice of this host would cost in the cloud.

    The local cloud bills nobody; these figures let costs and the planner compare it
    with AWS and GCP. A GPU-hour defaults to the median on-demand price per GPU of that
    model in the bundled AWS/GCP catalogs (whole-instance price / GPU count, so it
    already carries a host share), else `default_gpu_hour`.
    """

    vcpu_hour: float = 0.04
    gib_hour: float = 0.005
    gpu_hour: Mapping[str, float] = field(default_factory=dict)  # overrides per model
    default_gpu_hour: float = 2.0
    spot_ratio: float = 0.35

    def per_gpu_hour(self, name: str) -> float:
        """$/h for one GPU of model `name`."""
        if name in self.gpu_hour:
            return self.gpu_hour[name]
        known = _catalog_gpu_price(name)
        return known if known is not None else self.default_gpu_hour


def _host_mem_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 4.0


def _powers_of_two_upto(n: int, cap: int | None = None) -> list[int]:
    out, k = [], 1
    while k <= n and (cap is None or k <= cap):
        out.append(k)
        k *= 2
    return out


def gpu_type_name(gpu: str, count: int) -> str:
    """The local instance type for `count` GPUs of model `gpu` ("local-h200x1")."""
    return f"local-{gpu.lower()}x{count}"


def local_offerings(
    regions: Mapping[str, Sequence[str]],
    prices: LocalPrices | None = None,
    host_cpus: int | None = None,
    host_mem_gib: float | None = None,
    gpus: list[HostGpu] | None = None,
) -> list[Offering]:
    """Every slice type of this host, offered in every given region and zone.

    CPU types `local-cpu{N}` (N = 1, 2, 4, ... up to the host's CPUs) get memory in
    proportion; GPU types `local-{gpu}x{k}` (k = 1, 2, 4, 8 up to the host's GPUs of
    that model) get their share of CPUs and memory. A region with no zones is offered
    with zone None.
    """
    prices = prices or LocalPrices()
    cpus = max(1, host_cpus if host_cpus is not None else (os.cpu_count() or 1))
    mem = host_mem_gib if host_mem_gib is not None else _host_mem_gib()
    gpus = host_gpus() if gpus is None else gpus
    per_cpu_mem = mem / cpus

    # (type, vcpus, memory, accelerator, count, accelerator memory, price)
    types: list[tuple[str, float, float, str | None, int, float | None, float]] = []
    for n in _powers_of_two_upto(cpus):
        m = min(mem, round(n * per_cpu_mem, 2))
        types.append((f"local-cpu{n}", float(n), m, None, 0, None,
                      n * prices.vcpu_hour + m * prices.gib_hour))
    by_model = Counter(g.name for g in gpus)
    for model, have in sorted(by_model.items()):
        sizes = [g.memory_mib for g in gpus if g.name == model and g.memory_mib]
        acc_mem = round(min(sizes) / 1024, 2) if sizes else None
        for k in _powers_of_two_upto(have, cap=8):
            share = k / len(gpus)
            types.append((gpu_type_name(model, k), float(max(1, int(cpus * share))),
                          round(mem * share, 2), model, k, acc_mem,
                          k * prices.per_gpu_hour(model)))

    out = []
    for region, zones in regions.items():
        zone_list: list[str | None] = list(zones) or [None]
        for zone in zone_list:
            for itype, v, m, acc, k, acc_mem, price in types:
                out.append(Offering("local", itype, v, m, acc, k, acc_mem, region, zone,
                                    round(price, 6), round(price * prices.spot_ratio, 6)))
    return out
