"""The watcher's decisions as pure functions: no asyncio, no cloud, no store."""

from __future__ import annotations

import random

import pytest

from skytui.core.watcher.policy import (
    AttemptResult,
    Next,
    Outcome,
    after_attempt,
    after_exit,
    after_gone,
    backoff_delay,
    gone_streak,
)
from skytui.core.watcher.strategy import Backoff
from skytui.store.job_states import TRANSITIONS, JobStatus


def attempt(outcome: Outcome, detail: str = "", *, ran: bool = False, waited: float = 0.0) -> Next | None:
    return after_attempt(AttemptResult(outcome, detail), ran_before=ran, waited_s=waited,
                         no_resource_timeout_s=600)


def test_attempt_outcomes() -> None:
    assert attempt(Outcome.RUNNING) == Next(JobStatus.RUNNING)
    assert attempt(Outcome.NO_CAPACITY, waited=10) == Next(JobStatus.PENDING, backoff=True)
    assert attempt(Outcome.NO_CAPACITY, waited=10, ran=True) == Next(JobStatus.RECOVERING, backoff=True)
    assert attempt(Outcome.NO_CAPACITY, waited=600) == Next(JobStatus.FAILED_NO_RESOURCE, "no-capacity")
    assert attempt(Outcome.SETUP_FAILED, "pip exited 1") == Next(JobStatus.FAILED_SETUP, "setup-failed: pip exited 1")
    assert attempt(Outcome.NAME_TAKEN, "x") == Next(JobStatus.FAILED, "name-taken")
    assert attempt(Outcome.BOOT_FAILED) == Next(JobStatus.PENDING, "boot-failed", backoff=True)
    assert attempt(Outcome.BOOT_FAILED, ran=True) == Next(JobStatus.RECOVERING, "boot-failed", backoff=True)
    assert attempt(Outcome.SKIPPED) is None


@pytest.mark.parametrize("outcome", list(Outcome))
@pytest.mark.parametrize("ran", [False, True])
@pytest.mark.parametrize("waited", [0.0, 1e9])
def test_every_attempt_decision_is_a_move_in_the_table(outcome: Outcome, ran: bool, waited: float) -> None:
    n = attempt(outcome, ran=ran, waited=waited)
    assert n is None or n.status in TRANSITIONS[JobStatus.STARTING]


def test_exit_codes() -> None:
    assert after_exit(0, listed=False, restarts_on_errors=0, max_restarts=0) == Next(JobStatus.SUCCEEDED, "exit-code 0")
    assert after_exit(3, listed=False, restarts_on_errors=0, max_restarts=0) == Next(JobStatus.FAILED, "exit-code 3")
    assert after_exit(3, listed=False, restarts_on_errors=1, max_restarts=2) == \
        Next(JobStatus.RECOVERING, "exit-code 3", restart=True)
    assert after_exit(3, listed=False, restarts_on_errors=2, max_restarts=2).status == JobStatus.FAILED
    # A listed code restarts however many restarts were used.
    assert after_exit(42, listed=True, restarts_on_errors=9, max_restarts=2).restart
    for code in (0, 1, 255):
        for used in (0, 5):
            n = after_exit(code, listed=False, restarts_on_errors=used, max_restarts=3)
            assert n.status in TRANSITIONS[JobStatus.RUNNING]


def test_job_gone_streaks() -> None:
    assert gone_streak([]) == 1
    assert gone_streak(["preempted", "job-gone", "job-gone"]) == 3
    assert gone_streak(["job-gone", "preempted"]) == 1
    assert after_gone(2, max_gone=3) == Next(JobStatus.RECOVERING, "job-gone")
    assert after_gone(3, max_gone=3) == Next(JobStatus.FAILED, "job-gone")


def test_backoff_delay() -> None:
    assert [backoff_delay(f, 1.0, 10.0, 1.0 - 1e-12) for f in range(6)] == \
        pytest.approx([1, 2, 4, 8, 10, 10])
    assert backoff_delay(3, 1.0, 10.0, 0.0) == 4.0  # the least jitter halves the wait
    assert backoff_delay(0, 5.0, 1.0, 0.0) == 2.5  # a cap below the base is raised to it
    # The stateful Backoff the watcher keeps per job is this function over its failure count.
    seq = random.Random(7)
    b = Backoff(2.0, 30.0, random.Random(7))
    for failures in range(8):
        assert b.next_delay() == backoff_delay(failures, 2.0, 30.0, seq.random())
    b.reset()
    assert b.failures == 0
