"""Named steps of a launch attempt: where SIGTERM stops cleanly and where tests crash the watcher."""

from __future__ import annotations

from skytui.core.crashpoints import CRASH_ENV as CRASH_ENV
from skytui.core.crashpoints import LAUNCH_STEPS as LAUNCH_STEPS
from skytui.core.crashpoints import crash_point as crash_point

STEPS = ("before-launch", "after-launch", "after-ssh", "after-setup")


class Stopping(Exception):
    """The watcher was asked to stop; the attempt resumes from here next time."""
