"""Releasing a managed job's cluster: every instance carrying its tags, its SSH entries, its usage."""

from __future__ import annotations

from skytui.core.context import Core
from skytui.providers.base import Instance
from skytui.store import Cluster
from skytui.store.models import Job


def job_regions(core: Core, job: Job) -> set[tuple[str, str]]:
    """Every (cloud, region) an attempt of the job ran or was asked to run in."""
    out = {(a.cloud, a.region) for a in core.store.attempts(job.id) if a.cloud and a.region}
    c = owned_cluster(core, job)
    if c is not None and c.region:
        out.add((c.cloud, c.region))
    if job.cloud and job.region:
        out.add((job.cloud, job.region))
    return out


def belongs_to(i: Instance, job: Job) -> bool:
    """The job id tag, never the name (a name can be the user's own cluster); callers also
    require the store tag (`Instance.owned_by`): job ids repeat across stores."""
    return i.job_id == job.id


def owned_cluster(core: Core, job: Job) -> Cluster | None:
    """The job's cluster record, only when it was made for this job (its job id matches)."""
    c = core.store.cluster(job.cluster) if job.cluster else None
    return c if c is not None and c.job_id == job.id else None


async def live_instances(core: Core, job: Job, regions: set[tuple[str, str]] | None = None) -> list[Instance]:
    found: list[Instance] = []
    for cloud, region in sorted(regions if regions is not None else job_regions(core, job)):
        found += [i for i in await core.provider(cloud).list_instances(region)
                  if belongs_to(i, job) and i.owned_by(core.store.store_id) and i.state != "terminated"]
    return found


async def release_cluster(core: Core, job: Job, reason: str, *, extra_ids: tuple[str, ...] = ()) -> int:
    """Terminate the job's instances (recorded or only tagged) and mark its cluster TERMINATED."""
    from skytui.core.context import ssh_dir
    from skytui.core.sshconfig import SSHConfig

    insts = await live_instances(core, job)
    by_cloud: dict[str, set[str]] = {}
    for i in insts:
        by_cloud.setdefault(i.cloud, set()).add(i.id)
    c = owned_cluster(core, job)
    if c is not None and c.status != "TERMINATED":
        by_cloud.setdefault(c.cloud, set()).update(
            n.instance_id for n in core.store.nodes(c.name) if n.instance_id)
    if extra_ids:
        by_cloud.setdefault(job.cloud or "local", set()).update(extra_ids)
    for cloud, ids in by_cloud.items():
        if ids:
            await core.provider(cloud).terminate(sorted(ids))
    if c is not None:
        core.store.close_usage(c.name, reason)
        if c.status != "TERMINATED":
            SSHConfig(ssh_dir()).remove_cluster(c.name)
            (ssh_dir() / f"known_hosts-{c.name}").unlink(missing_ok=True)
            core.store.transition_cluster(c.name, ["INIT", "UP", "STOPPED", "PREEMPTED"], "TERMINATED",
                                          reason=reason, event=f"{c.name} torn down ({reason})")
    return sum(len(v) for v in by_cloud.values())


async def release_job_buckets(core: Core, job: Job) -> None:
    """Delete the buckets the job's attempts created with `persistent: false` (storage mounts)."""
    from skytui.core.storage.attach import release_job_buckets as release

    c = core.store.cluster(job.cluster) if job.cluster else None
    await release(core, job.id, c)
