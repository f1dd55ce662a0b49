"""The watcher on the local cloud with real nodes: preemption, strategies, capacity, exits, cancel."""

from __future__ import annotations

import dataclasses
import os
import signal

from test_watcher_support import (
    FAST,
    job_task,
    live,
    make_core,
    preempt_job,
    wait_status,
    wait_until,
)

from skytui.config_model import ZoneCapacity
from skytui.core.jobs import attempt_log_path, submit
from skytui.core.jobs.service import request_cancel
from skytui.task.spec import JobRecovery


async def test_a_preempted_job_recovers_in_the_next_region_with_the_same_task_id() -> None:
    core = make_core()
    job_id = submit(core, job_task("echo task=$SKYPILOT_TASK_ID attempt; sleep 60"))
    async with watching_ctx(core):
        await wait_status(core, job_id, "RUNNING")
        first = core.store.job(job_id)
        await wait_until(lambda: attempt_log_path(job_id, 1).exists(), 10, "attempt 1 log")
        preempt_job(core, job_id)
        await wait_status(core, job_id, "RECOVERING", "STARTING", "RUNNING", timeout=10)
        await wait_until(lambda: core.store.job(job_id).attempts == 2  # type: ignore[union-attr]
                         and core.store.job(job_id).status == "RUNNING", 30, "attempt 2 running")  # type: ignore[union-attr]
        await wait_until(lambda: attempt_log_path(job_id, 2).exists(), 10, "attempt 2 log")
        job = core.store.job(job_id)
        assert job is not None and job.recoveries == 1 and job.attempts == 2
        assert first is not None and (first.region, job.region) == ("local-1", "local-2")  # EAGER_NEXT_REGION
        insts = live(core, job_id)
        assert len(insts) == 1 and insts[0].request_id.startswith(f"job{job_id}-a2-")
        a1, a2 = core.store.attempts(job_id)
        assert (a1.end_reason, a2.end_reason) == ("preempted", None)
        logs = [attempt_log_path(job_id, n).read_text() for n in (1, 2)]
        assert logs[0] == logs[1] == f"task={job.task_id} attempt\n"  # resumable from the checkpoint
        messages = [e.message for e in core.store.events(job_id=job_id)]
        assert any("preempted in local-1/a" in m and "relaunching" in m for m in messages)


def watching_ctx(core, settings=FAST):  # type: ignore[no-untyped-def]
    from test_watcher_support import watching

    return watching(core, settings)


async def test_failover_tries_the_other_zone_of_a_pinned_region_first() -> None:
    core = make_core()
    job_id = submit(core, job_task(region="local-1"))
    async with watching_ctx(core):
        await wait_status(core, job_id, "RUNNING")
        assert core.store.job(job_id).zone == "a"  # type: ignore[union-attr]
        preempt_job(core, job_id)
        await wait_until(lambda: core.store.job(job_id).attempts == 2  # type: ignore[union-attr]
                         and core.store.job(job_id).status == "RUNNING", 30, "attempt 2 running")  # type: ignore[union-attr]
        job = core.store.job(job_id)
        assert (job.region, job.zone) == ("local-1", "b")  # type: ignore[union-attr]


async def test_first_region_out_of_spot_capacity_fails_over_to_the_next() -> None:
    core = make_core(capacity={"local-1": ZoneCapacity(spot=0)})
    job_id = submit(core, job_task("sleep 60"))
    async with watching_ctx(core):
        await wait_status(core, job_id, "RUNNING")
        job = core.store.job(job_id)
        assert job is not None and job.region == "local-2" and job.attempts == 1
        assert len(live(core, job_id)) == 1


async def test_no_capacity_anywhere_backs_off_then_fails_with_the_reason() -> None:
    core = make_core(capacity={"local-1": ZoneCapacity(spot=0), "local-2": ZoneCapacity(spot=0)})
    job_id = submit(core, job_task("sleep 60"))
    settings = dataclasses.replace(FAST, no_resource_timeout_seconds=1.5)
    async with watching_ctx(core, settings):
        await wait_status(core, job_id, "FAILED_NO_RESOURCE", timeout=30)
    job = core.store.job(job_id)
    assert job is not None and job.attempts == 1 and "no capacity for" in (job.last_event or "")
    assert "no spot capacity" in (job.last_event or "")
    retries = [e for e in core.store.events(job_id=job_id) if "retrying in" in e.message]
    assert len(retries) >= 2  # it backed off and tried again before giving up
    assert core.store.attempts(job_id)[0].end_reason == "no-capacity"


