"""Build the bundled catalog: one uniform row per launchable offering, with its total price.

Run: `python -m skytui.catalog.build /path/to/raw/catalog` (the folder holding the
SkyPilot-catalog snapshots `aws_vms.csv` and `gcp_vms.csv`). The AWS rows kept in the
project under `skytui/catalog/extra/` (Inferentia, Trainium, m5 and t2.small types; its SOURCE.md) are
folded in too. Writes `skytui/catalog/data/{aws,gcp}.csv` and the sidecar `data/SOURCE.md`.
"""

from __future__ import annotations

import ast
import csv
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

COLUMNS = (
    "instance_type", "vcpus", "memory_gib", "accelerator_name", "accelerator_count",
    "accelerator_memory_gib", "region", "zone", "price", "spot_price",
)
DATA_DIR = Path(__file__).resolve().parent / "data"
# More source rows kept inside the project (same upstream file, other instance types),
# stored as one row per type plus one price row per zone; see extra/SOURCE.md.
EXTRA_DIR = Path(__file__).resolve().parent / "extra"

# GCP n1 hosts take attachable GPUs; GCP caps the host vCPUs per GPU count
# (https://cloud.google.com/compute/docs/gpus, "N1 general-purpose" table).
N1_MAX_VCPUS: dict[str, dict[int, int]] = {
    "T4": {1: 48, 2: 48, 4: 96},
    "P4": {1: 24, 2: 48, 4: 96},
    "P100": {1: 16, 2: 32, 4: 96},
    "V100": {1: 12, 2: 24, 4: 48, 8: 96},
}
# g2 machine types come with a fixed number of L4s.
G2_L4_COUNT = {4: 1, 8: 1, 12: 1, 16: 1, 32: 1, 24: 2, 48: 4, 96: 8}
# AWS Local Zone IDs carry a metro code (use1-atl2-az1); they need an account opt-in.
_AWS_LOCAL_ZONE_RE = re.compile(r"^[a-z]+\d+-[a-z]+\d+-az\d+\Z")
_MIB_RE = re.compile(r"['\"]SizeInMiB['\"]\s*:\s*(\d+)")


@dataclass
class Report:
    """What the build kept and dropped, for the sidecar."""

    rows: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


def gpu_memory_gib(gpu_info: str) -> float | None:
    """Per-GPU memory in GiB from a GpuInfo cell (Python-literal text), or None."""
    if not gpu_info.strip():
        return None
    try:
        info = ast.literal_eval(gpu_info)
        mib = info["Gpus"][0]["MemoryInfo"]["SizeInMiB"]
    except (ValueError, SyntaxError, KeyError, IndexError, TypeError):
        m = _MIB_RE.search(gpu_info)  # tolerate a cell that is not quite a literal
        if not m:
            return None
        mib = m.group(1)
    return round(float(mib) / 1024, 2)


