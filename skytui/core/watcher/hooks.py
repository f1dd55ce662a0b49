"""Named steps of a launch attempt: where SIGTERM stops cleanly and where tests crash the watcher."""

from __future__ import annotations

import os
import signal

CRASH_ENV = "SKYTUI_CRASH_AT"  # "STEP" or "STEP:ATTEMPT", e.g. "after-launch:2"
STEPS = ("before-launch", "after-launch", "after-ssh", "after-setup")
# Named points of a user's `skytui launch` (the CLI or the app), for the same kind of test.
LAUNCH_STEPS = ("launch-recorded", "launch-provisioned")


class Stopping(Exception):
    """The watcher was asked to stop; the attempt resumes from here next time."""


def crash_point(step: str, attempt: int) -> None:
    """SIGKILL ourselves at `step` when the crash variable names it (fault-injection tests)."""
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name != step:
        return
    if nth and not nth.isdigit():  # a typo in a test hook must not break a real attempt
        return
    if not nth or int(nth) == attempt:
        os.kill(os.getpid(), signal.SIGKILL)
