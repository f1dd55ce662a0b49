"""What the watcher does next, as pure functions: what happened in, the job's next status out.

The watcher's async code gathers the facts (an attempt's outcome, an exit code, how long the
job has waited) and performs the decision (store moves, teardown, the next attempt); the
decisions themselves live here, testable without asyncio, clouds or a store. Every status
they name is a move in skytui/store/job_states.py (drawn in docs/job-states.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from skytui.store.job_states import JobStatus


class Outcome(Enum):
    """How one launch attempt ended (skytui/core/watcher/attempt.py returns it)."""

    RUNNING = "running"  # the run started on the attempt's nodes
    NO_CAPACITY = "no-capacity"  # nothing in the plan had capacity
    SETUP_FAILED = "setup-failed"  # the task's setup exited non-zero
    NAME_TAKEN = "name-taken"  # the job's cluster name belongs to a cluster made for something else
    BOOT_FAILED = "boot-failed"  # the nodes did not come up (lost while booting, SSH never answered, a bug)
    SKIPPED = "skipped"  # the job was no longer waiting for an attempt (someone else moved it)


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    detail: str = ""  # the error the outcome came from, in the user's words
    attempt: int = 0  # the attempt's number (0: none was opened)


@dataclass(frozen=True)
class Next:
    """The job's next status; `end_reason` ends the attempt when set; `backoff` waits before a retry."""

    status: JobStatus
    end_reason: str | None = None
    backoff: bool = False
    restart: bool = False  # a restart on the same nodes after the user's code failed


def retry_status(ran_before: bool) -> JobStatus:
    """Where a job waits for its next attempt: RECOVERING once it has run, else PENDING."""
    return JobStatus.RECOVERING if ran_before else JobStatus.PENDING


def after_attempt(result: AttemptResult, *, ran_before: bool, waited_s: float,
                  no_resource_timeout_s: float) -> Next | None:
    """The move out of STARTING for an attempt's outcome; None when there is nothing to do."""
    o = result.outcome
    if o is Outcome.RUNNING:
        return Next(JobStatus.RUNNING)
    if o is Outcome.NO_CAPACITY:
        if waited_s >= no_resource_timeout_s:
            return Next(JobStatus.FAILED_NO_RESOURCE, end_reason="no-capacity")
        # The attempt stays open: the next try resumes it (and adopts what its request started).
        return Next(retry_status(ran_before), backoff=True)
    if o is Outcome.SETUP_FAILED:
        return Next(JobStatus.FAILED_SETUP, end_reason=f"setup-failed: {result.detail}")
    if o is Outcome.NAME_TAKEN:
        return Next(JobStatus.FAILED, end_reason="name-taken")
    if o is Outcome.BOOT_FAILED:
        return Next(retry_status(ran_before), end_reason="boot-failed", backoff=True)
    return None


def after_exit(code: int, *, listed: bool, restarts_on_errors: int, max_restarts: int) -> Next:
    """The move out of RUNNING when the job's process exited with `code`.

    `listed`: the code is in the task's recover_on_exit_codes (restarted, and not counted).
    """
    if code == 0:
        return Next(JobStatus.SUCCEEDED, end_reason="exit-code 0")
    if listed or restarts_on_errors < max_restarts:
        return Next(JobStatus.RECOVERING, end_reason=f"exit-code {code}", restart=True)
    return Next(JobStatus.FAILED, end_reason=f"exit-code {code}")


def gone_streak(earlier_end_reasons: list[str | None]) -> int:
    """How many attempts in a row (this one included) lost their process without an exit code."""
    streak = 1
    for reason in reversed(earlier_end_reasons):
        if reason != "job-gone":
            break
        streak += 1
    return streak


def after_gone(streak: int, *, max_gone: int) -> Next:
    """The node answered but the job's process vanished: a lost attempt, until it keeps happening."""
    if streak >= max_gone:
        return Next(JobStatus.FAILED, end_reason="job-gone")
    return Next(JobStatus.RECOVERING, end_reason="job-gone")


def backoff_delay(failures: int, base_s: float, cap_s: float, jitter: float) -> float:
    """Seconds before retry number `failures + 1`: exponential up to `cap_s`, times 0.5-1.0.

    `jitter` in [0, 1) spreads many jobs that failed together so they do not all retry at once.
    """
    base = max(0.0, base_s)
    raw: float = min(max(base, cap_s), base * float(2 ** failures))
    return raw * (0.5 + jitter * 0.5)
