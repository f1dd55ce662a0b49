"""Node processes of the local cloud: spawned detached, checked by pid, ended on request."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def spawn_node(node_dir: Path, disk_dir: Path, port: int | None) -> int:
    """Start a node's SSH server as its own session so it outlives the CLI and the app."""
    args = [sys.executable, "-m", "skytui.providers.local.node",
            "--node-dir", str(node_dir.resolve()), "--disk", str(disk_dir.resolve())]
    if port:
        args += ["--port", str(port)]
    for stale in ("port", "pid"):
        (node_dir / stale).unlink(missing_ok=True)
    # `-m` looks in the cwd first: starting in the folder that holds this skytui makes the
    # node run the same code, installed or not, without a PYTHONPATH its jobs would inherit.
    # (The node then moves to its disk.)
    package_parent = Path(__file__).resolve().parents[3]
    with open(node_dir / "node.log", "ab") as log:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, close_fds=True, cwd=str(package_parent))
    _children[proc.pid] = proc
    return proc.pid


# Popen objects of nodes this process started, so they get reaped instead of lingering as zombies.
_children: dict[int, subprocess.Popen[bytes]] = {}
# How the reaped ones ended (a negative code: the signal), for the warning of a node found gone.
_ended: dict[int, int] = {}


def is_alive(pid: int | None, node_dir: Path) -> bool:
    """True if `pid` is still this node's process (not a zombie, not a reused pid)."""
    if not pid:
        return False
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        _children.pop(pid, None)
        _ended[pid] = child.returncode
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            text = cmdline.read_bytes()
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        # The node was started with the resolved path: a symlinked data dir must still match.
        if str(node_dir.resolve()).encode() not in text:
            return False  # the pid was reused by something else
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":
            return False
    return True


def kill_node(pid: int | None, node_dir: Path, *, hard: bool, wait_s: float = 3.0) -> None:
    """End a node: SIGTERM (stop/down) or SIGKILL (a preemption: no clean-up)."""
    if not is_alive(pid, node_dir):
        return
    assert pid is not None
    try:
        os.kill(pid, signal.SIGKILL if hard else signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if not is_alive(pid, node_dir):
            return
        time.sleep(0.02)
    if not hard:
        kill_node(pid, node_dir, hard=True, wait_s=wait_s)


def log_tail(node_dir: Path, lines: int = 5) -> str:
    """The last lines of a node's log, one line (for a warning when the node is found gone)."""
    try:
        text = (node_dir / "node.log").read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc.strerror})"
    return " | ".join(text.strip().splitlines()[-lines:]) or "(empty)"


def how_it_ended(pid: int | None) -> str:
    """How a node this process started and reaped ended, in words ("" if not known here)."""
    code = _ended.get(pid) if pid else None
    if code is None:
        return ""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def read_port(node_dir: Path) -> int | None:
    try:
        return int((node_dir / "port").read_text().strip())
    except (OSError, ValueError):
        return None


def kill_tree_by_marker(marker: str) -> int:
    """SIGKILL every process whose environment carries `SKYTUI_INSTANCE_ID=<marker>`.

    Jobs on a node run detached (setsid) so they survive SSH disconnects; when the node
    itself goes (stop, down, preemption) they must die with it, as on a real VM. A process
    can fork between one scan of /proc and its kill, so scans repeat until one finds none.
    """
    needle = f"SKYTUI_INSTANCE_ID={marker}".encode()
    proc = Path("/proc")
    if not proc.is_dir():
        return 0
    me = os.getpid()
    killed = 0
    for _ in range(50):  # each pass kills all it sees; only a fork in between adds one
        found = 0
        for entry in proc.iterdir():
            if not entry.name.isdigit() or int(entry.name) == me:
                continue
            try:
                env = (entry / "environ").read_bytes()
            except OSError:
                continue
            if needle + b"\0" in env or env.endswith(needle):
                try:
                    os.kill(int(entry.name), signal.SIGKILL)
                    found += 1
                except OSError:
                    pass
        killed += found
        if not found:
            break
    return killed