def _num(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    r = round(x, 6)
    return str(int(r)) if r == int(r) else repr(r)


def _row(itype: str, vcpus: float, mem: float, acc: str | None, count: int,
         acc_mem: float | None, region: str, zone: str, price: float,
         spot: float | None) -> list[str]:
    return [itype, _fmt(vcpus), _fmt(mem), acc or "", str(count) if acc else "0",
            _fmt(acc_mem), region, zone, _fmt(price), _fmt(spot)]


def build_aws(rows: list[dict[str, str]], report: Report) -> list[list[str]]:
    """AWS rows already price the whole instance; the zone stays a zone ID (use1-az1)."""
    out = []
    for r in rows:
        price = _num(r["Price"])
        if price is None:
            report.dropped[f"aws {r['InstanceType']}: no on-demand price in the source"] += 1
            continue
        if _AWS_LOCAL_ZONE_RE.match(r["AvailabilityZone"]):
            report.dropped["aws: in a Local Zone (needs an account opt-in)"] += 1
            continue
        acc = r["AcceleratorName"].strip() or None
        count = int(float(r["AcceleratorCount"])) if acc else 0
        out.append(_row(r["InstanceType"], float(r["vCPUs"]), float(r["MemoryGiB"]), acc, count,
                        gpu_memory_gib(r["GpuInfo"]) if acc else None, r["Region"],
                        r["AvailabilityZone"], price, _num(r["SpotPrice"])))
    report.rows["aws"] = len(out)
    return out


def gcp_bundled_gpus(machine_type: str) -> tuple[str, int] | None:
    """The accelerators a GCP machine type comes with, or None for a plain host (n1)."""
    m = re.fullmatch(r"(a2|a3)-(\w+?)gpu-(\d+)g(-nolssd)?", machine_type)
    if m:
        family, kind, n = m.group(1), m.group(2), int(m.group(3))
        name = {
            ("a2", "high"): "A100", ("a2", "mega"): "A100", ("a2", "ultra"): "A100-80GB",
            ("a3", "high"): "H100", ("a3", "edge"): "H100", ("a3", "mega"): "H100-MEGA",
            ("a3", "ultra"): "H200",
        }.get((family, kind))
        if name is None:
            raise ValueError(f"unknown GCP GPU machine type {machine_type!r}")
        return name, n
    m = re.fullmatch(r"g2-standard-(\d+)", machine_type)
    if m:
        return "L4", G2_L4_COUNT[int(m.group(1))]
    return None


def build_gcp(rows: list[dict[str, str]], report: Report) -> list[list[str]]:
    """Combine GCP host rows with accelerator rows in the same zone into whole offerings."""
    gpus: dict[tuple[str, int, str], dict[str, str]] = {}
    hosts = []
    for r in rows:
        if r["InstanceType"].strip():
            hosts.append(r)
        else:
            gpus[(r["AcceleratorName"], int(float(r["AcceleratorCount"])),
                  r["AvailabilityZone"])] = r
    used: set[tuple[str, int, str]] = set()
    out = []

    def combine(h: dict[str, str], acc: str | None, count: int) -> None:
        host_price, host_spot = _num(h["Price"]), _num(h["SpotPrice"])
        zone = h["AvailabilityZone"]
        acc_mem = None
        if acc:
            g = gpus.get((acc, count, zone))
            if g is None:
                report.dropped[f"gcp {h['InstanceType']}: no {acc}:{count} price in its zone"] += 1
                return
            used.add((acc, count, zone))
            gp, gs = _num(g["Price"]), _num(g["SpotPrice"])
            host_price = None if host_price is None or gp is None else host_price + gp
            host_spot = None if host_spot is None or gs is None else host_spot + gs
            acc_mem = gpu_memory_gib(g["GpuInfo"])
        if host_price is None:
            report.dropped[f"gcp {h['InstanceType']}: no on-demand price"] += 1
            return
        out.append(_row(h["InstanceType"], float(h["vCPUs"]), float(h["MemoryGiB"]), acc,
                        count, acc_mem, h["Region"], zone, host_price, host_spot))

    for h in hosts:
        bundled = gcp_bundled_gpus(h["InstanceType"])
        if bundled:
            combine(h, *bundled)
            continue
        combine(h, None, 0)  # the n1 host alone is a CPU offering
        vcpus = float(h["vCPUs"])
        for acc, caps in N1_MAX_VCPUS.items():
            for count, max_vcpus in caps.items():
                if vcpus <= max_vcpus and (acc, count, h["AvailabilityZone"]) in gpus:
                    combine(h, acc, count)
    unused = Counter(k[0] for k in gpus if k not in used)
    for acc, n in sorted(unused.items()):
        report.notes.append(f"gcp {acc}: {n} accelerator price rows match no kept host type "
                            f"in their zone (not launchable from this snapshot)")
    report.rows["gcp"] = len(out)
    return out


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def read_extra_aws(extra_dir: Path = EXTRA_DIR) -> list[dict[str, str]]:
    """The extra AWS source rows, rebuilt into the upstream vms.csv row shape.

    The per-type columns (accelerator, vCPUs, memory, GpuInfo, Arch) repeat on every zone
    row upstream, so the project keeps them once per type and joins them back here.
    """
    types_path, prices_path = extra_dir / "aws_types.csv", extra_dir / "aws_prices.csv"
    if not types_path.exists() or not prices_path.exists():
        return []
    types = {t["InstanceType"]: t for t in _read(types_path)}
    out = []
    for p in _read(prices_path):
        t = types.get(p["InstanceType"])
        if t is None:
            raise ValueError(f"{prices_path}: {p['InstanceType']} has no row in {types_path}")
        out.append({**t, **p})
    return out


def merge_aws(raw: list[dict[str, str]], extra: list[dict[str, str]]) -> list[dict[str, str]]:
    """Raw rows plus the extra rows; a (type, zone) already in the raw snapshot wins."""
    seen = {(r["InstanceType"], r["AvailabilityZone"]) for r in raw}
    return raw + [r for r in extra if (r["InstanceType"], r["AvailabilityZone"]) not in seen]


def _write(path: Path, rows: list[list[str]]) -> None:
    rows.sort(key=lambda r: (r[0], r[6], r[7]))
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows)


