"""Extras of known jobs are terminated, orphans only reported, idle clusters autostopped."""

from __future__ import annotations

from test_watcher_support import (
    console,
    job_task,
    live,
    make_core,
    wait_status,
    wait_until,
    watching,
)

from skytui.core.clusters import LaunchOptions, launch
from skytui.core.jobs import submit
from skytui.providers.base import LaunchSpec
from skytui.store import current_user
from skytui.task.spec import Resources, Task


def _spec(core, request_id: str, cluster: str, job_id: int | None,  # type: ignore[no-untyped-def]
          store_id: str | None = None) -> LaunchSpec:
    return LaunchSpec(request_id=request_id, cluster=cluster, num_nodes=1, region="local-2", zone="b",
                      instance_type="local-cpu2", spot=True, user=current_user(),
                      ssh_public_key=core.user_key[1], job_id=job_id, store_id=store_id)


async def test_extras_are_terminated_and_orphans_reported_but_kept() -> None:
    core = make_core()
    job_id = submit(core, job_task("sleep 60"))
    async with watching(core):
        await wait_status(core, job_id, "RUNNING")
        cloud = console(core)  # as another process would
        # A node of the same job from an older request (a crash between asking and recording).
        (extra,) = await cloud.launch(_spec(core, f"job{job_id}-a0-local-local-2-b", f"train-job{job_id}", job_id,
                                            core.store.store_id))
        (orphan,) = await cloud.launch(_spec(core, "someone-else-1", "not-in-state", None))
        # The same job id and cluster name from another store (a state file started afresh).
        (other,) = await cloud.launch(_spec(core, "job1-a1-other", f"train-job{job_id}", job_id, "0" * 32))
        await wait_until(lambda: len(live(core, job_id)) == 2, 15, "the extra terminated")
        await wait_until(lambda: any("orphan instance" in e.message for e in core.store.events()), 10, "orphan event")
        states = {i.id: i.state for i in cloud.list_all()}
        assert states[extra.id] == "terminated" and states[orphan.id] in ("pending", "running")
        assert states[other.id] in ("pending", "running")
        await wait_until(lambda: any(other.id in e.message and "another skytui state store" in e.message
                                     for e in core.store.events()), 10, "the other store's orphan reported")
        assert core.store.job(job_id).status == "RUNNING"  # type: ignore[union-attr]
        assert any("terminating extra instance" in e.message for e in core.store.events(job_id=job_id))
        await cloud.terminate([orphan.id, other.id])


async def test_an_idle_cluster_is_stopped_after_its_autostop_and_the_reason_is_recorded() -> None:
    core = make_core()
    await launch(core, "devbox", Task(resources=(Resources(cloud="local"),)),
                 LaunchOptions(is_dev=True, autostop_minutes=1))
    async with watching(core):  # FAST: an autostop minute lasts 0.5 s
        await wait_until(lambda: core.store.cluster("devbox").status == "STOPPED", 20,  # type: ignore[union-attr]
                         "autostop")
    events = [e.message for e in core.store.events(cluster="devbox")]
    assert any("autostop: devbox idle" in m and "stopping it" in m for m in events)
