"""Synthetic usage intervals for benchmarks and demos (deterministic for a seed)."""

from __future__ import annotations

import random

from skytui.core.costs.model import COMPUTE, DISK, UsageInterval

# (cloud, region, zone, instance type, accelerator, count, on-demand $/h); illustrative
# figures of the catalog's shape, not quotes.
_OFFERS = (
    ("aws", "us-east-1", "us-east-1a", "p4d.24xlarge", "A100", 8, 32.7726),
    ("aws", "us-west-2", "us-west-2b", "g5.xlarge", "A10G", 1, 1.006),
    ("aws", "eu-west-1", None, "m6i.large", None, 0, 0.107),
    ("gcp", "us-central1", "us-central1-a", "a2-highgpu-1g", "A100", 1, 3.673385),
    ("gcp", "europe-west4", "europe-west4-b", "g2-standard-4", "L4", 1, 0.7755),
    ("local", "local-1", "local-1a", "local.gpu-small", "H200", 1, 4.5),
)
_END_REASONS = ("stopped", "down", "spot-preempted", "autostop")


def generate_intervals(
    n: int,
    seed: int = 0,
    *,
    start: float = 1_790_000_000.0,
    days: int = 60,
    open_share: float = 0.02,
) -> list[UsageInterval]:
    """`n` plausible intervals over `days` days from `start`: spot and on-demand, disks, open ones."""
    rng = random.Random(seed)
    users = [f"user{i}" for i in range(25)]
    out: list[UsageInterval] = []
    for i in range(n):
        cloud, region, zone, itype, acc, count, od = rng.choice(_OFFERS)
        kind = DISK if rng.random() < 0.05 else COMPUTE
        spot = kind == COMPUTE and rng.random() < 0.6
        price = round(od * rng.uniform(0.25, 0.4), 6) if spot else od
        if kind == DISK:
            price = od = round(0.0002 * (100 + 400 * rng.random()), 6)
        started = start + rng.random() * days * 86400
        is_open = rng.random() < open_share
        length = rng.expovariate(1 / (6 * 3600))
        cluster_n = rng.randrange(400)
        job = rng.randrange(5000) if rng.random() < 0.5 else None
        out.append(
            UsageInterval(
                id=i + 1,
                cluster=f"cluster-{cluster_n}",
                node=rng.randrange(4),
                job_id=job,
                attempt=None if job is None else rng.randrange(1, 4),
                user=rng.choice(users),
                cloud=cloud,
                region=region,
                zone=zone,
                instance_type=itype,
                accelerator=acc,
                accelerator_count=count,
                spot=spot,
                price_per_hour=price,
                on_demand_price_per_hour=od,
                started_at=round(started, 3),
                ended_at=None if is_open else round(started + length, 3),
                end_reason=None if is_open else rng.choice(_END_REASONS),
                estimate_source="local:reference-estimate"
                if cloud == "local"
                else f"catalog:{cloud}",
                kind=kind,
            )
        )
    return out


def _utc(text: str) -> float:
    from datetime import datetime, timezone

    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


DEMO_NOW = _utc("2026-11-02T12:00:00")


def _demo(
    id: int,
    cluster: str,
    user: str,
    cloud: str,
    region: str,
    zone: str,
    instance_type: str,
    accelerator: str | None,
    count: int,
    price: float,
    on_demand: float,
    start: str,
    end: str | None,
    reason: str | None,
    *,
    node: int = 0,
    job: int | None = None,
    attempt: int | None = None,
    spot: bool = False,
    kind: str = COMPUTE,
) -> UsageInterval:
    """One demo interval; the estimate source follows the cloud."""
    return UsageInterval(
        id=id, cluster=cluster, node=node, job_id=job, attempt=attempt, user=user, cloud=cloud,
        region=region, zone=zone, instance_type=instance_type, accelerator=accelerator,
        accelerator_count=count, spot=spot, price_per_hour=price,
        on_demand_price_per_hour=on_demand, started_at=_utc(start),
        ended_at=None if end is None else _utc(end), end_reason=reason,
        estimate_source="local:reference-estimate" if cloud == "local" else f"catalog:{cloud}",
        kind=kind,
    )  # fmt: skip


def demo_intervals() -> list[UsageInterval]:
    """A small team's two days, for demos and golden tests; `DEMO_NOW` is its clock.

    A 2-node spot training job is preempted on AWS across the month boundary and
    recovers on GCP; a dev VM autostops, keeps its disk, then restarts at a new price;
    a local-cloud notebook (estimated price) and a CPU box that was stopped.
    """
    out: list[UsageInterval] = []
    for node in (0, 1):
        out += [
            _demo(len(out) + 1, "train-llm", "alice", "aws", "us-east-1", "us-east-1a",
                  "p4d.24xlarge", "A100", 8, 9.8318, 32.7726, "2026-10-31T20:00:00",
                  "2026-11-01T02:30:00", "spot-preempted", node=node, job=7, attempt=1, spot=True),
            _demo(len(out) + 2, "train-llm", "alice", "gcp", "us-central1", "us-central1-b",
                  "a2-highgpu-8g", "A100", 8, 8.8, 29.387816, "2026-11-01T03:10:00",
                  "2026-11-01T15:45:00", "down", node=node, job=7, attempt=2, spot=True),
        ]  # fmt: skip
    dev = ("dev-alice", "alice", "aws", "us-west-2", "us-west-2a", "g5.2xlarge", "A10G", 1)
    out += [
        _demo(5, *dev, 1.212, 1.212, "2026-11-01T09:00:00", "2026-11-01T18:30:00", "autostop"),
        _demo(6, *dev, 0.010959, 0.010959, "2026-11-01T18:30:00", "2026-11-02T08:00:00",
              "started", kind=DISK),
        _demo(7, *dev, 1.25, 1.25, "2026-11-02T08:00:00", None, None),
        _demo(8, "bob-notebook", "bob", "local", "local-1", "local-1a", "local.gpu-small",
              "H200", 1, 4.5, 4.5, "2026-11-02T06:00:00", None, None),
        _demo(9, "carol-cpu", "carol", "gcp", "europe-west4", "europe-west4-a", "n2-standard-8",
              None, 0, 0.4516, 0.4516, "2026-11-01T10:00:00", "2026-11-01T12:00:00", "stopped"),
    ]  # fmt: skip
    return out
