"""What every fault test checks afterwards: nothing of the user's destroyed, no duplicate
instance, every attempt counted once; and the ways to make a fault happen here."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from test_watcher_support import console

from skytui.core import clusters as ops
from skytui.core.context import Core
from skytui.task.spec import Resources, Task


async def user_cluster(core: Core, name: str = "mine") -> str:
    """A cluster the user launched by hand; returns its instance id."""
    await ops.launch(core, name, Task(name=name, resources=(Resources(cloud="local"),)), ops.LaunchOptions())
    (node,) = core.store.nodes(name)
    return node.instance_id or ""


def state_of(core: Core, instance_id: str) -> str:
    rec = console(core).registry.get(instance_id)
    return rec.state if rec else "absent"


def live_of_cluster(core: Core, cluster: str) -> list[Any]:
    return console(core).registry.rows("cluster = ? AND state IN ('pending', 'running')", (cluster,))


def assert_job_counted_once(core: Core, job_id: int) -> None:
    """Attempts are 1..n, each recorded once, all but the last ended; at most one live instance."""
    job = core.store.job(job_id)
    assert job is not None
    attempts = core.store.attempts(job_id)
    assert [a.attempt for a in attempts] == list(range(1, job.attempts + 1)), attempts
    assert all(a.ended_at is not None for a in attempts[:-1]), attempts
    live = console(core).registry.rows("job_id = ? AND state IN ('pending', 'running')", (job_id,))
    assert len(live) <= 1, live


def one_line_error(out: subprocess.CompletedProcess[str]) -> str:
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert len(lines) == 1 and lines[0].startswith("skytui: error:"), out.stderr
    assert "Traceback" not in out.stderr
    return lines[0]


def corrupt_copies(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.corrupt-*"))


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str = "96m") -> Iterator[Path]:
    """Mount a size-limited tmpfs at `path` (root only); the caller skips where it cannot."""
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                       capture_output=True)
    if r.returncode != 0:
        raise PermissionError(r.stderr.decode().strip() or "mount failed")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def fill(folder: Path) -> Path:
    """Fill the file system holding `folder` to the last byte; returns the filler to remove."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 4096, 512):
            chunk = b"\0" * size
            while True:
                try:
                    os.write(fd, chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return filler


def kill_processes_under(root: Path) -> None:
    """The sandbox's own clean-up (tests/conftest.py), needed before a mount can go."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_root_conftest", Path(__file__).parents[1] / "conftest.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod._kill_processes_under(root)


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make `folder` read-only for this user: a read-only bind mount as root, else chmod."""
    if os.geteuid() == 0:
        ok = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode == 0
        ok = ok and subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)],
                                   capture_output=True).returncode == 0
        if not ok:
            subprocess.run(["umount", str(folder)], check=False, capture_output=True)
            raise PermissionError("cannot bind-mount read-only here")
        try:
            yield
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)
    else:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")] if not p.is_symlink()}
        for p in modes:
            os.chmod(p, modes[p] & ~0o222)
        try:
            yield
        finally:
            for p, m in modes.items():
                with contextlib.suppress(OSError):
                    os.chmod(p, m)
