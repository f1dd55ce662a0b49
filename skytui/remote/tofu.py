"""Host keys of cloud VMs: pinned from what the cloud reports, else trusted on first use.

skytui's own `known_hosts` (in the SSH folder, 0600) records one key per VM, keyed by
`CLOUD.INSTANCE-ID`: the key a VM showed the first time is the only key it may show later,
after a stop/start moves it to another IP too. Every cloud adapter shares this record;
nothing here ever turns host key checking off.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from skytui.errors import RemoteError
from skytui.remote.hostkeys import known_hosts_line

if TYPE_CHECKING:
    from skytui.remote.pool import NodeAddress

_lock = threading.Lock()


def store_path() -> Path:
    from skytui.paths import ssh_dir

    return ssh_dir() / "known_hosts"


def host_id(cloud: str, instance_id: str) -> str:
    return f"{cloud}.{instance_id}"


def read_all(path: Path | None = None) -> dict[str, str]:
    """Recorded keys: host id -> public key line ("ssh-ed25519 AAAA...")."""
    path = path or store_path()
    out: dict[str, str] = {}
    try:
        text = path.read_text()
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and not line.startswith("#"):
            out[parts[0]] = f"{parts[1]} {parts[2]}"
    return out


def recorded(cloud: str, instance_id: str, path: Path | None = None) -> str | None:
    return read_all(path).get(host_id(cloud, instance_id))


def record(cloud: str, instance_id: str, public_line: str, path: Path | None = None) -> str:
    """Record `public_line` for the VM unless a key is already there; return the recorded key.

    A different key for a recorded VM is refused: that is a man in the middle or a replaced
    machine, and the user must decide (`skytui down` forgets the VM's key).
    """
    path = path or store_path()
    hid = host_id(cloud, instance_id)
    line = known_hosts_line(hid, public_line)
    with _lock, _file_lock(path):
        current = read_all(path).get(hid)
        if current is not None:
            if current.split()[:2] != public_line.split()[:2]:
                raise RemoteError(f"{cloud} VM {instance_id} shows a host key that differs from the one "
                                  "recorded the first time", "someone may be in the way; check the VM, "
                                  f"or remove its line from {path} if it was rebuilt")
            return current
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as f:
            f.write(line + "\n")
    return " ".join(public_line.split()[:2])


def forget(cloud: str, instance_ids: list[str], path: Path | None = None) -> None:
    """Drop the keys of deleted VMs (their ids never come back)."""
    path = path or store_path()
    drop = {host_id(cloud, i) for i in instance_ids}
    with _lock, _file_lock(path):
        try:
            lines = path.read_text().splitlines()
        except FileNotFoundError:
            return
        kept = [ln for ln in lines if ln.split()[:1] and ln.split()[0] not in drop]
        if len(kept) == len(lines):
            return
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("".join(ln + "\n" for ln in kept))
        os.replace(tmp, path)


async def first_use_key(addr: NodeAddress, timeout: float = 15.0) -> str:
    """The host key the node shows now (through its proxy, if any), for trust on first use."""
    import asyncio

    import asyncssh

    from skytui.remote.pool import connect_error, proxy_options

    try:
        key = await asyncio.wait_for(asyncssh.get_server_host_key(
            addr.host, addr.port, config=None, **proxy_options(addr)), timeout)
    except (OSError, asyncssh.Error, asyncio.TimeoutError) as e:
        raise connect_error(addr, e) from None
    if key is None:
        raise RemoteError(f"{addr.alias} ({addr.host}:{addr.port}): showed no host key")
    return key.export_public_key().decode().split("\n")[0].strip()


class _file_lock:
    """An flock on FILE.lock, so two skytui processes never interleave their writes."""

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(path.name + ".lock")
        self.fd = -1

    def __enter__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)
