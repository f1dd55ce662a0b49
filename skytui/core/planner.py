"""Where a task can run: every catalog offering that fits its resources, best first.

Rules a user relies on:
- A request with no accelerators, no instance type and no cpus gets a CPU-only node
  with at least DEFAULT_MIN_CPUS vCPUs (the cheapest such node wins). With cpus or
  memory but no accelerators, only CPU-only offerings are considered; a pinned
  instance type is taken as it is, accelerators or not.
- Burstable types (AWS t2.*: a fraction of a vCPU once their CPU credits are spent, 2 GiB)
  go only to a request for exactly their vCPU count (`cpus: 1`) or for the type by name;
  an at-least request (`cpus: 1+`) gets a node that keeps its full vCPUs.
- Accelerator alternatives are any-of: name and count must match exactly (a fractional
  count such as T4:0.5 needs one whole GPU, shared); a list of them is a preference
  order, like `ordered`.
- A per-region `image_id` map limits the request to the regions it names.
- An alternative with no offering is left out with a note while others have some.
- Disk and network tiers do not change the order; each candidate says what its volume
  costs and what networking it gets (skytui.core.tiers).
- Spot candidates are priced at the spot price; offerings without one are skipped.
- Candidates are cheapest first (ties: cloud, region, zone, instance type); with
  `ordered=True` the order of the resources list wins first, then price.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import itemgetter

from skytui.catalog import accelerators
from skytui.catalog.catalog import Offering
from skytui.errors import NoOffering
from skytui.task.spec import Resources

KNOWN_CLOUDS = ("aws", "gcp", "local")
NOT_ENABLED = "not enabled: run `skytui check`"
DEFAULT_MIN_CPUS = 2.0
# Burstable instance types: cheapest per vCPU on paper, but throttled to a fraction of a
# vCPU once their CPU credits run out, and small in memory. SkyPilot never picks them for a
# cpus request either; here they are kept for the tasks that ask their exact size.
BURSTABLE_PREFIXES = ("t2.",)
_MEM_TOLERANCE_GIB = 0.01  # catalog memory sizes are rounded to two decimals


@dataclass(frozen=True)
class Location:
    """A place to avoid; zone None blocks the whole region."""

    cloud: str
    region: str
    zone: str | None = None


# Not frozen, though treated as immutable (change one with dataclasses.replace): a frozen
# dataclass sets each field through object.__setattr__, 8x the cost of a plain one, and a
# CPU-only plan builds ~2,400 candidates (see docs/performance.md). Equal and hashable as
# a frozen one would be.
@dataclass(slots=True, unsafe_hash=True)
class Candidate:
    """One way to run the task: an instance type in a zone, spot or on-demand."""

    cloud: str
    region: str
    zone: str | None
    instance_type: str
    spot: bool
    price_per_node: float  # $/h, the spot price when spot
    num_nodes: int
    accelerator: str | None
    accelerator_count: int
    vcpus: float
    memory_gib: float
    on_demand_price_per_node: float
    resources_index: int = 0  # which of the task's resources this candidate satisfies
    disk: str = ""  # the boot volume, e.g. "1024 GiB gp3 (16000 IOPS, 1000 MiB/s)"
    disk_price_per_node: float = 0.0  # $/h of that volume
    network: str = ""  # what network_tier gave, e.g. "EFA network interfaces"

    @property
    def price_per_hour(self) -> float:
        """$/h for all nodes together."""
        return self.price_per_node * self.num_nodes

    @property
    def location(self) -> Location:
        return Location(self.cloud, self.region, self.zone)


@dataclass
class Plan:
    """Candidates on enabled clouds, and what the clouds not enabled would have offered."""

    candidates: list[Candidate]
    not_enabled: dict[str, str]  # cloud -> why it was left out
    candidates_elsewhere: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # alternatives left out, and why

    def require(self) -> Plan:
        """This plan, or NoOffering when only clouds that are not enabled could run it."""
        if self.candidates:
            return self
        clouds = sorted({c.cloud for c in self.candidates_elsewhere})
        raise NoOffering(
            f"only {', '.join(clouds)} offers this, and it is not enabled",
            "run `skytui check` to enable it, or change the resources")


def best_per_region(plan: Plan) -> list[Candidate]:
    """The first (best) candidate of each (cloud, region), in plan order."""
    seen: set[tuple[str, str]] = set()
    out = []
    for c in plan.candidates:
        if (c.cloud, c.region) not in seen:
            seen.add((c.cloud, c.region))
            out.append(c)
    return out


Check = Callable[[Offering], bool]


def _what_check(r: Resources) -> Check:
    """Instance type, accelerators, cpus and memory of one request."""
    wants: dict[str, set[int]] = {}
    for a in r.accelerators:
        wants.setdefault((accelerators.canonical(a.name) or a.name).lower(), set()).add(a.devices)
    min_cpus = r.cpus
    cpus_at_least = r.cpus_at_least
    cpu_only = not r.accelerators and not r.instance_type
    if cpu_only and r.cpus is None:
        min_cpus, cpus_at_least = DEFAULT_MIN_CPUS, True
    skip_burstable = cpus_at_least and not r.instance_type

    def check(o: Offering) -> bool:
        if r.instance_type and o.instance_type != r.instance_type:
            return False
        if wants:
            counts = wants.get((o.accelerator_name or "").lower())
            if counts is None or o.accelerator_count not in counts:
                return False
        elif cpu_only and o.accelerator_name:
            return False
        if min_cpus is not None and (
                o.vcpus < min_cpus if cpus_at_least else o.vcpus != min_cpus):
            return False
        if skip_burstable and o.instance_type.startswith(BURSTABLE_PREFIXES):
            return False
        if r.memory is not None:
            if r.memory_at_least:
                return o.memory_gib >= r.memory - _MEM_TOLERANCE_GIB
            return abs(o.memory_gib - r.memory) <= _MEM_TOLERANCE_GIB
        return True

    return check


def _stages(r: Resources, allowed: Mapping[str, Sequence[str]] | None,
            blocked: Collection[Location]) -> list[tuple[str, Check]]:
    """The filters of one request, in the order a failure is best explained."""
    stages: list[tuple[str, Check]] = [("what", _what_check(r))]
    if r.use_spot:
        stages.append(("spot", lambda o: o.spot_price is not None))
    if r.region or r.zone:
        stages.append(("place", lambda o: (not r.region or o.region == r.region)
                       and (not r.zone or o.zone == r.zone)))
    if r.image_ids:
        stages.append(("image", lambda o: o.region in r.image_ids))
    if allowed:
        allow = {c: set(regions) for c, regions in allowed.items()}
        stages.append(("allowed", lambda o: o.cloud not in allow or o.region in allow[o.cloud]))
    if blocked:
        regions = {(b.cloud, b.region) for b in blocked if b.zone is None}
        zones = {(b.cloud, b.region, b.zone) for b in blocked if b.zone is not None}
        stages.append(("blocked", lambda o: (o.cloud, o.region) not in regions
                       and (o.cloud, o.region, o.zone) not in zones))
    return stages


def _describe(r: Resources) -> str:
    parts = []
    if r.accelerators:
        parts.append(" or ".join(str(a) for a in r.accelerators))
    if r.instance_type:
        parts.append(f"instance type {r.instance_type}")
    if r.cpus is not None:
        parts.append(f"{r.cpus:g}{'+' if r.cpus_at_least else ''} vCPUs")
    if r.memory is not None:
        parts.append(f"{r.memory:g}{'+' if r.memory_at_least else ''} GiB memory")
    if not parts:
        parts.append(f"a CPU node with {DEFAULT_MIN_CPUS:g}+ vCPUs")
    where = f" on {r.cloud}" if r.cloud else ""
    return ", ".join(parts) + where


def _regions_of(offers: list[Offering], most: int = 8) -> str:
    names = sorted({f"{o.cloud}:{o.region}" for o in offers})
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def _explain_what(r: Resources, considered: list[Offering],
                  everything: list[Offering]) -> NoOffering:
    """Why nothing matches the instance type / accelerators / cpus / memory asked for."""
    if r.accelerators:
        known = sorted({o.accelerator_name for o in everything if o.accelerator_name})
        folded = {k.lower() for k in known}
        for a in r.accelerators:
            name = accelerators.canonical(a.name) or a.name
            if name.lower() not in folded:
                near = difflib.get_close_matches(name.upper(), [k.upper() for k in known], n=1,
                                                 cutoff=0.5)
                hint = next((k for k in known if near and k.upper() == near[0]), None)
                return NoOffering(
                    f"no offering has {a.name} GPUs; known: {', '.join(known)}",
                    f"did you mean {hint!r}?" if hint else "see `skytui show-gpus`")
        counts = {}
        for a in r.accelerators:
            name = (accelerators.canonical(a.name) or a.name).lower()
            counts[a.name] = sorted({o.accelerator_count for o in considered
                                     if (o.accelerator_name or "").lower() == name})
        offered = "; ".join(f"{n} comes as {', '.join(f'{n}:{c}' for c in cs)}"
                            if cs else f"{n} is not offered there" for n, cs in counts.items())
        offered += _other_neuron_chip(r, considered)
        return NoOffering(f"no offering of {_describe(r)}",
                          f"{offered} (see `skytui show-gpus`)")
    if r.instance_type:
        types = sorted({o.instance_type for o in considered})
        if r.instance_type not in types:
            near = difflib.get_close_matches(r.instance_type, types, n=1)
            where = f" on {r.cloud}" if r.cloud else ""
            return NoOffering(f"no instance type {r.instance_type}{where}",
                              f"did you mean {near[0]!r}?" if near else "check the name")
    return NoOffering(f"no offering of {_describe(r)}",
                      "ask for fewer vCPUs or less memory, or use the `+` form (e.g. `8+`)")


def _explain(r: Resources, offers: list[Offering], everything: list[Offering],
             stages: list[tuple[str, Check]], allowed: Mapping[str, Sequence[str]] | None
             ) -> NoOffering:
    """The first filter that leaves nothing, as a message with a fix."""
    desc = _describe(r)
    before = offers
    for stage, check in stages:
        after = [o for o in before if check(o)]
        if after:
            before = after
            continue
        if stage == "what":
            return _explain_what(r, offers, everything)
        if stage == "spot":
            return NoOffering(f"no spot offering of {desc}",
                              "drop `use_spot`, or ask for other accelerators")
        if stage == "place":
            where = f"zone {r.zone}" if r.zone else f"region {r.region}"
            return NoOffering(f"no offering of {desc} in {where}",
                              f"it is offered in {_regions_of(before)}")
        if stage == "image":
            return NoOffering(f"no offering of {desc} in the regions of the image_id map "
                              f"({', '.join(sorted(r.image_ids))})",
                              f"it is offered in {_regions_of(before)}; add an image there")
        if stage == "allowed":
            rules = "; ".join(f"{c}: {', '.join(rs) or '(none)'}"
                              for c, rs in sorted((allowed or {}).items()))
            return NoOffering(f"no offering of {desc} in the allowed regions ({rules})",
                              f"it is offered in {_regions_of(before)}; allow one of them")
        zones = len({(o.cloud, o.region, o.zone) for o in before})
        return NoOffering(
            f"no offering of {desc} is left: all {zones} zones that offer it are blocked"
            " after failures",
            "wait and retry, or allow more regions")
    raise AssertionError("explain called for a request that has offerings")


def plan(
    resources: Sequence[Resources],
    *,
    ordered: bool = False,
    num_nodes: int = 1,
    enabled_clouds: Collection[str],
    offerings: Callable[[str], list[Offering]] | None = None,
    allowed_regions: Mapping[str, Sequence[str]] | None = None,
    blocked: Collection[Location] = (),
    limit: int | None = None,
) -> Plan:
    """Every candidate for `resources`, best first; NoOffering if no cloud at all could run it."""
    if offerings is None:
        from skytui.catalog import for_cloud

        offerings = for_cloud
    resources = list(resources) or [Resources()]
    for r in resources:
        if r.cloud and r.cloud not in KNOWN_CLOUDS:
            raise NoOffering(f"unknown cloud {r.cloud!r}; known: {', '.join(KNOWN_CLOUDS)}",
                             "fix `resources.cloud`")
    considered = sorted({r.cloud for r in resources if r.cloud}
                        if all(r.cloud for r in resources) else set(KNOWN_CLOUDS),
                        key=KNOWN_CLOUDS.index)
    by_cloud = {c: offerings(c) for c in considered}

    found: list[tuple[tuple[object, ...], Candidate]] = []
    failures: list[tuple[Resources, list[Offering], list[tuple[str, Check]]]] = []
    what_fits: dict[tuple[object, ...], list[Offering]] = {}
    for index, r in enumerate(resources):
        offers = [o for c in ([r.cloud] if r.cloud else considered) for o in by_cloud[c]]
        stages = _stages(r, allowed_regions, blocked)
        # Alternatives often differ only in spot or place (any_of: [{use_spot: true}, {}]):
        # the "what" filter, the costly one over every offering, runs once per distinct ask.
        what_key = (r.cloud, r.instance_type, r.accelerators, r.cpus, r.cpus_at_least,
                    r.memory, r.memory_at_least)
        fits = what_fits.get(what_key)
        if fits is None:
            fits = what_fits[what_key] = [o for o in offers if stages[0][1](o)]
        for _, check in stages[1:]:  # the first stage ("what") leaves few, so filter in turn
            fits = [o for o in fits if check(o)]
        rank = _accelerator_rank(r)
        # Tiers are worked out once per instance type, and only when the task asks for one.
        tiers: dict[tuple[str, str], tuple[str, float, str]] = {}
        with_tiers = r.disk_tier is not None or r.network_tier is not None
        for o in fits:
            price = o.spot_price if r.use_spot and o.spot_price is not None else o.price
            cand = Candidate(o.cloud, o.region, o.zone, o.instance_type, r.use_spot, price,
                             num_nodes, o.accelerator_name, o.accelerator_count, o.vcpus,
                             o.memory_gib, o.price, index)
            if with_tiers:
                tier = tiers.get((o.cloud, o.instance_type))
                if tier is None:
                    tier = tiers[(o.cloud, o.instance_type)] = _tiers(r, o)
                cand = replace(cand, disk=tier[0], disk_price_per_node=tier[1], network=tier[2])
            first = rank.get((o.accelerator_name or "").lower(), 0) if rank else 0
            key = (index if ordered else 0, first, price, o.cloud, o.region, o.zone or "",
                   o.instance_type, o.accelerator_name or "", o.accelerator_count)
            found.append((key, cand))
        if not fits:
            failures.append((r, offers, stages))

    if not found:
        everything = [o for c in KNOWN_CLOUDS for o in offerings(c)]
        errors = [_explain(r, offers, everything, stages, allowed_regions)
                  for r, offers, stages in failures]
        if len(errors) == 1:
            raise errors[0]
        raise NoOffering(
            "none of the resource choices fits: "
            + "; ".join(f"({i}) {e.problem}" for i, e in enumerate(errors, 1)),
            errors[0].fix)

    everything_cache: list[Offering] | None = None
    notes = []
    for r, offers, stages in failures:  # some alternative fits: say why these were left out
        if everything_cache is None:
            everything_cache = [o for c in KNOWN_CLOUDS for o in offerings(c)]
        why = _explain(r, offers, everything_cache, stages, allowed_regions)
        notes.append(f"left out {_describe(r)}: {why.problem}")
    found.sort(key=itemgetter(0))  # a C key function: a CPU-only ask sorts ~2,400 candidates
    enabled: list[Candidate] = []
    elsewhere: list[Candidate] = []
    seen: set[tuple[object, ...]] = set()
    for _, c in found:
        # A GCP n1 host is one instance type with many GPU attachments: those differ.
        ident = (c.cloud, c.region, c.zone, c.instance_type, c.accelerator,
                 c.accelerator_count, c.spot)
        if ident in seen:
            continue
        seen.add(ident)
        (enabled if c.cloud in enabled_clouds else elsewhere).append(c)
    if limit is not None:
        enabled, elsewhere = enabled[:limit], elsewhere[:limit]
    return Plan(enabled, {c: NOT_ENABLED for c in considered if c not in enabled_clouds},
                elsewhere, notes)


def _accelerator_rank(r: Resources) -> dict[str, int]:
    """Position of each accelerator in a preference list (all 0 for an any-of set)."""
    if not r.accelerators_ordered:
        return {}
    rank: dict[str, int] = {}
    for i, a in enumerate(r.accelerators):
        rank.setdefault((accelerators.canonical(a.name) or a.name).lower(), i)
    return rank


def _tiers(r: Resources, o: Offering) -> tuple[str, float, str]:
    """(disk, its $/h, network) of one offering under the request's tiers."""
    from skytui.core import tiers

    vol = tiers.volume(o.cloud, o.instance_type, r.disk_tier, r.disk_size)
    net = tiers.network(o.cloud, o.instance_type, r.network_tier)
    return vol.describe(), vol.price_per_hour, net.what


def _other_neuron_chip(r: Resources, considered: list[Offering]) -> str:
    """A pointer to the other AWS Inferentia generation when it has the asked count.

    Inferentia and Inferentia2 are different chips (inf1, inf2), so one is never taken for
    the other; but a task asking Inferentia:6 most likely wants inf2.24xlarge's six.
    """
    out = ""
    for a in r.accelerators:
        name = accelerators.canonical(a.name) or a.name
        if name not in accelerators.NEURON:
            continue
        for other in accelerators.NEURON:
            if other != name and any(o.accelerator_name == other
                                     and o.accelerator_count == a.count for o in considered):
                out += f"; {other} (a different chip) comes as {other}:{a.count:g}"
    return out
