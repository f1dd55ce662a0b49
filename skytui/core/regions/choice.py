"""Where a dev VM goes: the nearest region that offers its shape, with a cheaper one named.

A dev VM is used interactively, so every keystroke pays the round trip: it goes to the
region with the smallest RTT among those the planner found for its shape (cheapest offering
within that region), and a launch that finds no capacity there fails over to the next
nearest. When another region is cheaper by more than `nearest.prefer_cheaper_share`, the
choice names it with its RTT, so the user can take it knowingly (`--region`). Batch work
(`launch`, `jobs launch`) keeps going to the cheapest region.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from skytui.core.planner import Candidate, Plan, best_per_region
from skytui.core.regions.latency import TRUST, Key, RegionLatency

if TYPE_CHECKING:
    from skytui.core.context import Core
    from skytui.task.spec import Task


@dataclass(frozen=True)
class Option:
    """One region's best offering for the shape, with its round trip."""

    candidate: Candidate
    latency: RegionLatency | None

    @property
    def rtt_ms(self) -> float | None:
        return self.latency.rtt_ms if self.latency else None

    @property
    def method(self) -> str:
        return self.latency.method if self.latency else "unknown"


@dataclass(frozen=True)
class DevChoice:
    chosen: Option
    why: str
    cheaper: Option | None  # a region cheaper by more than the configured share
    options: list[Option]  # every region offering the shape, nearest first
    note: str | None = None  # why some regions could only be estimated

    @property
    def saving(self) -> float:
        """The share of the chosen price the cheaper region saves (0 without one)."""
        if self.cheaper is None or not self.chosen.candidate.price_per_hour:
            return 0.0
        return 1 - self.cheaper.candidate.price_per_hour / self.chosen.candidate.price_per_hour

    def order(self, plan: Plan) -> Plan:
        """`plan` with its candidates nearest region first (price within a region)."""
        rank = {(o.candidate.cloud, o.candidate.region): i for i, o in enumerate(self.options)}
        ordered = sorted(plan.candidates, key=lambda c: rank.get((c.cloud, c.region), len(rank)))
        return dataclasses.replace(plan, candidates=ordered)

    def as_dict(self) -> dict[str, Any]:
        """The `skytui dev --dry-run --json` shape."""
        c = self.chosen.candidate
        out: dict[str, Any] = {
            "cloud": c.cloud, "region": c.region, "zone": c.zone, "instance_type": c.instance_type,
            "price_per_hour": round(c.price_per_hour, 6), "rtt_ms": self.chosen.rtt_ms,
            "method": self.chosen.method, "why": self.why, "spot": c.spot,
            "accelerators": f"{c.accelerator}:{c.accelerator_count}" if c.accelerator else None,
            "cheaper": None,
        }
        if self.cheaper is not None:
            k = self.cheaper.candidate
            out["cheaper"] = {"cloud": k.cloud, "region": k.region, "zone": k.zone,
                              "instance_type": k.instance_type, "price_per_hour": round(k.price_per_hour, 6),
                              "rtt_ms": self.cheaper.rtt_ms, "method": self.cheaper.method,
                              "saves_share": round(self.saving, 4)}
        return out


def _rank(o: Option) -> tuple[object, ...]:
    """Nearest measured first, then estimated, then unknown (see latency.TRUST); price breaks ties."""
    rtt = o.rtt_ms
    return (TRUST.get(o.method, 2), rtt if rtt is not None else 0.0, o.candidate.price_per_hour,
            o.candidate.cloud, o.candidate.region)


def describe_rtt(o: Option) -> str:
    if o.rtt_ms is None:
        return "round trip unknown"
    if o.method == "geo":
        return f"about {o.rtt_ms:.0f} ms, estimated from your time zone"
    if o.method == "cached":
        return f"{o.rtt_ms:.1f} ms round trip (measured earlier on this network)"
    return f"{o.rtt_ms:.1f} ms round trip (measured now)"


def choose(plan: Plan, latency: Mapping[Key, RegionLatency], *, share: float, pinned: bool = False,
           note: str | None = None) -> DevChoice:
    """The nearest region's best offering (or, pinned, the plan's first), and a cheaper one."""
    options = sorted((Option(c, latency.get((c.cloud, c.region))) for c in best_per_region(plan)), key=_rank)
    if pinned:
        first = plan.candidates[0]
        chosen = next(o for o in options if o.candidate.cloud == first.cloud and o.candidate.region == first.region)
        why = f"--region/--zone given: {chosen.candidate.cloud}/{chosen.candidate.region}, {describe_rtt(chosen)}"
    else:
        chosen = options[0]
        c = chosen.candidate
        if chosen.rtt_ms is None:
            cheapest = min(options, key=lambda o: o.candidate.price_per_hour)
            chosen = cheapest
            why = (f"no region could be measured or estimated, so the cheapest: {cheapest.candidate.cloud}/"
                   f"{cheapest.candidate.region}")
        else:
            why = (f"nearest region offering {c.instance_type}{' (spot)' if c.spot else ''}: "
                   f"{c.cloud}/{c.region}, {describe_rtt(chosen)}")
    cheapest = min(options, key=lambda o: (o.candidate.price_per_hour, _rank(o)))
    cheaper = None
    price = chosen.candidate.price_per_hour
    if price > 0 and cheapest is not chosen and cheapest.candidate.price_per_hour < price * (1 - share):
        cheaper = cheapest
    return DevChoice(chosen, why, cheaper, options, note)


def dev_choice(core: Core, task: Task, *, refresh: bool = False) -> DevChoice:
    """Plan the dev VM's shape, measure (or recall) the regions that offer it, and choose."""
    from skytui.core.launcher import make_plan
    from skytui.core.regions.latency import region_latencies

    p = make_plan(core, task).require()
    pinned = any(r.region or r.zone for r in task.resources)
    keys = list(dict.fromkeys((c.cloud, c.region) for c in best_per_region(p)))
    outcome = region_latencies(lambda: core.store, core.config.nearest, keys, refresh=refresh)
    return choose(p, outcome.by_key(), share=core.config.nearest.prefer_cheaper_share, pinned=pinned,
                  note=outcome.note)


def cheaper_line(choice: DevChoice) -> str | None:
    """One line naming the cheaper region, or None."""
    if choice.cheaper is None:
        return None
    k = choice.cheaper.candidate
    return (f"{k.cloud}/{k.region} is {choice.saving:.0%} cheaper (${k.price_per_hour:.3f}/h against "
            f"${choice.chosen.candidate.price_per_hour:.3f}/h) at {describe_rtt(choice.cheaper)}; "
            f"take it with --region {k.region}")
