"""Pinned host keys: each node is trusted by its own key only, for OpenSSH and asyncssh alike."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

# An alias becomes a known_hosts pattern: keep it to characters that carry no pattern meaning.
_ALIAS_RE = re.compile(r"^[A-Za-z0-9._-]+\Z")


def known_hosts_line(alias: str, public_line: str) -> str:
    """One known_hosts line pinning `public_line` to `alias` (OpenSSH reads it via HostKeyAlias)."""
    if not _ALIAS_RE.match(alias):
        raise ValueError(f"host alias {alias!r} may only hold letters, digits, '.', '_' and '-'")
    key_type, key_data = public_line.split()[:2]
    return f"{alias} {key_type} {key_data}"


def write_known_hosts(path: Path | str, entries: Iterable[tuple[str, str, int, str]]) -> None:
    """Write a known_hosts file (0600, atomically) from (alias, host, port, public_line) entries.

    Lines are keyed by alias, not host:port: local nodes share 127.0.0.1 and reuse ports, so
    only the alias names one machine. OpenSSH finds them with `HostKeyAlias <alias>`; asyncssh
    with `host_key_alias=<alias>` or, as the pool does, with `pinned_known_hosts`.
    """
    path = Path(path)
    text = "".join(known_hosts_line(alias, line) + "\n" for alias, _host, _port, line in entries)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def pinned_known_hosts(public_line: str) -> tuple[list[object], list[object], list[object]]:
    """asyncssh's `known_hosts` argument that trusts exactly this one host key and nothing else."""
    import asyncssh

    return ([asyncssh.import_public_key(public_line)], [], [])
