"""One launch attempt of a managed job: place, provision (or adopt), boot, set up, start."""

from __future__ import annotations

import dataclasses
import logging
from typing import Protocol

from skytui.core import clusters as cluster_ops
from skytui.core import launcher
from skytui.core.context import Core
from skytui.core.jobs.secrets import load_secrets
from skytui.core.jobs.taskjson import task_from_json
from skytui.core.jobs.teardown import owned_cluster, release_cluster
from skytui.core.planner import Location, Plan
from skytui.core.watcher.hooks import Stopping
from skytui.core.watcher.policy import AttemptResult, Outcome
from skytui.core.watcher.records import (
    Opened,
    last_attempt,
    open_attempt,
    place_attempt,
    request_base,
)
from skytui.core.watcher.strategy import relaunch_plan, strategy_for
from skytui.errors import CapacityError, ProviderError, RemoteError, SkytuiError
from skytui.providers.base import Instance
from skytui.store.job_states import JobStatus
from skytui.store.models import Job
from skytui.task.spec import Task

log = logging.getLogger("skytui.watcher")

class AttemptHost(Protocol):
    """What an attempt needs of whoever runs it (the watcher loop): no more, so no import back."""

    core: Core

    def checkpoint(self, step: str, attempt: int) -> None: ...

    def event(self, job_id: int | None, message: str, *, cluster: str | None = None,
              reason: str | None = None) -> None: ...


# Attempt endings after which the next attempt avoids the place the nodes were lost.
LOST_REASONS = ("preempted", "node-lost", "unreachable", "job-gone", "boot-failed")


def lost_location(w: AttemptHost, job: Job) -> Location | None:
    prev = [a for a in w.core.store.attempts(job.id) if a.ended_at is not None]
    if not prev or not prev[-1].region:
        return None
    a = prev[-1]
    if not (a.end_reason or "").startswith(LOST_REASONS):
        return None
    return Location(a.cloud or "local", a.region, a.zone)  # type: ignore[arg-type]


def load_job_task(job: Job) -> Task:
    return task_from_json(job.task_json, load_secrets(job.id))


def _reuse_in_place(w: AttemptHost, job: Job) -> str | None:
    """The cluster's request id when the last attempt ended by the job's own exit on healthy nodes."""
    c = owned_cluster(w.core, job)
    prev = last_attempt(w.core.store, job.id)
    if c is None or c.status != "UP" or prev is None:
        return None
    if prev.ended_at is None:
        return c.request_id if prev.request_id == c.request_id and prev.request_id != request_base(
            job.id, prev.attempt, w.core.store.store_id) else None
    return c.request_id if (prev.end_reason or "").startswith("exit-code") else None


async def run_attempt(w: AttemptHost, job: Job) -> AttemptResult:
    """Drive one attempt (STARTING) until its run starts, and say how it ended.

    The caller turns the outcome into the job's next status (policy.after_attempt).
    """
    store = w.core.store
    if job.cluster is None:
        return AttemptResult(Outcome.SKIPPED)
    reuse = _reuse_in_place(w, job)
    opened = open_attempt(store, job.id, job.cluster, reuse_request=reuse)
    if opened is None:
        return AttemptResult(Outcome.SKIPPED)
    task = load_job_task(job)
    n = opened.attempt.attempt
    try:
        if reuse is not None and opened.attempt.request_id == reuse:
            await _restart_in_place(w, job, task, n)
        else:
            await _launch(w, job, task, opened)
    except Stopping:
        raise  # resumed from this step by the next watcher
    except CapacityError as exc:
        return AttemptResult(Outcome.NO_CAPACITY, str(exc), n)
    except SetupFailed as exc:
        return AttemptResult(Outcome.SETUP_FAILED, str(exc), n)
    except NameTaken as exc:
        return AttemptResult(Outcome.NAME_TAKEN, str(exc), n)
    except (SkytuiError, OSError) as exc:
        return AttemptResult(Outcome.BOOT_FAILED, str(exc), n)
    except Exception as exc:  # a bug of ours must not leave the job stuck in STARTING
        log.exception("attempt %s of job %s failed", n, job.id)
        return AttemptResult(Outcome.BOOT_FAILED, f"internal error: {type(exc).__name__}: {exc}", n)
    return AttemptResult(Outcome.RUNNING, attempt=n)


class SetupFailed(SkytuiError):
    """The task's setup exited non-zero: the user's to fix, not something to retry."""


class NameTaken(SkytuiError):
    """The job's cluster name belongs to a cluster made for something else: never touch it."""


def _not_ours(name: str, job: Job) -> NameTaken:
    return NameTaken(f"cluster {name} exists and was not made for job {job.id}; not touched",
                     f"rename or `skytui down {name}`, then submit the job again")


async def _restart_in_place(w: AttemptHost, job: Job, task: Task, n: int) -> None:
    """Rerun the job's `run` on the same healthy nodes (a restart after a user-code failure)."""
    core = w.core
    c = cluster_ops.get_cluster(core, job.cluster or "")
    nodes = core.store.nodes(c.name)
    place_attempt(core.store, job.id, n, c.cloud, c.region or "", c.zone)
    w.checkpoint("after-ssh", n)
    await launcher.wait_ssh(core, c, nodes, timeout=20)
    await _start(w, job, task, n, c, nodes, run_setup=False)


