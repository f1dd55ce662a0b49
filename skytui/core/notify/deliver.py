"""Delivering alerts without ever holding up the caller: a webhook POST and a desktop note.

`Notifier.send` only queues. Each alert is delivered by a task of its own (at most a few at
once); a webhook that fails or times out is retried with exponential backoff, each failure
is logged, and one that never succeeds is reported once through `on_failure` (the watcher
records it as an event, which the app shows). The webhook body is JSON with a `text` field,
which is what Slack's incoming webhooks (and Mattermost, Discord's /slack endpoint, ...)
display; the rest of the alert rides along under `skytui`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

from skytui.config_model import NotifySettings

log = logging.getLogger("skytui.notify")

PARALLEL = 4  # deliveries in flight at once
MAX_PENDING = 200  # alerts waiting beyond this are dropped (and logged): a flood must not grow memory


@dataclass(frozen=True)
class Alert:
    """One thing worth telling: `kind` is preemption, recovered, failed, gpu-idle or budget."""

    kind: str
    text: str
    job_id: int | None = None
    cluster: str | None = None
    ts: float = field(default_factory=time.time)


def post_json(url: str, body: Mapping[str, object], timeout: float) -> str | None:
    """POST `body` as JSON; None on a 2xx answer, else one line saying what went wrong."""
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json", "User-Agent": "skytui"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read(1 << 16)
            return None
    except urllib.error.HTTPError as exc:
        return f"the webhook answered HTTP {exc.code} {exc.reason}"
    except (TimeoutError, OSError) as exc:  # URLError is an OSError; socket timeouts too
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            return f"the webhook did not answer within {timeout:g}s"
        return f"cannot reach the webhook: {reason}"


def desktop_command(title: str, text: str) -> list[str] | None:
    """The platform's notifier as an argv (no shell), or None when there is none."""
    if sys.platform == "darwin" and shutil.which("osascript"):
        def q(s: str) -> str:  # an AppleScript string literal
            return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return ["osascript", "-e", f"display notification {q(text)} with title {q(title)}"]
    if shutil.which("notify-send"):
        return ["notify-send", "--app-name=skytui", title, text]
    return None


def show_on_desktop(title: str, text: str) -> str | None:
    argv = desktop_command(title, text)
    if argv is None:
        return None  # nothing to show it with: not an error, the webhook may be the channel
    try:
        res = subprocess.run(argv, capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"desktop notification failed: {exc}"
    return None if res.returncode == 0 else f"desktop notification failed: {res.stderr.decode(errors='replace')[:200]}"


FailureFn = Callable[[str], None]


class Notifier:
    """Queues alerts and delivers them in the background; `send` never blocks or raises."""

    def __init__(self, settings: NotifySettings, *, on_failure: FailureFn | None = None,
                 retries: int = 4, backoff_seconds: float = 1.0) -> None:
        self.settings = settings
        self.on_failure = on_failure
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.tasks: set[asyncio.Task[None]] = set()
        self._gate: asyncio.Semaphore | None = None
        self.delivered = 0
        self.failed = 0

    @property
    def enabled(self) -> bool:
        return bool(self.settings.webhook or self.settings.desktop)

    def send(self, alert: Alert) -> None:
        if not self.enabled:
            return
        log.info("alert (%s): %s", alert.kind, alert.text)
        if len(self.tasks) >= MAX_PENDING:
            log.warning("alert dropped, %d still being delivered: %s", len(self.tasks), alert.text)
            return
        if self._gate is None:
            self._gate = asyncio.Semaphore(PARALLEL)
        t = asyncio.get_running_loop().create_task(self._deliver(alert))
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)

    async def _deliver(self, alert: Alert) -> None:
        assert self._gate is not None
        async with self._gate:
            problems = []
            if self.settings.webhook:
                problem = await self._webhook(alert, self.settings.webhook)
                if problem:
                    problems.append(problem)
            if self.settings.desktop:
                problem = await asyncio.to_thread(show_on_desktop, f"skytui: {alert.kind}", alert.text)
                if problem:
                    problems.append(problem)
        if problems:
            self.failed += 1
            if self.on_failure is not None:
                self.on_failure(f"alert not delivered ({alert.kind}): {'; '.join(problems)}")
        else:
            self.delivered += 1

    async def _webhook(self, alert: Alert, url: str) -> str | None:
        body = {"text": f"skytui: {alert.text}", "skytui": asdict(alert)}
        problem: str | None = None
        for n in range(self.retries + 1):
            problem = await asyncio.to_thread(post_json, url, body, self.settings.timeout_seconds)
            if problem is None:
                return None
            log.warning("webhook delivery %d of %d failed: %s", n + 1, self.retries + 1, problem)
            if n < self.retries:
                await asyncio.sleep(self.backoff_seconds * 2 ** n)
        return f"{problem}; gave up after {self.retries + 1} tries"

    async def drain(self, timeout: float) -> None:
        """Give deliveries in flight up to `timeout` seconds, then drop them (shutdown)."""
        pending = [t for t in self.tasks if not t.done()]
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=timeout)
        for t in late:
            t.cancel()
        if late:
            log.warning("%d alert(s) not delivered before shutdown", len(late))
