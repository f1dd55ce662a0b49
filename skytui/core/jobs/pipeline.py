"""A file of several tasks ('---' between them) as a chain of managed jobs.

Each stage is an ordinary managed job, so the watcher launches, recovers and tears it down
like any other. A stage after the first carries the id of the stage before it in its
stored task (`after_job`); the watcher leaves it PENDING until that stage SUCCEEDED, and
cancels it when that stage ended any other way, so a chain stops at its first failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from skytui.core.context import Core
from skytui.core.jobs.secrets import forget_secrets, save_secrets
from skytui.core.jobs.service import cluster_name_for, job_name_for
from skytui.errors import SkytuiError
from skytui.store.models import JOB_TERMINAL, Job
from skytui.task.spec import Task

AFTER_JOB = "after_job"  # key in a stage's stored task: the job id of the stage before it


@dataclass(frozen=True)
class Submitted:
    name: str
    job_ids: list[int]


def submit_pipeline(core: Core, tasks: list[Task], *, name: str | None = None) -> Submitted:
    """Queue every stage (checked and planned first, so nothing is half-submitted)."""
    import secrets as _secrets

    from skytui.core.launcher import make_plan

    if not tasks:
        raise SkytuiError("the pipeline has no tasks", "give at least one task")
    base = job_name_for(Task(name=name or tasks[0].name, source=tasks[0].source), name)
    for i, task in enumerate(tasks, 1):
        where = f"{task.source or 'pipeline'} stage {i}"
        task.require_filled(where)
        if not task.run:
            raise SkytuiError(f"{where}: a managed job needs a `run` command",
                              "add `run:` to that task")
        make_plan(core, task).require()
    ids: list[int] = []
    for i, task in enumerate(tasks, 1):
        stage = job_name_for(task, None) if task.name else f"stage{i}"
        job_name = job_name_for(Task(name=f"{base}-{stage}"), None)
        stored = task.to_dict()
        if ids:
            stored[AFTER_JOB] = ids[-1]
        spot = any(r.use_spot for r in task.resources)
        after = f", after job {ids[-1]}" if ids else ""
        job_id = core.store.add_job(
            job_name, json.dumps(stored, sort_keys=True),
            f"skytui-job-{job_name}-{_secrets.token_hex(4)}", spot=spot,
            event=f"submitted {job_name} (stage {i} of {len(tasks)}{after})")
        save_secrets(job_id, {k: v for k, v in task.secrets.items() if v is not None})
        core.store.update_job(job_id, cluster=cluster_name_for(job_name, job_id))
        ids.append(job_id)
    return Submitted(base, ids)


def earlier_stage(job: Job) -> int | None:
    """The job id this stage waits for, or None."""
    if job.started_at is not None or AFTER_JOB not in (job.task_json or ""):
        return None
    try:
        value = json.loads(job.task_json).get(AFTER_JOB)
    except (ValueError, AttributeError):
        return None
    return int(value) if isinstance(value, int) else None


def waits_on_earlier_stage(core: Core, job: Job) -> bool:
    """True while a PENDING stage must not start; cancels it when the earlier stage failed."""
    before_id = earlier_stage(job)
    if before_id is None:
        return False
    before = core.store.job(before_id)
    if before is not None and before.status == "SUCCEEDED":
        return False
    if before is None or before.status in JOB_TERMINAL:
        ended = before.status if before is not None else "gone"
        if core.store.transition_job(
                job.id, ("PENDING",), "CANCELLED", reason="earlier-stage-failed",
                event=f"job {job.id} ({job.name}) not run: the stage before it, job {before_id}, "
                      f"ended {ended}", ended_at=core.clock()):
            forget_secrets(job.id)
    return True
