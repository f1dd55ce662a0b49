"""A cluster job's output, streamed from its head node over SSH."""

from __future__ import annotations

from collections.abc import Callable

from skytui.core import launcher
from skytui.core.context import Core
from skytui.errors import NotFound, SkytuiError
from skytui.store import Cluster


class NoJobYet(NotFound):
    """The cluster exists but nothing ran there: a state to show, not a failure to retry."""


async def stream_cluster_job(core: Core, cluster: Cluster, job_id: int | None, *, follow: bool,
                             on_output: Callable[[str, str], None]) -> int:
    """Print a job's log (the newest job when none is named); with follow, until it ends."""
    from skytui.remote.tail import tail

    if cluster.job_id is not None and job_id is None:
        # A managed job's cluster: its log lives on this machine (every attempt, captured live),
        # so it shows even while the nodes are being replaced.
        from skytui.core.jobs.logs import stream_job_logs

        on_output(f"[skytui] {cluster.name} runs managed job {cluster.job_id}; its log, every attempt "
                  f"(also `skytui jobs logs {cluster.job_id}`)\n", "stderr")
        return await stream_job_logs(core, cluster.job_id, follow=follow, on_output=on_output)
    if cluster.status != "UP":
        raise SkytuiError(f"cluster {cluster.name} is {cluster.status}; its logs live on its nodes",
                          f"start it first: skytui start {cluster.name}")
    jobs = core.store.cluster_jobs(cluster.name)
    if not jobs:
        raise NoJobYet(f"cluster {cluster.name} has run no job yet",
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
