"""Clock jumps (an NTP step forward or back) while the watcher runs."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
from fault_support import assert_job_counted_once, state_of, user_cluster
from test_watcher_support import FAST, job_task, live, preempt_job, wait_status, wait_until, watching

from skytui.config_model import Config, LocalSettings, ZoneCapacity
from skytui.core import clusters as ops
from skytui.core.context import Core
from skytui.core.jobs import submit
from skytui.task.spec import Resources, Task

pytestmark = pytest.mark.slow
HOUR = 3600.0


class SteppedClock:
    """Wall time plus an offset a test can step, as NTP does."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def _core(clock: SteppedClock, **local: object) -> Core:
    return Core(Config(local=LocalSettings(**local), watcher_poll_seconds=0.2), clock=clock)  # type: ignore[arg-type]


async def test_a_step_forward_does_not_make_a_dev_vm_idle_for_hours() -> None:
    clock = SteppedClock()
    core = _core(clock)
    await ops.launch(core, "devbox", Task(resources=(Resources(cloud="local"),)),
                     ops.LaunchOptions(is_dev=True, autostop_minutes=20))  # FAST: 20 "minutes" = 10 s
    (node,) = core.store.nodes("devbox")
    async with watching(core, FAST):
        await asyncio.sleep(1.0)  # the autostop check has seen it idle once
        clock.offset += 24 * HOUR
        await asyncio.sleep(2.0)
        assert core.store.cluster("devbox").status == "UP"  # type: ignore[union-attr]
        assert state_of(core, node.instance_id or "") == "running"


async def test_a_step_back_does_not_park_a_waiting_job_for_hours() -> None:
    clock = SteppedClock()
    core = _core(clock, capacity={"local-1": ZoneCapacity(spot=0), "local-2": ZoneCapacity(spot=0)})
    settings = dataclasses.replace(FAST, no_resource_timeout_seconds=10 * HOUR)
    job_id = submit(core, job_task("sleep 120"))
    async with watching(core, settings):
        await wait_until(lambda: core.store.job(job_id).next_try_at is not None, 20, "a backoff")  # type: ignore[union-attr]
        clock.offset -= 2 * HOUR
        cloud = core.provider("local")
        cloud.settings = dataclasses.replace(cloud.settings, capacity={})  # type: ignore[attr-defined]
        await wait_status(core, job_id, "RUNNING", timeout=20)
    assert_job_counted_once(core, job_id)


async def test_recoveries_across_steps_both_ways_count_once() -> None:
    clock = SteppedClock()
    core = _core(clock)
    mine = await user_cluster(core)
    job_id = submit(core, job_task("sleep 120"))
    async with watching(core, FAST):
        await wait_status(core, job_id, "RUNNING")
        for n, step in ((2, 6 * HOUR), (3, -12 * HOUR)):
            clock.offset += step
            preempt_job(core, job_id)
            await wait_until(lambda n=n: core.store.job(job_id).status == "RUNNING"  # type: ignore[union-attr]
                             and core.store.job(job_id).attempts == n, 40, f"attempt {n}")
        await wait_until(lambda: len(live(core, job_id)) == 1, 20, "one instance")
    assert core.store.job(job_id).recoveries == 2  # type: ignore[union-attr]
    assert_job_counted_once(core, job_id)
    assert state_of(core, mine) == "running"
