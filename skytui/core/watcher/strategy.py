"""Where to relaunch: FAILOVER (other zones of the region first) or EAGER_NEXT_REGION."""

from __future__ import annotations

import dataclasses
import random

from skytui.config_model import Config
from skytui.core.planner import Location, Plan
from skytui.core.watcher.policy import backoff_delay
from skytui.task.spec import Task

FAILOVER, EAGER_NEXT_REGION = "FAILOVER", "EAGER_NEXT_REGION"


def strategy_for(task: Task, config: Config) -> str:
    """The task's strategy, else the config's, else by whether the job is pinned to a region."""
    for r in task.resources:
        if r.job_recovery and r.job_recovery.strategy:
            return r.job_recovery.strategy.upper()
    if config.recovery_strategy:
        return config.recovery_strategy.upper()
    pinned = any(r.region or r.zone for r in task.resources)
    return FAILOVER if pinned else EAGER_NEXT_REGION


def blocked_after(strategy: str, lost: Location | None) -> list[Location]:
    """Where not to go right after losing nodes at `lost`."""
    if lost is None:
        return []
    if strategy == EAGER_NEXT_REGION:
        return [Location(lost.cloud, lost.region, None)]
    return [Location(lost.cloud, lost.region, lost.zone)]


def order_for(strategy: str, p: Plan, lost: Location | None) -> Plan:
    """FAILOVER tries the lost region's other zones first; the planner's order is kept otherwise."""
    if strategy != FAILOVER or lost is None:
        return p
    same = [c for c in p.candidates if (c.cloud, c.region) == (lost.cloud, lost.region)]
    rest = [c for c in p.candidates if (c.cloud, c.region) != (lost.cloud, lost.region)]
    return dataclasses.replace(p, candidates=same + rest)


def relaunch_plan(make, strategy: str, lost: Location | None) -> Plan:  # type: ignore[no-untyped-def]
    """The plan for the next attempt; when blocking leaves nothing, come back round to everything."""
    p = make(blocked_after(strategy, lost))
    if not p.candidates and lost is not None:
        p = make([])
    return order_for(strategy, p, lost)


class Backoff:
    """Exponential waits with jitter between rounds that found no capacity anywhere."""

    def __init__(self, base: float, cap: float, rng: random.Random | None = None) -> None:
        self.base, self.cap = max(0.0, base), max(base, cap)
        self.rng = rng or random.Random()
        self.failures = 0

    def next_delay(self) -> float:
        delay = backoff_delay(self.failures, self.base, self.cap, self.rng.random())
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0
