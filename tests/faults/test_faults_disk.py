"""Disk full and a read-only data dir: clear messages, intact state, nothing of the user's lost."""

from __future__ import annotations

import asyncio
import hashlib
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fault_support import (
    assert_job_counted_once,
    corrupt_copies,
    fill,
    kill_processes_under,
    one_line_error,
    read_only,
    small_tmpfs,
    state_of,
    user_cluster,
)
from test_watcher_support import (
    REPO,
    job_task,
    live,
    make_core,
    preempt_job,
    skytui_cmd,
    wait_status,
    wait_until,
    watching,
)

from skytui.core.jobs import submit

pytestmark = pytest.mark.slow


async def test_disk_full_under_the_watcher_and_the_cli(tmp_path: Path) -> None:
    data = Path(os.environ["XDG_DATA_HOME"])
    try:
        mount = small_tmpfs(data)
        mount.__enter__()
    except PermissionError as exc:
        pytest.skip(f"no tmpfs here ({exc}); test_disk_full_cli_in_a_size_limited_process covers the CLI")
    try:
        # The cloud (the local cloud's registry and node disks) is not on the full disk: only
        # skytui's own state (state.db, keys, SSH config) is.
        (data / "skytui").mkdir(mode=0o700)
        (tmp_path / "cloud").mkdir(mode=0o700)
        (data / "skytui" / "local").symlink_to(tmp_path / "cloud")
        core = make_core()
        mine = await user_cluster(core)
        job_id = submit(core, job_task("sleep 120"))
        async with watching(core):
            await wait_status(core, job_id, "RUNNING")
            filler = fill(data)
            try:
                preempt_job(core, job_id)  # the recovery must now write to a full disk
                await asyncio.sleep(2.0)   # rounds fail, are logged, and are tried again
                out = skytui_cmd("jobs", "launch", str(REPO / "examples" / "train-spot.yaml"), "-y")
                line = one_line_error(out)
                assert "state database" in line and ("full" in line or "disk" in line), line
                assert state_of(core, mine) == "running"
            finally:
                filler.unlink()
            await wait_until(lambda: core.store.job(job_id).status == "RUNNING"  # type: ignore[union-attr]
                             and core.store.job(job_id).attempts >= 2, 60, "the recovery once there is room")
            await asyncio.sleep(0.6)
            assert len(live(core, job_id)) == 1
        assert_job_counted_once(core, job_id)
        assert core.store.job(job_id).recoveries == 1  # type: ignore[union-attr]
        assert state_of(core, mine) == "running" and core.store.cluster("mine").status == "UP"  # type: ignore[union-attr]
        assert corrupt_copies(data) == []
        await core.aclose()
    finally:
        try:
            kill_processes_under(tmp_path)
        finally:
            mount.__exit__(None, None, None)


_LIMITED = """
import resource, signal, sys, runpy
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
sys.argv = ["skytui", *sys.argv[1:]]
from skytui.cli.main import main
sys.exit(main())
"""


async def test_disk_full_cli_in_a_size_limited_process() -> None:
    """Works without root: a process that may not grow any file, as on a full disk."""
    core = make_core()
    job_id = submit(core, job_task("sleep 1"))
    db = Path(os.environ["XDG_DATA_HOME"]) / "skytui" / "state.db"
    core.store.db.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    for args in (["status"], ["jobs", "cancel", str(job_id)]):
        out = subprocess.run([sys.executable, "-c", _LIMITED, *args], capture_output=True, text=True,
                             timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
        line = one_line_error(out)
        assert "untouched" in line or "nothing was changed" in line, line
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert corrupt_copies(db.parent) == []
    out = skytui_cmd("jobs", "--json")
    assert out.returncode == 0 and '"PENDING"' in out.stdout


async def test_a_read_only_data_dir_is_reported_and_left_as_it_was() -> None:
    core = make_core()
    mine = await user_cluster(core)
    await core.aclose()
    core.store.db.close()
    data = Path(os.environ["XDG_DATA_HOME"]) / "skytui"
    db = data / "state.db"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    try:
        ctx = read_only(data)
        ctx.__enter__()
    except PermissionError as exc:
        pytest.skip(str(exc))
    try:
        out = skytui_cmd("launch", "-c", "other", "--cloud", "local", "-y")
        line = one_line_error(out)
        assert str(data) in line or "state" in line, line
        out = skytui_cmd("down", "mine", "--yes")
        one_line_error(out)
    finally:
        ctx.__exit__(None, None, None)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert corrupt_copies(data) == []
    again = make_core()
    assert state_of(again, mine) == "running" and again.store.cluster("mine").status == "UP"  # type: ignore[union-attr]
    assert again.store.cluster("other") is None
