"""A managed job's statuses and every move between them, in one table.

`TRANSITIONS` is the whole state machine: `Store.transition_job` refuses a move that is not
in it, and docs/job-states.md draws it (a test checks the drawing against this table). The
sets the rest of the code asks about (active, waiting, terminal, ...) are derived from it,
never listed by hand.

It lives beside the store, not in skytui.core, because the store enforces it and the store
sits below the core (the core may import the store, never the other way round).

The string values are what the store holds and what `skytui jobs --json` prints: they must
never change.
"""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10: the same behaviour, written out
    class StrEnum(str, Enum):
        """A str whose str() and format() are its value, as enum.StrEnum in 3.11."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return str(self.value).__format__(spec)


class JobStatus(StrEnum):
    PENDING = "PENDING"  # submitted; waiting for its first attempt (or an earlier pipeline stage)
    STARTING = "STARTING"  # an attempt is placing, provisioning, booting or setting up
    RUNNING = "RUNNING"  # the task's `run` is running on the attempt's nodes
    RECOVERING = "RECOVERING"  # nodes lost (or the code failed and may restart): a new attempt is due
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    FAILED_SETUP = "FAILED_SETUP"
    FAILED_NO_RESOURCE = "FAILED_NO_RESOURCE"
    CANCELLING = "CANCELLING"  # the user asked; whoever watches tears the cluster down
    CANCELLED = "CANCELLED"


S = JobStatus

# Every allowed move, from -> the statuses it may go to. Why each exists:
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    S.PENDING: frozenset({
        S.STARTING,  # the watcher opens the first attempt
        S.CANCELLING,  # the user cancels
        S.CANCELLED,  # a pipeline stage whose earlier stage failed never starts
        S.FAILED,  # its cluster name was taken by something else at submit
    }),
    S.STARTING: frozenset({
        S.STARTING,  # an attempt interrupted (crash, stop) is resumed by the next watcher
        S.RUNNING,  # the run started
        S.PENDING,  # no capacity / boot failed before it ever ran: back off, retry
        S.RECOVERING,  # the same, for a job that ran before
        S.FAILED_SETUP,  # the task's setup failed: the user's to fix
        S.FAILED_NO_RESOURCE,  # no capacity for longer than the configured limit
        S.FAILED,  # the cluster name belongs to something else
        S.CANCELLING,
    }),
    S.RUNNING: frozenset({
        S.SUCCEEDED,  # exit code 0
        S.FAILED,  # a non-zero exit past its restarts, or the process vanished too often
        S.RECOVERING,  # preempted, nodes lost or unreachable, or a restart on a code failure
        S.CANCELLING,
    }),
    S.RECOVERING: frozenset({
        S.STARTING,  # the next attempt opens
        S.CANCELLING,
    }),
    S.CANCELLING: frozenset({S.CANCELLED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
    S.FAILED_SETUP: frozenset(),
    S.FAILED_NO_RESOURCE: frozenset(),
    S.CANCELLED: frozenset(),
}

INITIAL = S.PENDING  # what a submitted job starts as


def _sources(target: JobStatus) -> tuple[JobStatus, ...]:
    return tuple(s for s in JobStatus if target in TRANSITIONS[s])


# Derived sets (declaration order, so SQL and output stay stable).
TERMINAL: frozenset[JobStatus] = frozenset(s for s in JobStatus if not TRANSITIONS[s])
ACTIVE: tuple[JobStatus, ...] = tuple(s for s in JobStatus if TRANSITIONS[s])  # the watcher's business
WAITING: tuple[JobStatus, ...] = _sources(S.STARTING)  # an attempt may open from these
CANCELLABLE: tuple[JobStatus, ...] = _sources(S.CANCELLING)


class IllegalTransition(ValueError):
    """A move that TRANSITIONS does not allow: a bug in the caller, never a user's error."""


def allowed(old: str, new: str) -> bool:
    try:
        return JobStatus(new) in TRANSITIONS[JobStatus(old)]
    except ValueError:  # not a status at all
        return False


def check_moves(expected: tuple[str, ...], new: str) -> None:
    """Raise IllegalTransition unless every `old -> new` with old in `expected` is in the table."""
    bad = [old for old in expected if not allowed(old, new)]
    if bad or not expected:
        raise IllegalTransition(f"job status move {'/'.join(bad) or '(nothing)'} -> {new} is not in TRANSITIONS "
                                "(skytui/store/job_states.py)")
