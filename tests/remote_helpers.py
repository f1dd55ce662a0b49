"""Real local-cloud nodes for tests: a node process in a tmp dir, its keys, and OpenSSH config."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from skytui.remote.hostkeys import write_known_hosts
from skytui.remote.keys import ensure_user_key, generate_host_key
from skytui.remote.pool import NodeAddress, SSHPool

REPO = Path(__file__).resolve().parents[1]


@dataclass
class RunningNode:
    """A node process started by a test, and how to reach it."""

    name: str
    node_dir: Path
    disk: Path
    proc: subprocess.Popen[bytes]
    addr: NodeAddress

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        kill_leftovers(self.disk)


def kill_leftovers(disk: Path) -> None:
    """Kill detached jobs a test left running on a node's disk (they outlive the node)."""
    for pidfile in disk.glob(".skytui/jobs/*/p*"):
        if pidfile.name not in ("pid", "pgid"):
            continue
        try:
            pid = int(pidfile.read_text().strip())
            os.killpg(pid, signal.SIGKILL) if pidfile.name == "pgid" else os.kill(
                pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass


def user_key(root: Path) -> tuple[Path, str]:
    return ensure_user_key(root / "keys")


def start_node(root: Path, name: str = "node1", *, env: dict[str, str] | None = None,
               authorized: str | None = None, port: int = 0,
               timeout: float = 15.0) -> RunningNode:
    """Create NODEDIR/DISKDIR with keys and env.json, spawn the node, wait for its `port` file."""
    key_path, key_line = user_key(root)
    node_dir, disk = root / "nodes" / name, root / "disks" / name
    node_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    disk.mkdir(parents=True, exist_ok=True)
    host_line = generate_host_key(node_dir / "host_key")
    (node_dir / "authorized_keys").write_text((authorized or key_line) + "\n")
    (node_dir / "env.json").write_text(json.dumps(env or {}))
    (node_dir / "port").unlink(missing_ok=True)
    args = [sys.executable, "-m", "skytui.providers.local.node", "--node-dir", str(node_dir),
            "--disk", str(disk)]
    if port:
        args += ["--port", str(port)]
    pyenv = dict(os.environ, PYTHONPATH=str(REPO))
    with open(node_dir / "node.log", "ab") as logf:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                start_new_session=True, cwd=str(disk), env=pyenv)
    deadline = time.monotonic() + timeout
    port_file = node_dir / "port"
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"node did not start: {(node_dir / 'node.log').read_text()}")
        time.sleep(0.01)
    bound = int(port_file.read_text())
    addr = NodeAddress(host="127.0.0.1", port=bound, user=os.environ.get("USER", "skytui"),
                       key_path=str(key_path), host_key=host_line, alias=name)
    return RunningNode(name, node_dir, disk, proc, addr)


def write_ssh_config(root: Path, nodes: list[RunningNode], *, host_keys: dict[str, str] | None
                     = None) -> Path:
    """An OpenSSH config (and known_hosts) for `ssh -F FILE NAME`, host keys pinned by alias."""
    known = root / "known_hosts"
    write_known_hosts(known, [(n.name, n.addr.host, n.addr.port,
                               (host_keys or {}).get(n.name, n.addr.host_key)) for n in nodes])
    lines: list[str] = []
    for n in nodes:
        lines += [f"Host {n.name}", f"  HostName {n.addr.host}", f"  Port {n.addr.port}",
                  f"  User {n.addr.user}", f'  IdentityFile "{n.addr.key_path}"',
                  "  IdentitiesOnly yes", f'  UserKnownHostsFile "{known}"',
                  '  GlobalKnownHostsFile /dev/null', f"  HostKeyAlias {n.name}",
                  "  StrictHostKeyChecking yes", "  UpdateHostKeys no", "  BatchMode yes",
                  "  LogLevel ERROR", ""]
    config = root / "ssh_config"
    config.write_text("\n".join(lines))
    os.chmod(config, 0o600)
    return config


def openssh(config: Path, *args: str, input: bytes | None = None,
            timeout: float = 30.0) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["ssh", "-F", str(config), *args], input=input, capture_output=True,
                          timeout=timeout, check=False)


@pytest.fixture(name="node")
def node_fixture(tmp_path: Path) -> Iterator[RunningNode]:
    """A running node with env.json {"SKYTUI_TEST_VAR": "hello world"}."""
    n = start_node(tmp_path, "node1", env={"SKYTUI_TEST_VAR": "hello world"})
    yield n
    n.stop()


@pytest.fixture(name="pool")
async def pool_fixture() -> AsyncIterator[SSHPool]:
    p = SSHPool()
    yield p
    await p.close()


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 90.0,
                   what: str = "condition") -> None:
    """Poll an async predicate until it holds (tests never assert on timing; the deadline is generous
    because CI shares two cores and only a hang should reach it)."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
