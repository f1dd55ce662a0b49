"""Starting the detached watcher (`skytui --daemon`) from the CLI or the dashboard: one starter.

It sits below both entry points so the dashboard need not import the CLI; the daemon's body is
the CLI's (skytui.cli.daemon), reached through a fresh interpreter, never a fork.
"""

from __future__ import annotations

import sys
from pathlib import Path


def log_file() -> Path:
    from skytui.paths import log_dir

    return log_dir() / "daemon.log"


def start_daemon() -> tuple[str, int]:
    """Start `skytui --daemon` from a process that has the state open (the CLI's jobs commands, the
    dashboard at quit); ("started" | "running", pid) once the watcher lock confirms it.

    Forking a process that holds SQLite connections (or threads) is unsafe; a new
    interpreter is not.
    """
    import re
    import subprocess

    from skytui.errors import SkytuiError
    from skytui.paths import package_parent

    # Started in the folder that holds this skytui (as nodes are), never the user's cwd, where
    # `-m` would import any `skytui/` lying there instead.
    out = subprocess.run([sys.executable, "-m", "skytui.cli.main", "--daemon"], check=False, capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=60, cwd=str(package_parent()))
    m = re.search(r"(started|already running) \(pid (\d+)\)", out.stdout)
    if out.returncode != 0 or m is None:
        raise SkytuiError(f"the daemon did not start: {(out.stderr or out.stdout).strip()[:200]}",
                          f"start it yourself: skytui --daemon (log: {log_file()})")
    state = "started" if m.group(1) == "started" else "running"
    return state, verified_pid(state, int(m.group(2)))


def verified_pid(state: str, pid: int, *, wait_s: float = 10.0) -> int:
    """Believe a reported daemon pid only when the watcher lock says so.

    The lock's holder is the daemon, or (when the dashboard watches) the daemon waits for it:
    then the pid must be a live process running `skytui ... --daemon`.
    """
    import time

    from skytui.core.watcher.lock import lock_holder
    from skytui.errors import SkytuiError

    deadline = time.monotonic() + wait_s
    while True:
        holder = lock_holder()
        if holder is not None and holder.pid == pid:
            return pid
        if holder is not None and holder.kind != "daemon" and _is_daemon_process(pid):
            return pid  # it waits for the dashboard to close
        if time.monotonic() > deadline:
            who = holder.describe() if holder else "nobody"
            raise SkytuiError(f"pid {pid} reported by the daemon's start is not the watcher (the lock is held "
                              f"by {who})", f"see the daemon log: {log_file()}")
        time.sleep(0.1)


def _is_daemon_process(pid: int) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"skytui.cli.main" in argv and b"--daemon" in argv