async def test_exit_codes_end_the_job_and_restarts_follow_the_policy() -> None:
    core = make_core()
    ok = submit(core, job_task("echo fine", name="ok"))
    bad = submit(core, job_task("echo run; exit 3", name="bad",
                                recovery=JobRecovery(max_restarts_on_errors=1)))
    async with watching_ctx(core):
        await wait_status(core, ok, "SUCCEEDED")
        await wait_status(core, bad, "FAILED", timeout=40)
    j = core.store.job(bad)
    assert j is not None and j.attempts == 2 and j.restarts_on_errors == 1 and j.recoveries == 0
    a1, a2 = core.store.attempts(bad)
    assert (a1.exit_code, a2.exit_code) == (3, 3)
    assert a1.region == a2.region and a1.zone == a2.zone  # restarted in place on the same nodes
    assert "exit code 3" in (j.last_event or "")
    assert attempt_log_path(bad, 2).read_text() == "run\n"
    assert not live(core, ok) and not live(core, bad)  # both clusters torn down
    assert core.store.cluster(f"ok-job{ok}").status == "TERMINATED"  # type: ignore[union-attr]


def _kill_job_processes(core, job_id: int, attempt: int) -> None:  # type: ignore[no-untyped-def]
    """Kill the job's wrapper and script so no exit code is written: the process is 'gone'."""
    cloud = core.provider("local")
    (inst,) = live(core, job_id)
    d = cloud.disk_dir(inst.id) / ".skytui" / "jobs" / str(attempt)
    for name in ("pid", "pgid"):
        pid = int((d / name).read_text())
        try:
            os.killpg(pid, signal.SIGKILL) if name == "pgid" else os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


async def test_a_job_process_gone_without_exit_code_is_relaunched_then_given_up() -> None:
    core = make_core()
    job_id = submit(core, job_task("sleep 60"))
    settings = dataclasses.replace(FAST, max_gone=2)
    async with watching_ctx(core, settings):
        await wait_status(core, job_id, "RUNNING")
        _kill_job_processes(core, job_id, 1)
        await wait_until(lambda: core.store.job(job_id).attempts == 2  # type: ignore[union-attr]
                         and core.store.job(job_id).status == "RUNNING", 30, "relaunch after gone")
        assert core.store.attempts(job_id)[0].end_reason == "job-gone"
        _kill_job_processes(core, job_id, 2)
        await wait_status(core, job_id, "FAILED", timeout=20)
    job = core.store.job(job_id)
    assert job is not None and "without an exit code" in (job.last_event or "")
    assert not live(core, job_id)


async def test_cancel_tears_down_a_running_job() -> None:
    core = make_core()
    job_id = submit(core, job_task("sleep 60"))
    async with watching_ctx(core):
        await wait_status(core, job_id, "RUNNING")
        assert request_cancel(core, job_id).status == "CANCELLING"
        await wait_status(core, job_id, "CANCELLED")
    assert not live(core, job_id)
    assert core.store.attempts(job_id)[-1].end_reason == "cancelled"


async def test_a_preemption_from_another_process_is_seen_before_the_next_poll() -> None:
    """The local cloud's change feed wakes the watcher: no waiting out a long poll interval."""
    import subprocess
    import sys
    import time

    core = make_core()
    slow_poll = dataclasses.replace(FAST, poll_seconds=30.0)
    job_id = submit(core, job_task())
    async with watching_ctx(core, slow_poll):
        await wait_status(core, job_id, "RUNNING", timeout=40)
        cluster = core.store.job(job_id).cluster  # type: ignore[union-attr]
        t0 = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "skytui.cli.main", "local", "preempt", cluster],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        await wait_status(core, job_id, "RECOVERING", "STARTING", timeout=10)
        assert time.monotonic() - t0 < 10  # far inside the 30 s poll interval
