"""Recovery without loss (issue 13): live log capture, the preemption notice, its events."""

from __future__ import annotations

import dataclasses

from test_watcher_support import (
    FAST,
    console,
    job_task,
    live,
    make_core,
    wait_status,
    wait_until,
    watching,
)

from skytui.core.jobs import attempt_log_path, submit

# The node check is made rare, so any output that arrives comes through the live stream.
NO_CHECKS = dataclasses.replace(FAST, job_check_seconds=3600.0)

COUNTER = "i=0; while :; do i=$((i+1)); echo step $i; sleep 0.1; done"
TRAPPING = ("trap 'echo checkpoint at step $i; exit 0' TERM; i=0; "
            "while :; do i=$((i+1)); echo step $i; sleep 0.1; done")


def _log(job_id: int, n: int) -> str:
    p = attempt_log_path(job_id, n)
    return p.read_text() if p.exists() else ""


async def test_a_running_attempts_output_streams_into_the_store_between_node_checks() -> None:
    core = make_core()
    job_id = submit(core, job_task(COUNTER))
    async with watching(core, NO_CHECKS):
        await wait_status(core, job_id, "RUNNING")
        await wait_until(lambda: "step 20\n" in _log(job_id, 1), 20, "20 steps captured live")
        text = _log(job_id, 1)
        steps = [int(line.split()[1]) for line in text.splitlines()]
        assert steps == list(range(1, len(steps) + 1))  # in order, nothing twice, no gap


async def test_a_preemption_notice_signals_the_job_and_the_events_tell_the_story() -> None:
    core = make_core()
    job_id = submit(core, job_task(TRAPPING))
    async with watching(core, FAST):
        await wait_status(core, job_id, "RUNNING")
        await wait_until(lambda: "step 5\n" in _log(job_id, 1), 20, "a few steps")
        (inst,) = live(core, job_id)
        console(core).start_preemption(inst.id, 30.0)  # long: the job's own exit ends the attempt
        await wait_until(lambda: (core.store.job(job_id).attempts == 2  # type: ignore[union-attr]
                                  and core.store.job(job_id).status == "RUNNING"), 40, "attempt 2 running")  # type: ignore[union-attr]
        text = _log(job_id, 1)
        assert "[skytui] preemption notice from the cloud" in text
        assert "checkpoint at step" in text.splitlines()[-1]  # the trap ran, and its line was kept
        a1 = core.store.attempts(job_id)[0]
        assert a1.end_reason == "preempted" and a1.notice_at is not None
        reasons = [e.reason for e in core.store.events(job_id=job_id)]  # oldest first
        tail = reasons[reasons.index("notice"):]
        order: list[str] = []
        for r in tail:  # the job's and its cluster's event may both say "preempted"
            if r in ("notice", "preempted", "recovering", "running") and (not order or order[-1] != r):
                order.append(r)
        assert order == ["notice", "preempted", "recovering", "running"], reasons
        assert core.store.job(job_id).status == "RUNNING"  # type: ignore[union-attr]


async def test_the_local_cloud_kills_a_noticed_node_when_its_time_is_up() -> None:
    core = make_core()
    job_id = submit(core, job_task("sleep 60"))
    async with watching(core, NO_CHECKS):
        await wait_status(core, job_id, "RUNNING")
        (inst,) = live(core, job_id)
        cloud = console(core)
        cloud.start_preemption(inst.id, 0.5)
        await wait_until(lambda: cloud.registry.get(inst.id).state == "terminated", 20, "the node to go")
        assert cloud.registry.get(inst.id).reason == "spot-preempted"
        await wait_until(lambda: core.store.job(job_id).attempts == 2, 40, "a second attempt")  # type: ignore[union-attr]


async def test_with_more_running_attempts_than_streams_they_take_turns() -> None:
    core = make_core()
    a = submit(core, job_task(COUNTER, name="a"))
    b = submit(core, job_task(COUNTER, name="b"))
    one_stream = dataclasses.replace(NO_CHECKS, log_streams=1, log_turn_seconds=0.5)
    async with watching(core, one_stream):
        await wait_status(core, a, "RUNNING")
        await wait_status(core, b, "RUNNING")
        # Only the live streams deliver here; with one slot both logs still grow, in turns.
        await wait_until(lambda: "step 30\n" in _log(a, 1) and "step 30\n" in _log(b, 1), 40, "both captured")
        for job_id in (a, b):
            steps = [int(line.split()[1]) for line in _log(job_id, 1).splitlines()]
            assert steps == list(range(1, len(steps) + 1))  # resumed at the byte: no gap, no repeat


def test_pieces_land_at_their_offset_once() -> None:
    from skytui.core.jobs.logs import append_attempt_log

    assert append_attempt_log(7, 1, b"abc\n", at=0) == 4
    assert append_attempt_log(7, 1, b"abc\ndef\n", at=0) == 4  # the known part is skipped
    assert append_attempt_log(7, 1, b"def\n", at=4) == 0  # already there
    assert append_attempt_log(7, 1, b"xyz\n", at=20) == 0  # would leave a hole: refused
    assert _log(7, 1) == "abc\ndef\n"


async def test_a_finished_jobs_last_lines_are_kept_before_its_cluster_goes() -> None:
    core = make_core()
    job_id = submit(core, job_task("for i in $(seq 1 30); do echo line $i; sleep 0.02; done; echo the end",
                                   spot=False))
    async with watching(core, FAST):
        await wait_status(core, job_id, "SUCCEEDED", timeout=40)
    lines = _log(job_id, 1).splitlines()
    assert lines == [f"line {i}" for i in range(1, 31)] + ["the end"]
