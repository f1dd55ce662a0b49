"""A cluster job's output, streamed from its head node over SSH."""

from __future__ import annotations

from collections.abc import Callable

from skytui.core import launcher
from skytui.core.context import Core
from skytui.errors import NotFound, SkytuiError
from skytui.store import Cluster


async def stream_cluster_job(core: Core, cluster: Cluster, job_id: int | None, *, follow: bool,
                             on_output: Callable[[str, str], None]) -> int:
    """Print a job's log (the newest job when none is named); with follow, until it ends."""
    from skytui.remote.tail import tail

    if cluster.status != "UP":
        raise SkytuiError(f"cluster {cluster.name} is {cluster.status}; its logs live on its nodes",
                          f"start it first: skytui start {cluster.name}")
    jobs = core.store.cluster_jobs(cluster.name)
    if not jobs:
        raise NotFound(f"cluster {cluster.name} has run no job yet",
                       f"run one: skytui exec {cluster.name} -- CMD")
    if job_id is None:
        job_id = jobs[-1].id
    elif job_id not in {j.id for j in jobs}:
        raise NotFound(f"cluster {cluster.name} has no job {job_id}",
                       f"its jobs: {', '.join(str(j.id) for j in jobs)}")
    head = launcher.address(core, cluster, core.store.nodes(cluster.name)[0])
    async for ev in tail(core.ssh, head, str(job_id), offset=0, follow=follow):
        data = getattr(ev, "data", None)
        if data:
            on_output(data.decode(errors="replace") if isinstance(data, bytes) else data, "stdout")
        elif getattr(ev, "kind", "") in ("disconnected", "resumed"):
            on_output(f"[skytui] connection {ev.kind}\n", "stderr")
    return 0
