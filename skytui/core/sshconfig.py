"""SSH by name: our Host blocks in a file of ours, pulled into ~/.ssh/config by one Include line."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import stat
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


def _atomic_write(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace `path` whole, with `mode`; on any failure the temp file goes and `path` is as it was."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            os.fchmod(f.fileno(), mode)  # exactly this mode, whatever the umask
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


# What may go into a Host block verbatim: anything else could end the line and add directives.
_HOST_RE = re.compile(r"[A-Za-z0-9.:_-]+")
_HOST_LINE_RE = re.compile(r"\s*host(?:\s+|\s*=\s*)(.*)", re.I)
HINT_MARK = "include-hint-shown"


def _check_entry(e: HostEntry) -> None:
    from skytui.errors import SkytuiError
    from skytui.names import validate_name, validate_user_name

    validate_user_name(e.user, "SSH user (config.yaml `ssh_user`, else $LOGNAME)")
    alias = e.alias.split("-worker")[0]
    validate_name(alias)
    if not _HOST_RE.fullmatch(e.host) or not _HOST_RE.fullmatch(e.alias):
        raise SkytuiError(f"SSH config: refusing host {e.host!r} / alias {e.alias!r}",
                          "a provider reported an address that is not a host name or IP")
    for path in (e.key_path, e.known_hosts):
        if any(c in path for c in '"\n\r'):
            raise SkytuiError(f"SSH config: refusing path {path!r} (quote or newline)",
                              "move skytui's data folder (XDG_DATA_HOME) to a plain path")


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
        _check_entry(e)
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

    def set_cluster(self, cluster: str, entries: Sequence[HostEntry]) -> list[str]:
        """Write the cluster's Host blocks; return what the user should hear (said once each)."""
        notes: list[str] = []
        mine = self.user_hosts()
        kept = [e for e in entries if e.alias not in mine]
        for e in entries:
            if e.alias in mine:
                notes.append(f"{e.alias}: your own `Host {e.alias}` in {self.user_config()} is kept; "
                             f"skytui's entry for it is left out (rename one of them to `ssh {e.alias}` "
                             "to this cluster)")
        block = _block(cluster, kept)  # checks every field before anything is written
        with _locked(self.lock):
            text = self._read()
            text = _BLOCK_RE.sub(lambda m: "" if m.group(1) == cluster else m.group(0), text)
            _atomic_write(self.path, text + block)
            hint = self._ensure_include()
        return notes + ([hint] if hint else [])

    def user_config(self) -> Path:
        return self.home / ".ssh" / "config"

    def user_hosts(self) -> set[str]:
        """Literal Host names in the user's own ~/.ssh/config (patterns with wildcards skipped)."""
        try:
            text = self.user_config().read_text(errors="replace")
        except OSError:
            return set()
        names: set[str] = set()
        for line in text.splitlines():
            m = _HOST_LINE_RE.match(line)
            if m:
                names.update(p for p in m.group(1).split() if not any(c in p for c in "*?!"))
        return names

    def taken_by_user(self, alias: str) -> str | None:
        """`alias` if the user's own config already has a Host of that name."""
        return alias if alias in self.user_hosts() else None

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

    def _ensure_include(self) -> str | None:
        """Put our Include before the first Host/Match block (Include inside a block is scoped).

        The user's file keeps its mode and content; a link is written through and stays a link.
        A file we may not write (read-only mode, immutable, root-owned, a link into a read-only
        store) is left exactly as it is, and the user is told once how to add the line by hand.
        """
        ssh_dir = self.home / ".ssh"
        line = self.include_line()
        try:
            ssh_dir.mkdir(mode=0o700, exist_ok=True)
            # Dotfile managers often symlink ~/.ssh/config: write through the link, keep it a link.
            user_config = (ssh_dir / "config").resolve()
            try:
                text = user_config.read_text()
                mode = stat.S_IMODE(user_config.stat().st_mode)
            except FileNotFoundError:
                text, mode = "", 0o600
            if line in text.splitlines():
                return None
            if not mode & stat.S_IWUSR:
                raise PermissionError(errno.EACCES, "the file is read-only")
            header = "# Added by skytui: SSH into clusters by name (`ssh NAME`).\n"
            _atomic_write(user_config, header + line + "\n\n" + text, mode)
            return None
        except OSError as exc:
            return self._hint_once(exc)

    def _hint_once(self, exc: OSError) -> str | None:
        mark = self.path.parent / HINT_MARK
        if mark.exists():
            return None
        with contextlib.suppress(OSError):
            mark.write_text(self.include_line() + "\n")
        return (f"could not add skytui's Include line to {self.user_config()} "
                f"({exc.strerror or exc}); it is left as it was. To `ssh NAME` from any shell, add "
                f"this line by hand at its top: {self.include_line()}")
