"""Reconciling the store with what the clouds report: one list call per (cloud, region)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from skytui.core.context import Core
from skytui.providers.base import SPOT_PREEMPTED, Instance
from skytui.store import Cluster


@dataclass
class Reconciled:
    """What one round of listing found."""

    instances: dict[tuple[str, str], list[Instance]] = field(default_factory=dict)
    preempted: list[str] = field(default_factory=list)  # clusters that lost a spot node
    lost: list[str] = field(default_factory=list)  # clusters whose nodes vanished otherwise
    orphans: list[Instance] = field(default_factory=list)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)


async def list_regions(core: Core, regions: set[tuple[str, str]]) -> Reconciled:
    out = Reconciled()

    async def one(cloud: str, region: str) -> None:
        try:
            out.instances[(cloud, region)] = await core.provider(cloud).list_instances(region)
        except Exception as exc:  # noqa: BLE001 - one cloud failing must not stop the others
            out.errors[(cloud, region)] = str(exc)

    await asyncio.gather(*(one(c, r) for c, r in sorted(regions)))
    return out


def regions_to_watch(core: Core, clusters: list[Cluster]) -> set[tuple[str, str]]:
    regions = {(c.cloud, c.region) for c in clusters if c.region}
    # The local cloud is cheap to list: look everywhere so orphans show up too.
    local = core.provider("local")
    regions |= {("local", r) for r in local.regions()}
    return regions


async def refresh_all(core: Core) -> Reconciled:
    """Mark clusters whose nodes were preempted or lost; report orphans (never kill them)."""
    clusters = core.store.clusters()
    rec = await list_regions(core, regions_to_watch(core, clusters))
    by_cluster: dict[str, list[Instance]] = defaultdict(list)
    for insts in rec.instances.values():
        for i in insts:
            by_cluster[i.cluster].append(i)
    known = {c.name: c for c in clusters}
    for c in clusters:
        if c.status != "UP" or (c.cloud, c.region) in rec.errors:
            continue
        nodes = {n.instance_id for n in core.store.nodes(c.name)}
        seen: dict[str | None, Instance] = {i.id: i for i in by_cluster.get(c.name, []) if i.id in nodes}
        dead = [seen.get(iid) for iid in nodes if iid not in seen or seen[iid].state == "terminated"]
        if not dead:
            continue
        preempted = any(i is not None and i.reason == SPOT_PREEMPTED for i in dead)
        status, reason = ("PREEMPTED", SPOT_PREEMPTED) if preempted else ("PREEMPTED" if c.spot else "INIT", "node-lost")
        if core.store.transition_cluster(
                c.name, ["UP"], status, reason=reason,
                event=f"{c.name}: {'spot node preempted' if preempted else 'a node was lost'} in "
                      f"{c.region}/{c.zone}"):
            core.store.close_usage(c.name, reason)
            (rec.preempted if preempted else rec.lost).append(c.name)
    for insts in rec.instances.values():
        for i in insts:
            other_store = i.store_id is not None and not i.owned_by(core.store.store_id)
            if i.state != "terminated" and (i.cluster not in known or other_store):
                rec.orphans.append(i)
    return rec
