"""SSH dropping mid-command: the watcher's checks and a user's command lose their connection."""

from __future__ import annotations

import asyncio

import pytest
from fault_support import assert_job_counted_once, state_of, user_cluster
from test_watcher_support import job_task, live, make_core, wait_status, wait_until, watching

from skytui.core import launcher
from skytui.core.jobs import submit
from skytui.errors import RemoteError
from skytui.remote.exec import run

pytestmark = pytest.mark.slow


async def test_connections_dropping_under_the_watcher_lose_and_duplicate_nothing() -> None:
    core = make_core()
    mine = await user_cluster(core)
    job_id = submit(core, job_task("sleep 120"))
    async with watching(core):
        await wait_status(core, job_id, "RUNNING")
        job = core.store.job(job_id)
        c = core.store.cluster(job.cluster or "")  # type: ignore[union-attr]
        user_c = core.store.cluster("mine")
        addrs = [launcher.address(core, c, n) for n in core.store.nodes(c.name)]  # type: ignore[union-attr, arg-type]
        user_addr = launcher.address(core, user_c, core.store.nodes("mine")[0])  # type: ignore[arg-type]
        # A user's command in flight on their own cluster when its connection drops.
        cmd = asyncio.create_task(run(core.ssh, user_addr, "sleep 2; echo done", timeout=30))
        for _ in range(30):  # 3 s of connections cut mid-command, every 0.1 s
            for a in (*addrs, user_addr):
                await core.ssh.drop(a)
            await asyncio.sleep(0.1)
        with pytest.raises(RemoteError):
            await cmd  # the dropped command fails, and says so; it is not retried behind the user's back
        await asyncio.sleep(1.0)
        job = core.store.job(job_id)
        assert job is not None and job.status in ("RUNNING", "RECOVERING", "STARTING")
        await wait_status(core, job_id, "RUNNING", timeout=40)
        await wait_until(lambda: len(live(core, job_id)) == 1, 20, "one instance")
    assert_job_counted_once(core, job_id)
    assert state_of(core, mine) == "running" and core.store.cluster("mine").status == "UP"  # type: ignore[union-attr]
    done = await run(core.ssh, user_addr, "echo again", timeout=30)  # and the next command just works
    assert done.stdout.strip() == "again"
    await core.aclose()