SIDECAR = """\
# Bundled catalog: where it comes from and how it was built

- Source: github.com/skypilot-org/skypilot-catalog, schema v8 (public price facts
  compiled from the AWS and GCP public price lists).
  AWS `catalogs/v8/aws/vms.csv` at commit 00148f2af3672e2229b4f7bf8157d5a3f36e3c35;
  GCP `catalogs/v8/gcp/vms.csv` at commit 006059e0f18acb1341e22a27751e9f80df6ba92f.
  Only GPU families and a few CPU types were kept in the raw snapshot (see below).
  More rows of the same AWS file (Inferentia inf1/inf2, Trainium trn1/trn1n, CPU m5 and t2.small types) are kept in the
  project under `skytui/catalog/extra/` (see its SOURCE.md) and folded in by the build.
- Date the prices refer to: unknown (the source files carry no date).
- Built: {built} by `python -m skytui.catalog.build <raw folder>` (skytui/catalog/build.py).

## Columns (one row per launchable offering)

`{columns}`

- `price`: on-demand USD per hour for the whole node, accelerators included.
- `spot_price`: spot USD per hour; empty when the source has no spot price.
- `accelerator_memory_gib`: memory of ONE accelerator, from the source's GpuInfo.
- `accelerator_count`: 0 and `accelerator_name` empty for CPU-only offerings.

## What the build did

- AWS: one source row = one offering (the price covers the whole instance). The
  `zone` column holds AWS availability-zone IDs (e.g. `use1-az1`), as the source
  does, not zone names: zone names map to different IDs in different accounts, so
  the provider must translate IDs to names per account (DescribeAvailabilityZones).
  Rows in AWS Local Zones (IDs with a metro code, e.g. `use1-atl2-az1`) are left
  out: launching there needs an account opt-in.
- GCP: a host row (machine type) and an accelerator row (empty InstanceType) in the
  same zone are summed, for both on-demand and spot (spot empty if either part lacks
  one). a2-highgpu/a2-megagpu carry A100, a2-ultragpu A100-80GB, a3-highgpu and
  a3-edgegpu H100, a3-megagpu H100-MEGA, a3-ultragpu H200, g2-standard-N a fixed
  number of L4 (1, or 2/4/8 for -24/-48/-96). n1-standard/highmem-4/8/16 hosts are
  offered alone (CPU) and with T4 1/2/4, P4 1/2/4, P100 1/2/4 and V100 1/2/4/8
  where GCP's vCPU limit per GPU count allows it (e.g. V100:1 only up to 12 vCPUs).

## Rows

{rows}

## Dropped or unused source rows

{dropped}
"""


def build(raw_dir: Path, out_dir: Path = DATA_DIR, extra_dir: Path = EXTRA_DIR) -> Report:
    """Read the raw snapshots in `raw_dir` (plus the project's extra AWS rows in
    `extra_dir`) and write the bundled catalog into `out_dir`."""
    report = Report()
    aws = build_aws(merge_aws(_read(raw_dir / "aws_vms.csv"), read_extra_aws(extra_dir)), report)
    gcp = build_gcp(_read(raw_dir / "gcp_vms.csv"), report)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(out_dir / "aws.csv", aws)
    _write(out_dir / "gcp.csv", gcp)
    rows = "\n".join(
        f"- {cloud}.csv: {n} rows, {(out_dir / f'{cloud}.csv').stat().st_size // 1024} KiB"
        for cloud, n in sorted(report.rows.items()))
    dropped = [f"- {why}: {n} row(s)" for why, n in sorted(report.dropped.items())]
    dropped += [f"- {note}" for note in report.notes]
    (out_dir / "SOURCE.md").write_text(SIDECAR.format(
        built=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        columns=",".join(COLUMNS), rows=rows, dropped="\n".join(dropped) or "- none"))
    return report


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m skytui.catalog.build RAW_CATALOG_DIR", file=sys.stderr)
        return 2
    report = build(Path(args[0]))
    for cloud, n in sorted(report.rows.items()):
        print(f"{cloud}: {n} offerings")
    for why, n in sorted(report.dropped.items()):
        print(f"dropped {n}: {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
