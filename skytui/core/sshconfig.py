"""SSH by name: our Host blocks in a file of ours, pulled into ~/.ssh/config by one Include line."""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BEGIN, END = "# >>> skytui cluster {name} >>>", "# <<< skytui cluster {name} <<<"
_BLOCK_RE = re.compile(r"# >>> skytui cluster (\S+) >>>\n.*?# <<< skytui cluster \1 <<<\n", re.S)


@dataclass(frozen=True)
class HostEntry:
    alias: str  # NAME, NAME-worker1, ...
    host: str
    port: int
    user: str
    key_path: str
    known_hosts: str
    proxy_jump: str | None = None  # `ssh_proxy` of the node's cloud/region: ProxyJump ...
    proxy_command: str | None = None  # ... or ProxyCommand (OpenSSH fills in %h and %p)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _block(cluster: str, entries: Sequence[HostEntry]) -> str:
    lines = [BEGIN.format(name=cluster)]
    for e in entries:
        # Paths are absolute: OpenSSH expands ~ from the password database, not $HOME.
        lines += [
            f"Host {e.alias}",
            f"  HostName {e.host}",
            f"  Port {e.port}",
            f"  User {e.user}",
            f"  IdentityFile \"{e.key_path}\"",
            "  IdentitiesOnly yes",
            f"  UserKnownHostsFile \"{e.known_hosts}\"",
            f"  HostKeyAlias {e.alias}",
            "  StrictHostKeyChecking yes",
            "  ServerAliveInterval 15",
        ]
        if e.proxy_jump:
            lines.append(f"  ProxyJump {e.proxy_jump}")
        elif e.proxy_command:
            lines.append(f"  ProxyCommand {e.proxy_command}")
        lines.append("")
    lines.append(END.format(name=cluster))
    return "\n".join(lines) + "\n"


class SSHConfig:
    """Keeps our Host blocks in sync with the store; never touches the user's own entries."""

    def __init__(self, ssh_dir: Path, home: Path | None = None) -> None:
        self.path = ssh_dir / "config"
        self.lock = ssh_dir / "config.lock"
        self.home = home or Path(os.path.expanduser("~"))

    def set_cluster(self, cluster: str, entries: Sequence[HostEntry]) -> None:
        with _locked(self.lock):
            text = self._read()
            text = _BLOCK_RE.sub(lambda m: "" if m.group(1) == cluster else m.group(0), text)
            _atomic_write(self.path, text + _block(cluster, entries))
            self._ensure_include()

    def remove_cluster(self, cluster: str) -> None:
        with _locked(self.lock):
            text = self._read()
            new = _BLOCK_RE.sub(lambda m: "" if m.group(1) == cluster else m.group(0), text)
            if new != text:
                _atomic_write(self.path, new)

    def clusters(self) -> list[str]:
        return [m.group(1) for m in _BLOCK_RE.finditer(self._read())]

    def _read(self) -> str:
        try:
            return self.path.read_text()
        except FileNotFoundError:
            return ""

    def include_line(self) -> str:
        return f'Include "{self.path}"'

    def _ensure_include(self) -> None:
        """Put our Include before the first Host/Match block (Include inside a block is scoped)."""
        ssh_dir = self.home / ".ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        # Dotfile managers often symlink ~/.ssh/config: write through the link, keep it a link.
        user_config = (ssh_dir / "config").resolve()
        try:
            text = user_config.read_text()
        except FileNotFoundError:
            text = ""
        line = self.include_line()
        if line in text.splitlines():
            return
        header = "# Added by skytui: SSH into clusters by name (`ssh NAME`).\n"
        _atomic_write(user_config, header + line + "\n\n" + text)