async def _launch(w: AttemptHost, job: Job, task: Task, opened: Opened) -> None:
    core, store = w.core, w.core.store
    n, base, name = opened.attempt.attempt, opened.attempt.request_id, job.cluster or ""
    strategy = strategy_for(task, core.config)
    lost = lost_location(w, job)
    p = relaunch_plan(lambda blocked: launcher.make_plan(core, task, blocked), strategy, lost).require()
    if not opened.fresh:
        p = await _adopt(w, job, p, base)
    existing = store.cluster(name)
    if existing is not None and existing.status != "TERMINATED" and existing.job_id != job.id:
        raise _not_ours(name, job)
    if existing is not None and existing.status != "TERMINATED" and existing.request_id != base:
        await release_cluster(core, job, "replaced")  # the lost attempt's cluster, if still recorded
        existing = None
    cand = p.candidates[0]
    if existing is None or existing.status == "TERMINATED":
        record = launcher.new_cluster_record(
            name, cand, task, request_id=base, job_id=job.id, is_dev=False, autostop_minutes=None,
            autostop_down=False, now=core.clock())
        if not store.create_cluster(record):  # someone else took the name since we looked
            raise _not_ours(name, job)
    if opened.fresh:
        where = f"{cand.region}/{cand.zone}"
        w.event(job.id, f"attempt {n}: launching {name} in {where} ({strategy})", cluster=name,
                reason="recovering" if job.status == "RECOVERING" else "launching")
    w.checkpoint("before-launch", n)
    prov = await launcher.provision(core, name, task, p, request_base=base, job_id=job.id)
    w.checkpoint("after-launch", n)
    if len(prov.instances) < task.num_nodes:
        raise ProviderError(f"{prov.candidate.cloud} returned {len(prov.instances)} of {task.num_nodes} "
                            f"node(s) for request {base}")
    c = prov.candidate
    store.update_cluster(
        name, cloud=c.cloud, region=c.region, zone=c.zone, instance_type=c.instance_type,
        spot=int(c.spot), accelerator=c.accelerator, accelerator_count=c.accelerator_count,
        vcpus=c.vcpus, memory_gib=c.memory_gib, price_per_hour=c.price_per_hour,
        on_demand_price_per_hour=c.on_demand_price_per_node * task.num_nodes)
    place_attempt(store, job.id, n, c.cloud, c.region, c.zone)
    store.set_nodes(name, prov.nodes)
    cluster = cluster_ops.get_cluster(core, name)
    cluster_ops.open_usage(core, cluster, prov.nodes)
    nodes = await launcher.wait_ready(core, prov)
    store.set_nodes(name, nodes)
    launcher.pin_and_publish(core, name, c.cloud, nodes)
    await launcher.wait_ssh(core, cluster, nodes)
    store.transition_cluster(name, ["INIT"], "UP", reason="launched",
                             event=f"{name} is UP in {c.cloud} {c.region}/{c.zone}")
    w.checkpoint("after-ssh", n)
    await _start(w, job, task, n, cluster_ops.get_cluster(core, name), nodes, run_setup=True)


async def _adopt(w: AttemptHost, job: Job, p: Plan, base: str) -> Plan:
    """A resumed attempt: if the cloud already has nodes for this request, launch exactly there."""
    regions = sorted({(c.cloud, c.region) for c in p.candidates})
    found: list[Instance] = []
    for cloud, region in regions:
        found += [i for i in await w.core.provider(cloud).list_instances(region)
                  if i.request_id.startswith(base + "-") and i.state != "terminated"
                  and i.owned_by(w.core.store.store_id)]
    if not found:
        return p
    i = found[0]
    here = [c for c in p.candidates if (c.cloud, c.region, c.zone, c.instance_type)
            == (i.cloud, i.region, i.zone, i.instance_type)]
    if not here:
        return p  # the plan no longer allows that place: the watcher removes it as an extra
    w.event(job.id, f"attempt resumed: adopting {len(found)} node(s) already started in "
                    f"{i.region}/{i.zone} by request {i.request_id}", cluster=job.cluster)
    return dataclasses.replace(p, candidates=here[:1])


async def _watch_for_notice(w: AttemptHost, job: Job, cluster, nodes) -> None:  # type: ignore[no-untyped-def]
    """Start the preemption-notice watcher on every spot node (remote/notice.py) before the run."""
    import asyncio

    from skytui.remote import notice

    results = await asyncio.gather(
        *(notice.install(w.core.ssh, launcher.address(w.core, cluster, node), cluster.cloud) for node in nodes),
        return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:  # the job still runs; it only loses its warning
        w.event(job.id, f"{cluster.name}: no preemption-notice watcher on {len(failed)} node(s) "
                        f"({failed[0]}); the job gets no SIGTERM before a preemption", cluster=cluster.name,
                reason="notice-watcher")


async def _start(w: AttemptHost, job: Job, task: Task, n: int, cluster, nodes, *, run_setup: bool) -> None:  # type: ignore[no-untyped-def]
    from skytui.remote.jobs import job_state

    core = w.core
    head = launcher.address(core, cluster, nodes[0])
    state = await job_state(core.ssh, head, str(n))
    if state.status == "missing":
        if run_setup:
            await launcher.sync(core, cluster, nodes, task)
            try:
                await launcher.run_setup(core, cluster, nodes, task, job.task_id)
            except RemoteError:
                raise
            except SkytuiError as exc:
                raise SetupFailed(str(exc).split(";")[0]) from None
        w.checkpoint("after-setup", n)
        if cluster.spot:
            await _watch_for_notice(w, job, cluster, nodes)
        await launcher.start_run(core, cluster, nodes, task, job.task_id, str(n))
    now = core.clock()
    fresh = core.store.job(job.id)
    started = fresh.started_at if fresh and fresh.started_at else now
    core.store.transition_job(job.id, [JobStatus.STARTING], JobStatus.RUNNING, started_at=started,
                              event=f"attempt {n} running in {cluster.cloud} {cluster.region}/{cluster.zone}",
                              reason="running")
