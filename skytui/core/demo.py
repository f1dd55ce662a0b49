"""`skytui --demo`: a small live fleet on the local cloud so a newcomer sees every view move."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from skytui.core.context import Core
from skytui.errors import SkytuiError

if TYPE_CHECKING:
    from skytui.task.spec import Task

log = logging.getLogger("skytui.demo")

DEV_VMS = ("demo-dev-1", "demo-dev-2")
JOB_NAME = "demo-train"
PREEMPT_EVERY_S = 120.0  # "every couple of minutes": often enough to watch a recovery happen
CKPT_BUCKET = "skytui-demo-ckpt"
# A pure-shell "training" loop, so it runs on any machine. Its checkpoint lives in a local://
# bucket mounted at ~/ckpt (outside the node's disk), so a recovered attempt resumes from it;
# one folder per job (SKYPILOT_TASK_ID stays the same across attempts).
# The preemption notice arrives as SIGTERM (the local cloud sends it 5 s ahead): the trap saves
# the step reached, so the next attempt loses nothing, not even the steps since the last save.
TRAIN = r"""ckpt="$HOME/ckpt/$SKYPILOT_TASK_ID"; mkdir -p "$ckpt"
step=$(cat "$ckpt/step" 2>/dev/null || echo 0)
save() { echo "$step" > "$ckpt/step.tmp" && mv "$ckpt/step.tmp" "$ckpt/step"; }
trap 'save; echo "preemption notice: checkpoint saved at step $step"; exit 143' TERM
echo "resuming at step $step"
while [ "$step" -lt 100000 ]; do
  step=$((step + 1)); echo "step $step loss 0.$((RANDOM % 1000))"
  if [ $((step % CKPT_EVERY)) -eq 0 ]; then
    save && echo "checkpoint at step $step"
  fi
  sleep "$STEP_SECONDS"
done"""


def demo_task() -> Task:
    """The demo's spot job: the loop above, its checkpoint in the demo's local bucket."""
    from skytui.task.spec import Resources, Task
    from skytui.task.storage import StorageMount

    ckpt = StorageMount(path="~/ckpt", bucket=CKPT_BUCKET, store="local", named=True)
    return Task(name=JOB_NAME, run=TRAIN, envs={"STEP_SECONDS": "1", "CKPT_EVERY": "10"},
                storage_mounts={ckpt.path: ckpt}, resources=(Resources(cloud="local", use_spot=True),))


@dataclass
class DemoFleet:
    """What `start_demo` made or found already running."""

    dev_vms: list[str]
    job_id: int | None
    note: str = ""


async def start_demo(core: Core) -> DemoFleet:
    """Two dev VMs and one spot managed job; running it twice reuses what is there."""
    from skytui.core.clusters import LaunchOptions, launch
    from skytui.task.spec import Task

    async def dev(name: str) -> None:
        c = core.store.cluster(name)
        if c is not None and c.status in ("UP", "INIT"):
            return
        await launch(core, name, Task(name=name), LaunchOptions(is_dev=True, autostop_minutes=60))

    problems = []
    # One after the other: launches sharing one store connection must not interleave transactions.
    for n in DEV_VMS:
        try:
            await dev(n)
        except Exception as exc:
            log.warning("demo dev VM %s failed", n, exc_info=exc)
            problems.append(f"{n}: {exc}")
    job_id, note = submit_demo_job(core)
    if problems:
        raise SkytuiError(f"the demo fleet is partly up: {'; '.join(problems)}", "see the log for details")
    return DemoFleet(list(DEV_VMS), job_id, note)


def submit_demo_job(core: Core) -> tuple[int | None, str]:
    """Queue the spot job once (the watcher launches it); a note when managed jobs are not here."""
    try:
        from skytui.core.jobs import submit
    except ImportError:
        return None, "managed jobs are not in this build: the demo has no spot job"
    from skytui.store.job_states import TERMINAL

    for j in core.store.jobs():
        if j.name == JOB_NAME and j.status not in TERMINAL:
            return j.id, ""
    return submit(core, demo_task(), name=JOB_NAME), ""


async def preempt_demo_job(core: Core, stop: asyncio.Event, every: float = PREEMPT_EVERY_S) -> None:
    """Kill the demo job's spot node every `every` seconds, as a cloud reclaiming it would."""
    from skytui.providers.local.provider import LocalCloud

    cloud = LocalCloud(core.config.local)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
            return
        except asyncio.TimeoutError:
            pass
        job = next((j for j in core.store.jobs(statuses=["RUNNING"]) if j.name == JOB_NAME), None)
        if job is None or not job.cluster:
            continue
        # By the job's id and this store's tag, never by name: a cluster of the user's may share it.
        victims = [i for i in await asyncio.to_thread(cloud.list_all)
                   if i.job_id == job.id and i.owned_by(core.store.store_id) and i.state == "running"]
        # The notice first (the job gets SIGTERM to checkpoint), then the kill, as `local preempt` does.
        notice = core.config.local.preemption_notice_seconds
        for i in victims:
            await asyncio.to_thread(cloud.start_preemption, i.id, notice)
        if victims and notice > 0:
            await asyncio.sleep(notice)
        for i in victims:
            await asyncio.to_thread(cloud.preempt, i.id)
            log.info("demo: preempted %s of %s", i.id, job.cluster)
