"""Alerts (issue 13): what happened to jobs, GPUs and spend, sent to a webhook and/or the desktop."""

from skytui.core.notify.deliver import Alert, Notifier

__all__ = ["Alert", "Notifier"]
