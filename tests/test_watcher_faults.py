"""Faults the watcher must survive: SIGKILL at each recovery step, two watchers, a preemption storm."""

from __future__ import annotations

import asyncio
import signal
import subprocess

import pytest
from test_watcher_support import (
    FAST_YAML,
    job_task,
    live,
    make_core,
    preempt_job,
    start_daemon_process,
    wait_status,
    wait_until,
    watching,
    write_config,
)

from skytui.core.jobs import submit
from skytui.core.watcher.hooks import CRASH_ENV, STEPS
from skytui.core.watcher.loop import WatcherStatus


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


async def _settled_single_instance(core, job_id: int) -> None:  # type: ignore[no-untyped-def]
    """Exactly one live instance, and it stays that way for a few watcher rounds."""
    await wait_until(lambda: len(live(core, job_id)) == 1, 20, "a single live instance")
    for _ in range(10):
        await asyncio.sleep(0.1)
        assert len(live(core, job_id)) == 1


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
async def test_sigkill_at_each_recovery_step_leaves_one_instance_and_one_count(step: str) -> None:
    write_config(FAST_YAML)
    core = make_core()
    job_id = submit(core, job_task("sleep 120"))
    first = start_daemon_process({CRASH_ENV: f"{step}:2"})
    try:
        await wait_status(core, job_id, "RUNNING")
        preempt_job(core, job_id)
        await wait_until(lambda: first.poll() is not None, 30, f"the daemon to die at {step}")
        assert first.returncode == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
    second = start_daemon_process()
    try:
        await wait_until(lambda: core.store.job(job_id).status == "RUNNING"  # type: ignore[union-attr]
                         and core.store.job(job_id).attempts == 2, 40, "the resumed attempt")  # type: ignore[union-attr]
        await _settled_single_instance(core, job_id)
        job = core.store.job(job_id)
        assert job is not None and job.recoveries == 1 and job.attempts == 2
        attempts = core.store.attempts(job_id)
        assert [a.attempt for a in attempts] == [1, 2]
        assert attempts[0].end_reason == "preempted" and attempts[1].ended_at is None
        (inst,) = live(core, job_id)
        assert inst.request_id.startswith(f"job{job_id}-a2-")
        nodes = core.store.nodes(job.cluster or "")
        assert [n.instance_id for n in nodes] == [inst.id]
    finally:
        _stop(second)


@pytest.mark.slow
async def test_the_app_watcher_and_the_daemon_together_relaunch_once() -> None:
    write_config(FAST_YAML)
    core = make_core()
    job_id = submit(core, job_task("sleep 120"))
    daemon = start_daemon_process()
    statuses: list[WatcherStatus] = []
    try:
        async with watching(core, kind="app", statuses=statuses):
            await wait_status(core, job_id, "RUNNING")
            preempt_job(core, job_id)
            await wait_until(lambda: core.store.job(job_id).status == "RUNNING"  # type: ignore[union-attr]
                             and core.store.job(job_id).attempts == 2, 30, "one relaunch")  # type: ignore[union-attr]
            await _settled_single_instance(core, job_id)
        job = core.store.job(job_id)
        assert job is not None and job.recoveries == 1 and job.attempts == 2
        launches = [e for e in core.store.events(job_id=job_id) if e.message.startswith("attempt 2: launching")]
        assert len(launches) == 1
        roles = {s.role for s in statuses}
        assert "active" in roles or "observer" in roles
        # Exactly one of the two acted: whoever did not hold the lock only observed.
        if "observer" in roles:
            assert "active" not in roles
    finally:
        _stop(daemon)


@pytest.mark.slow
async def test_a_preemption_storm_recovers_every_job_once() -> None:
    core = make_core()
    ids = [submit(core, job_task("sleep 600", name=f"storm{i}")) for i in range(50)]
    async with watching(core):
        await wait_until(lambda: all(core.store.job(j).status == "RUNNING" for j in ids), 50,  # type: ignore[union-attr]
                         "50 jobs running")
        victims = ids[::5] + ids[1::5]  # 20 jobs
        for j in victims:
            preempt_job(core, j)
            await asyncio.sleep(0.4)  # 20 preemptions within 8 s
        await wait_until(lambda: all(core.store.job(j).status == "RUNNING" for j in ids)  # type: ignore[union-attr]
                         and all(len(live(core, j)) == 1 for j in ids), 60, "all recovered, one node each")
    jobs = [core.store.job(j) for j in ids]
    assert sum(j.recoveries for j in jobs) == 20  # type: ignore[union-attr]
    assert {j.id: j.attempts for j in jobs if j.id in victims} == {j: 2 for j in victims}  # type: ignore[union-attr]
    assert all(j.attempts == 1 for j in jobs if j.id not in victims)  # type: ignore[union-attr]
