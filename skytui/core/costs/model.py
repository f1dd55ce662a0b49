"""The usage record the store hands to cost accounting: one row of `usage_intervals`."""

from __future__ import annotations

from dataclasses import dataclass

COMPUTE = "compute"
DISK = "disk"
KINDS = (COMPUTE, DISK)


@dataclass(frozen=True, slots=True)
class UsageInterval:
    """A stretch of time one node (or its disk) was billed at one price."""

    id: int
    cluster: str
    node: int  # node rank
    job_id: int | None  # managed job, if any
    attempt: int | None
    user: str
    cloud: str
    region: str
    zone: str | None
    instance_type: str
    accelerator: str | None  # e.g. "A100"
    accelerator_count: int
    spot: bool
    price_per_hour: float  # in force for this interval (spot or on-demand), USD
    on_demand_price_per_hour: float  # the on-demand price of the same type in the same region
    started_at: float  # unix seconds UTC
    ended_at: float | None  # None: still open (count until `now`)
    end_reason: str | None  # "stopped" | "down" | "spot-preempted" | "autostop" | ...
    estimate_source: str  # e.g. "catalog:aws" or "local:reference-estimate"
    kind: str = COMPUTE  # "compute" or "disk" (disk cost while stopped)

    def __post_init__(self) -> None:
        # A negative price or count is a bug upstream; refusing it keeps every total >= 0.
        if self.price_per_hour < 0 or self.on_demand_price_per_hour < 0:
            raise ValueError(f"usage interval {self.id}: negative price")
        if self.accelerator_count < 0:
            raise ValueError(f"usage interval {self.id}: negative accelerator count")
        if self.kind not in KINDS:
            raise ValueError(f"usage interval {self.id}: kind must be one of {KINDS}")

    @property
    def is_estimate(self) -> bool:
        """True when the price came from an estimate rather than a published catalog."""
        return "estimate" in self.estimate_source
