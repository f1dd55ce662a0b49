"""Exactly one recoverer: the flock, who holds it, and observers that take over when it is freed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from test_watcher_support import FAST, REPO, make_core, wait_until

from skytui.core.watcher import WatcherLock, lock_holder, lock_path, run_watcher
from skytui.core.watcher.loop import WatcherStatus


def test_one_holder_at_a_time_and_observers_see_who() -> None:
    first, second = WatcherLock(), WatcherLock()
    assert lock_holder() is None
    assert first.acquire("daemon")
    assert not second.acquire("app")
    h = lock_holder()
    assert h is not None and h.pid == os.getpid() and h.kind == "daemon" and h.since
    first.release()
    assert lock_holder() is None
    assert second.acquire("app")
    assert lock_holder().kind == "app"  # type: ignore[union-attr]
    second.release()


def test_the_os_frees_the_lock_when_its_holder_is_killed() -> None:
    code = ("from skytui.core.watcher import WatcherLock; import sys, time; "
            "assert WatcherLock().acquire('daemon'); print('held', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    h = lock_holder()
    assert h is not None and h.pid == proc.pid
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert lock_holder() is None  # stale info in the file is ignored
    assert lock_path().exists()


async def test_an_observer_reports_the_holder_and_takes_over_when_it_leaves() -> None:
    other = WatcherLock()
    assert other.acquire("daemon")
    statuses: list[WatcherStatus] = []
    stop = asyncio.Event()
    task = asyncio.create_task(run_watcher(make_core(), kind="app", stop_event=stop, settings=FAST,
                                           on_status=statuses.append))
    await wait_until(lambda: any(s.role == "observer" for s in statuses), 10, "observer status")
    observed = next(s for s in statuses if s.role == "observer")
    assert observed.holder is not None and observed.holder.kind == "daemon"
    other.release()
    await wait_until(lambda: any(s.role == "active" for s in statuses), 10, "take-over")
    assert lock_holder().kind == "app"  # type: ignore[union-attr]
    stop.set()
    await asyncio.wait_for(task, 20)
    assert lock_holder() is None
