"""Shared pieces for the watcher, jobs and daemon tests (no tests of its own)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from skytui.config_model import Config, LocalSettings, ZoneCapacity
from skytui.core.context import Core
from skytui.core.watcher import WatcherSettings, run_watcher
from skytui.task.spec import JobRecovery, Resources, Task

REPO = Path(__file__).resolve().parents[1]
FAST = WatcherSettings(poll_seconds=0.2, job_check_seconds=0.3, job_check_per_job_seconds=0.0, backoff_seconds=0.2, backoff_max_seconds=0.5,
                       no_resource_timeout_seconds=60, autostop_check_seconds=0.2, minute_seconds=0.5,
                       stop_grace_seconds=10)


def make_core(capacity: dict[str, ZoneCapacity] | None = None, **cfg: object) -> Core:
    local = LocalSettings(capacity=capacity or {})
    return Core(Config(local=local, watcher_poll_seconds=0.2, **cfg))  # type: ignore[arg-type]


def job_task(run: str = "echo task=$SKYPILOT_TASK_ID; sleep 60", *, name: str = "train", spot: bool = True,
             region: str | None = None, recovery: JobRecovery | None = None, setup: str | None = None) -> Task:
    return Task(name=name, run=run, setup=setup,
                resources=(Resources(cloud="local", use_spot=spot, region=region, job_recovery=recovery),))


def console(core: Core) -> Any:
    """The local cloud as another process sees it (its own registry connection), for the test's own moves."""
    from skytui.providers.local.provider import LocalCloud

    if "_test_console" not in core.__dict__:
        core.__dict__["_test_console"] = LocalCloud(core.config.local)
    return core.__dict__["_test_console"]


def live(core: Core, job_id: int) -> list[Any]:
    """The job's pending or running instances, read from the registry without judging them."""
    return console(core).registry.rows("job_id = ? AND state IN ('pending', 'running')", (job_id,))


async def wait_until(pred: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll until `pred` holds. `timeout` says what the step usually needs at most; the deadline
    is never under a minute, because it is there for hangs and CI shares two cores (a loaded run
    once missed a 10 s one for a step that passed alone in under 1 s)."""
    deadline = time.monotonic() + max(timeout, 60.0)
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def wait_status(core: Core, job_id: int, *statuses: str, timeout: float = 30.0) -> None:
    def ok() -> bool:
        j = core.store.job(job_id)
        return j is not None and j.status in statuses
    try:
        await wait_until(ok, timeout, f"job {job_id} in {statuses}")
    except AssertionError:
        j = core.store.job(job_id)
        events = [e.message for e in core.store.events(job_id=job_id)]
        raise AssertionError(f"job {job_id} is {j.status if j else None}, wanted {statuses}; events: {events}")


@contextlib.asynccontextmanager
async def watching(core: Core, settings: WatcherSettings = FAST, kind: str = "app",
                   statuses: list | None = None) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_watcher(core, kind=kind, stop_event=stop, settings=settings,
                                           on_status=statuses.append if statuses is not None else None))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


def preempt_job(core: Core, job_id: int) -> list[str]:
    cloud = console(core)
    victims = [i.id for i in live(core, job_id)]
    for iid in victims:
        cloud.preempt(iid)  # type: ignore[attr-defined]
    return victims


def write_config(text: str) -> None:
    from skytui.paths import config_dir

    (config_dir() / "config.yaml").write_text(text)


FAST_YAML = """\
watcher: {poll_seconds: 0.2}
recovery: {backoff_seconds: 0.2, backoff_max_seconds: 0.5, no_resource_timeout_seconds: 60}
"""


def skytui_cmd(*args: str, env: dict[str, str] | None = None, timeout: float = 60,
               ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skytui.cli.main", *args], check=False, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def start_daemon_process(env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A foreground daemon as a child process, so a test can SIGKILL it."""
    return subprocess.Popen([sys.executable, "-m", "skytui.cli.main", "--daemon", "--foreground"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})
