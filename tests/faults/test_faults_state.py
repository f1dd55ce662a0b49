"""The state DB deleted under a running daemon: it stops, nothing is torn down, and the fresh
store calls the old instances orphans instead of taking them for its own."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from fault_support import state_of, user_cluster
from test_watcher_support import (
    FAST_YAML,
    job_task,
    live,
    make_core,
    skytui_cmd,
    start_daemon_process,
    wait_status,
    wait_until,
    write_config,
)

from skytui.core.jobs import submit

pytestmark = pytest.mark.slow


async def test_deleting_the_state_db_under_a_daemon_destroys_nothing() -> None:
    write_config(FAST_YAML)
    core = make_core()
    mine = await user_cluster(core)
    job_id = submit(core, job_task("sleep 120"))
    daemon = start_daemon_process()
    later = None
    try:
        await wait_status(core, job_id, "RUNNING", timeout=40)
        (job_instance,) = [r.id for r in live(core, job_id)]
        db = Path(os.environ["XDG_DATA_HOME"]) / "skytui" / "state.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        await wait_until(lambda: daemon.poll() is not None, 20, "the daemon to stop")
        assert daemon.returncode == 0
        assert "deleted or replaced" in (daemon.stderr.read() if daemon.stderr else "")
        assert state_of(core, mine) == "running" and state_of(core, job_instance) == "running"

        out = skytui_cmd("status")  # a fresh, empty store: says so, in one piece
        assert out.returncode == 0, out.stderr
        later = start_daemon_process()
        await asyncio.sleep(2.0)  # rounds of extras and orphans detection by the fresh store
        assert state_of(core, mine) == "running" and state_of(core, job_instance) == "running"
    finally:
        for p in (daemon, later):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(60)
    from skytui.store import Store

    fresh = Store(db)
    orphans = [e.message for e in fresh.events() if e.reason == "orphan"]
    assert any(job_instance in m for m in orphans) and any(mine in m for m in orphans), orphans
