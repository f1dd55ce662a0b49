"""The usage record the store hands to cost accounting: one row of `usage_intervals`."""

from __future__ import annotations

from typing import Any, NamedTuple

COMPUTE = "compute"
DISK = "disk"
KINDS = (COMPUTE, DISK)


class _Fields(NamedTuple):
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


class UsageInterval(_Fields):
    """A stretch of time one node (or its disk) was billed at one price.

    A named tuple rather than a dataclass: reports build 100,000 of these from the store,
    and a tuple is built in one step where a frozen dataclass sets each field on its own.
    """

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> UsageInterval:
        self = super().__new__(cls, *args, **kwargs)
        # A negative price or count is a bug upstream; refusing it keeps every total >= 0.
        if self.price_per_hour < 0 or self.on_demand_price_per_hour < 0:
            raise ValueError(f"usage interval {self.id}: negative price")
        if self.accelerator_count < 0:
            raise ValueError(f"usage interval {self.id}: negative accelerator count")
        if self.kind not in KINDS:
            raise ValueError(f"usage interval {self.id}: kind must be one of {KINDS}")
        return self

    @classmethod
    def trusted(cls, values: tuple[Any, ...]) -> UsageInterval:
        """Build from values already checked in bulk (the store's rows): no per-row checks."""
        return tuple.__new__(cls, values)

    def replace(self, **changes: Any) -> UsageInterval:
        """A copy with some fields changed, checked like a new record."""
        return type(self)(**{**self._asdict(), **changes})

    @property
    def is_estimate(self) -> bool:
        """True when the price came from an estimate rather than a published catalog."""
        return "estimate" in self.estimate_source
