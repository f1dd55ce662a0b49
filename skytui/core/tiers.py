"""`disk_tier` and `network_tier` per cloud: the volume and network a node really gets.

Disk tiers map onto each cloud's volume types; the price is the volume's list price per
hour (capacity plus provisioned IOPS/throughput), shown in the plan beside the node's.
Rates are the public us-east-1 (EBS) and us-central1 (Persistent Disk) list prices as
published in 2025, per GiB-month (730 hours); other regions differ by a few percent, so
they are labelled as estimates. The local cloud records the tier and charges nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

HOURS_PER_MONTH = 730.0
DEFAULT_DISK_TIER = "medium"  # what a task without `disk_tier` gets, as in SkyPilot

# EBS (us-east-1): gp3 $0.08/GiB-mo, IOPS over 3000 $0.005/mo, MiB/s over 125 $0.04/mo;
# io2 $0.125/GiB-mo, IOPS $0.065/mo up to 32,000 and $0.0455/mo beyond.
_GP3_GIB, _GP3_IOPS, _GP3_MBPS = 0.08, 0.005, 0.04
_IO2_GIB, _IO2_IOPS_LOW, _IO2_IOPS_HIGH = 0.125, 0.065, 0.0455
# Persistent Disk (us-central1) per GiB-month; hyperdisk-balanced: capacity, IOPS over 3000,
# MiB/s over 140.
_PD = {"pd-standard": 0.04, "pd-balanced": 0.10, "pd-ssd": 0.17}
_HDB_GIB, _HDB_IOPS, _HDB_MBPS = 0.08, 0.005, 0.04

# AWS instance types whose network interfaces can be EFA (Elastic Fabric Adapter).
_EFA_TYPES = frozenset((
    "p4d.24xlarge", "p4de.24xlarge", "p5.48xlarge", "p5e.48xlarge", "p5en.48xlarge",
    "g5.48xlarge", "g4dn.8xlarge", "g4dn.12xlarge", "g4dn.16xlarge", "g4dn.metal",
))
# GCP machine series that take hyperdisk-balanced boot disks (of those in the catalog).
_HYPERDISK_SERIES = ("a3-",)


@dataclass(frozen=True)
class Volume:
    """The boot volume a tier means on one cloud and instance type."""

    tier: str
    disk_type: str  # gp3, io2, pd-balanced, hyperdisk-balanced, ... ('local' on local)
    size_gib: int
    iops: int | None = None  # provisioned IOPS, where the type takes a number
    throughput_mbps: int | None = None  # provisioned MiB/s, likewise
    price_per_hour: float = 0.0  # the volume alone, $/h per node
    note: str = ""  # where the tier could not be met exactly, why

    def describe(self) -> str:
        extra = [f"{self.iops} IOPS" if self.iops else "",
                 f"{self.throughput_mbps} MiB/s" if self.throughput_mbps else ""]
        detail = ", ".join(e for e in extra if e)
        text = f"{self.size_gib} GiB {self.disk_type}" + (f" ({detail})" if detail else "")
        return text + (f"; {self.note}" if self.note else "")


def volume(cloud: str, instance_type: str, tier: str | None, size_gib: int) -> Volume:
    """The volume for `tier` (None: the default) on `cloud`'s `instance_type`."""
    tier = tier or DEFAULT_DISK_TIER
    if cloud == "aws":
        return _aws(instance_type, tier, size_gib)
    if cloud == "gcp":
        return _gcp(instance_type, tier, size_gib)
    return Volume(tier, "local", size_gib, note="the local cloud records the tier only")


def _gp3(tier: str, size: int, iops: int, mbps: int) -> Volume:
    # gp3 allows at most 500 IOPS per GiB and 0.25 MiB/s per IOPS.
    iops = max(3000, min(iops, 500 * size))
    mbps = max(125, min(mbps, iops // 4))
    price = (size * _GP3_GIB + (iops - 3000) * _GP3_IOPS + (mbps - 125) * _GP3_MBPS)
    return Volume(tier, "gp3", size, iops, mbps, price / HOURS_PER_MONTH)


def _aws(instance_type: str, tier: str, size: int) -> Volume:
    if tier == "low":
        return _gp3(tier, size, 3000, 125)
    if tier == "medium":
        return _gp3(tier, size, 6000, 250)
    if tier == "high":
        return _gp3(tier, size, 16000, 1000)
    iops = min(64000, 1000 * size)  # io2 on Nitro: up to 64,000 IOPS, 1,000 per GiB
    iops_price = min(iops, 32000) * _IO2_IOPS_LOW + max(0, iops - 32000) * _IO2_IOPS_HIGH
    return Volume(tier, "io2", size, iops, None,
                  (size * _IO2_GIB + iops_price) / HOURS_PER_MONTH)


def _gcp(instance_type: str, tier: str, size: int) -> Volume:
    if tier in ("ultra", "best"):
        if instance_type.startswith(_HYPERDISK_SERIES):
            iops = min(160000, max(3000, 500 * size))
            mbps = min(2400, max(140, iops // 4))
            price = size * _HDB_GIB + (iops - 3000) * _HDB_IOPS + (mbps - 140) * _HDB_MBPS
            return Volume(tier, "hyperdisk-balanced", size, iops, mbps, price / HOURS_PER_MONTH)
        return Volume(tier, "pd-ssd", size, price_per_hour=size * _PD["pd-ssd"] / HOURS_PER_MONTH,
                      note=f"{instance_type} takes no hyperdisk, so pd-ssd is its fastest")
    disk_type = {"low": "pd-standard", "medium": "pd-balanced", "high": "pd-ssd"}[tier]
    return Volume(tier, disk_type, size, price_per_hour=size * _PD[disk_type] / HOURS_PER_MONTH)


@dataclass(frozen=True)
class Network:
    """What `network_tier` gives on one cloud and instance type."""

    tier: str
    efa: bool = False  # AWS: EFA interfaces
    gvnic: bool = False  # GCP: gVNIC with Tier_1 bandwidth
    what: str = "standard networking"


def network(cloud: str, instance_type: str, tier: str | None) -> Network:
    tier = tier or "standard"
    if tier != "best":
        return Network(tier)
    if cloud == "aws":
        if instance_type in _EFA_TYPES:
            return Network(tier, efa=True, what="EFA network interfaces")
        return Network(tier, what=f"standard networking ({instance_type} has no EFA)")
    if cloud == "gcp":
        if instance_type.startswith(("a2-", "a3-")):
            return Network(tier, gvnic=True, what="gVNIC with Tier_1 bandwidth")
        return Network(tier, gvnic=True, what=f"gVNIC ({instance_type} takes no Tier_1 bandwidth)")
    return Network(tier, what="host networking (the local cloud has no faster tier)")
