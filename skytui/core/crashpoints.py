"""Named points where fault-injection tests SIGKILL the process (`SKYTUI_CRASH_AT`).

In the core, not the watcher, because the launch flow (`clusters`) has points too and the
watcher builds on the launch flow; `core.watcher.hooks` names the watcher's own steps.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "SKYTUI_CRASH_AT"  # "STEP" or "STEP:ATTEMPT", e.g. "after-launch:2"
# Named points of a user's `skytui launch` (the CLI or the app), for the same kind of test.
LAUNCH_STEPS = ("launch-recorded", "launch-provisioned")


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
