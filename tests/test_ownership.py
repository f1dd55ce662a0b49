"""Ownership: a managed job never touches a cluster it does not own (issue 12, faults 1 and 2)."""

from __future__ import annotations

import asyncio

import pytest
from test_watcher_support import job_task, make_core, wait_status, watching

from skytui.core import clusters as ops
from skytui.core.jobs import submit
from skytui.errors import NameError_, SkytuiError
from skytui.task.spec import Resources, Task


def _user_task() -> Task:
    return Task(name="mine", run=None, resources=(Resources(cloud="local"),))


def _running(core, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    from test_watcher_support import console

    return [r.id for r in console(core).registry.rows("cluster = ? AND state = 'running'", (name,))]


@pytest.mark.slow
async def test_a_managed_job_leaves_the_users_cluster_of_the_old_job_name_alone() -> None:
    core = make_core()
    await ops.launch(core, "work-1", _user_task(), ops.LaunchOptions())
    mine = _running(core, "work-1")
    assert len(mine) == 1
    job_id = submit(core, job_task("sleep 60"), name="work")
    assert job_id == 1
    async with watching(core):
        await wait_status(core, job_id, "RUNNING")
        await asyncio.sleep(0.6)  # a few more rounds: nothing of the user's may be judged extra
    c = core.store.cluster("work-1")
    assert c is not None and c.status == "UP" and c.job_id is None
    assert _running(core, "work-1") == mine
    job = core.store.job(job_id)
    assert job is not None and job.cluster == "work-job1"


def test_user_launches_refuse_the_managed_job_namespace() -> None:
    from skytui.names import managed_cluster_name, validate_new_cluster_name

    name = managed_cluster_name("work", 1)
    with pytest.raises(NameError_, match="reserved for managed jobs"):
        validate_new_cluster_name(name)
    assert validate_new_cluster_name("work-1") == "work-1"
    assert len(managed_cluster_name("x" * 63, 123456)) <= 63


async def test_a_user_launch_of_a_reserved_name_is_refused_before_anything_runs() -> None:
    core = make_core()
    with pytest.raises(NameError_):
        await ops.launch(core, "work-job1", _user_task(), ops.LaunchOptions())
    assert core.store.cluster("work-job1") is None


def test_submit_refuses_a_cluster_name_already_taken() -> None:
    from skytui.core.launcher import new_cluster_record
    from skytui.core.planner import Candidate
    from skytui.names import managed_cluster_name

    core = make_core()
    taken = managed_cluster_name("work", 1)
    cand = Candidate("local", "local-1", "a", "local-2x8", False, 0.1, 1, None, 0, 2, 8, 0.1)
    core.store.create_cluster(new_cluster_record(
        taken, cand, _user_task(), request_id="r", job_id=None, is_dev=False, autostop_minutes=None,
        autostop_down=False, now=0.0))
    with pytest.raises(SkytuiError, match="taken"):
        submit(core, job_task("sleep 60"), name="work")
    c = core.store.cluster(taken)
    assert c is not None and c.status == "INIT" and c.job_id is None
    job = core.store.job(1)
    assert job is not None and job.status == "FAILED"


@pytest.mark.slow
async def test_a_legacy_job_whose_cluster_name_is_the_users_fails_without_touching_it() -> None:
    """A job recorded before the namespace (cluster `work-1`) meets the user's `work-1`."""
    core = make_core()
    await ops.launch(core, "work-1", _user_task(), ops.LaunchOptions())
    mine = _running(core, "work-1")
    job_id = submit(core, job_task("sleep 60"), name="work")
    core.store.update_job(job_id, cluster="work-1")
    async with watching(core):
        await wait_status(core, job_id, "FAILED", "FAILED_SETUP", timeout=20)
        await asyncio.sleep(0.6)
    c = core.store.cluster("work-1")
    assert c is not None and c.status == "UP" and c.job_id is None
    assert _running(core, "work-1") == mine
    messages = " ".join(e.message for e in core.store.events(job_id=job_id))
    assert "work-1" in messages and "not touched" in messages
