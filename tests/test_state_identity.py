"""The state DB is moved aside only when proven corrupt; instances of another store are never ours
(issue 12, fault 2)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_watcher_support import REPO, console, job_task, make_core, wait_status, watching

from skytui.config_model import Config, LocalSettings
from skytui.core.context import Core
from skytui.core.jobs import submit
from skytui.core.jobs.service import request_cancel
from skytui.store import Store

_OPEN_UNDER_LIMIT = """
import resource, signal, sys
from pathlib import Path
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
from skytui.errors import SkytuiError
from skytui.store import Store
try:
    s = Store(Path(sys.argv[1]))
    s.add_job("b", "{}", "t", spot=False, event="y")
except SkytuiError as e:
    print("ERROR", e)
    sys.exit(2)
print("OK")
"""


def test_a_full_disk_reports_and_leaves_a_healthy_state_db_in_place(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    s = Store(path)
    job_id = s.add_job("a", "{}", "t", spot=False, event="submitted a")
    s.db.close()
    os.remove(str(path) + "-shm") if os.path.exists(str(path) + "-shm") else None
    out = subprocess.run([sys.executable, "-c", _OPEN_UNDER_LIMIT, str(path)], capture_output=True,
                         text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 2, out.stderr
    assert "moved" not in out.stdout and "untouched" in out.stdout, out.stdout
    assert "\n" not in out.stdout.strip()
    assert not list(tmp_path.glob("*corrupt*"))
    again = Store(path)
    job = again.job(job_id)
    assert job is not None and job.name == "a"


def test_a_proven_corrupt_file_is_still_moved_aside(tmp_path: Path) -> None:
    from skytui.errors import StateError

    path = tmp_path / "state.db"
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    with pytest.raises(StateError, match="moved it aside"):
        Store(path)
    assert list(tmp_path.glob("state.db.corrupt-*"))


def test_every_store_has_its_own_identity(tmp_path: Path) -> None:
    a, b = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    assert a.store_id and b.store_id and a.store_id != b.store_id
    assert Store(tmp_path / "a.db").store_id == a.store_id


@pytest.mark.slow
async def test_a_fresh_store_never_adopts_or_terminates_the_old_stores_instances(tmp_path: Path) -> None:
    """The state DB lost (moved aside, deleted): job ids restart at 1, the old job's VM lives on."""
    config = Config(local=LocalSettings(), watcher_poll_seconds=0.2)
    old = Core(config, store=Store(tmp_path / "old-state.db"))
    old_id = submit(old, job_task("sleep 120"))
    async with watching(old):
        await wait_status(old, old_id, "RUNNING")
    (theirs,) = console(old).registry.rows("job_id = ? AND state = 'running'", (old_id,))

    new = make_core()
    new_id = submit(new, job_task("sleep 120"))
    assert new_id == old_id  # the collision the old design fell into
    async with watching(new):
        await wait_status(new, new_id, "RUNNING")
        await asyncio.sleep(0.6)  # a few rounds of extras detection
        ours = [n.instance_id for n in new.store.nodes(new.store.job(new_id).cluster or "")]  # type: ignore[union-attr]
        assert theirs.id not in ours
        request_cancel(new, new_id)
        await wait_status(new, new_id, "CANCELLED")
        await asyncio.sleep(0.4)
    still = console(new).registry.get(theirs.id)
    assert still is not None and still.state == "running"
