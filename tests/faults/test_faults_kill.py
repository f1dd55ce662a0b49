"""SIGKILL of the CLI, the app's watcher and the daemon at named points; a second daemon by hand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from fault_support import assert_job_counted_once, live_of_cluster, state_of, user_cluster
from test_watcher_support import (
    FAST_YAML,
    REPO,
    job_task,
    live,
    make_core,
    preempt_job,
    skytui_cmd,
    start_daemon_process,
    wait_status,
    wait_until,
    write_config,
)

from skytui.core.jobs import submit
from skytui.core.watcher.hooks import CRASH_ENV, LAUNCH_STEPS

pytestmark = pytest.mark.slow


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


@pytest.mark.parametrize("step", LAUNCH_STEPS)
async def test_a_cli_launch_killed_mid_way_is_adopted_by_the_rerun(step: str) -> None:
    core = make_core()
    mine = await user_cluster(core)
    args = ("launch", "-c", "work", "--cloud", "local", "-y")
    out = skytui_cmd(*args, env={CRASH_ENV: step})
    assert out.returncode == -signal.SIGKILL, out.stderr
    c = core.store.cluster("work")
    assert c is not None and c.status == "INIT"
    out = skytui_cmd(*args)
    assert out.returncode == 0, out.stderr
    assert core.store.cluster("work").status == "UP"  # type: ignore[union-attr]
    assert len(live_of_cluster(core, "work")) == 1  # adopted, not launched twice
    assert state_of(core, mine) == "running"


_APP_WATCHER = """
import asyncio, sys
from skytui.core.context import Core
from skytui.core.watcher import run_watcher
async def main():
    await run_watcher(Core(), kind="app", stop_event=asyncio.Event())
asyncio.run(main())
"""


async def test_the_apps_watcher_killed_at_a_step_is_resumed_by_the_daemon() -> None:
    write_config(FAST_YAML)
    core = make_core()
    mine = await user_cluster(core)
    job_id = submit(core, job_task("sleep 120"))
    app = subprocess.Popen([sys.executable, "-c", _APP_WATCHER], stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "PYTHONPATH": str(REPO), CRASH_ENV: "after-launch:1"})
    try:
        await wait_until(lambda: app.poll() is not None, 40, "the app's watcher to die after the launch")
        assert app.returncode == -signal.SIGKILL
    finally:
        if app.poll() is None:
            app.kill()
    daemon = start_daemon_process()
    try:
        await wait_status(core, job_id, "RUNNING", timeout=40)
        await wait_until(lambda: len(live(core, job_id)) == 1, 20, "one instance")
        assert core.store.job(job_id).attempts == 1  # type: ignore[union-attr]  # resumed, not a new attempt
    finally:
        _stop(daemon)
    assert_job_counted_once(core, job_id)
    assert state_of(core, mine) == "running"


async def test_a_second_daemon_started_by_hand_acts_on_nothing() -> None:
    write_config(FAST_YAML)
    core = make_core()
    mine = await user_cluster(core)
    job_id = submit(core, job_task("sleep 120"))
    first = start_daemon_process()
    later = None
    try:
        await wait_status(core, job_id, "RUNNING", timeout=40)
        second = skytui_cmd("--daemon", "--foreground", timeout=30)  # by hand, while one runs
        assert second.returncode == 0 and f"already running (pid {first.pid})" in second.stdout, second
        preempt_job(core, job_id)
        await wait_until(lambda: core.store.job(job_id).status == "RUNNING"  # type: ignore[union-attr]
                         and core.store.job(job_id).attempts == 2, 40, "one recovery")
        _stop(first)
        later = start_daemon_process()  # the next one resumes the watch
        preempt_job(core, job_id)
        await wait_until(lambda: core.store.job(job_id).status == "RUNNING"  # type: ignore[union-attr]
                         and core.store.job(job_id).attempts == 3, 40, "the next daemon's recovery")
        await wait_until(lambda: len(live(core, job_id)) == 1, 20, "one instance")
    finally:
        _stop(first)
        if later is not None:
            _stop(later)
    assert core.store.job(job_id).recoveries == 2  # type: ignore[union-attr]
    assert_job_counted_once(core, job_id)
    assert state_of(core, mine) == "running"
