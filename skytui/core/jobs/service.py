"""Managed jobs as users see them: submit, cancel, and the queue in its documented shape."""

from __future__ import annotations

import re
import secrets as _secrets
from typing import Any

from skytui.core.context import Core
from skytui.core.jobs.secrets import save_secrets
from skytui.core.jobs.taskjson import task_to_json
from skytui.errors import NotFound, SkytuiError
from skytui.names import managed_cluster_name, validate_name
from skytui.store.models import JOB_TERMINAL, Job
from skytui.task.spec import Task

ACTIVE = ("PENDING", "STARTING", "RUNNING", "RECOVERING", "CANCELLING")
MAX_JOB_NAME = 55  # the cluster name (`<name>-job<id>`) cuts it further when the id is long


def job_name_for(task: Task, name: str | None) -> str:
    """The user's name, else one derived from the task's name or file."""
    if name:
        return validate_name(name, "job name")[:MAX_JOB_NAME].rstrip("-")
    base = task.name or (task.source.rsplit("/", 1)[-1].rsplit(".", 1)[0] if task.source else "job")
    slug = re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = f"job-{slug}".rstrip("-")
    return slug[:MAX_JOB_NAME].rstrip("-")


def cluster_name_for(name: str, job_id: int) -> str:
    """A managed job's cluster: `<job-name>-job<id>`, the same across attempts.

    User clusters may not end in `-job<digits>` (names.validate_new_cluster_name), so a job's
    cluster never shares a name with one the user launched.
    """
    return managed_cluster_name(name, job_id)


def submit(core: Core, task: Task, *, name: str | None = None) -> int:
    """Queue a managed job; the watcher launches it, recovers it and tears it down at the end."""
    from skytui.core.launcher import make_plan

    task.require_filled()
    if not task.run:
        raise SkytuiError(f"{task.source or 'task'}: a managed job needs a `run` command",
                          "add `run:` to the task file")
    job_name = job_name_for(task, name)
    make_plan(core, task).require()  # fail now, not in the watcher, when nothing can run it
    task_id = f"skytui-job-{job_name}-{_secrets.token_hex(4)}"
    spot = any(r.use_spot for r in task.resources)
    job_id = core.store.add_job(job_name, task_to_json(task), task_id, spot=spot,
                                event=f"submitted {job_name}{' (spot)' if spot else ''}")
    save_secrets(job_id, {k: v for k, v in task.secrets.items() if v is not None})
    cluster = cluster_name_for(job_name, job_id)
    taken = core.store.cluster(cluster)
    if taken is not None and taken.status != "TERMINATED" and taken.job_id != job_id:
        # Only a cluster made before the namespace existed can hold this name: never reuse it.
        core.store.transition_job(job_id, ["PENDING"], "FAILED", reason="name-taken",
                                  ended_at=core.clock(),
                                  event=f"{job_name}: cluster name {cluster} is taken by another cluster; "
                                        "not touched")
        raise SkytuiError(f"cluster name {cluster} is taken by a cluster that is not this job's",
                          f"rename or `skytui down {cluster}`, then submit again (job {job_id} is FAILED)")
    core.store.update_job(job_id, cluster=cluster)
    return job_id


def get_job(core: Core, job_id: int) -> Job:
    job = core.store.job(job_id)
    if job is None:
        raise NotFound(f"no managed job {job_id}", "see `skytui jobs`")
    return job


def request_cancel(core: Core, job_id: int) -> Job:
    """Mark the job CANCELLING; whoever watches tears its cluster down and ends it CANCELLED."""
    job = get_job(core, job_id)
    if job.status in JOB_TERMINAL:
        raise SkytuiError(f"job {job_id} already ended ({job.status})", "nothing to cancel")
    if job.status == "CANCELLING":
        return job
    movable = [s for s in ACTIVE if s != "CANCELLING"]
    if not core.store.transition_job(job_id, movable, "CANCELLING", event=f"cancel requested for job {job_id}",
                                     reason="user-cancelled"):
        return get_job(core, job_id)  # it moved meanwhile (ended, or cancelled by someone else)
    return get_job(core, job_id)


def job_dict(job: Job, now: float) -> dict[str, Any]:
    """One job in the documented `skytui jobs --json` shape."""
    from skytui.core.status import iso

    duration = None
    if job.started_at is not None:
        duration = round((job.ended_at or now) - job.started_at, 3)
    return {
        "id": job.id, "name": job.name, "status": job.status, "cluster": job.cluster,
        "cloud": job.cloud, "region": job.region, "zone": job.zone, "spot": bool(job.spot),
        "recoveries": job.recoveries, "attempts": job.attempts,
        "submitted_at": iso(job.submitted_at), "started_at": iso(job.started_at),
        "ended_at": iso(job.ended_at), "duration_s": duration, "last_event": job.last_event,
    }


def queue_rows(core: Core) -> list[dict[str, Any]]:
    now = core.clock()
    return [job_dict(j, now) for j in core.store.jobs()]
