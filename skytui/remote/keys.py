"""SSH key pairs: the user's skytui key (one per user) and a host key per node."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

USER_KEY_NAME = "skytui_ed25519"


def _write_private(path: Path, data: bytes) -> None:
    """Write a secret atomically with mode 0600 from the first byte on."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _public_line(key: object) -> str:
    """The `TYPE BASE64` line of a key, without a comment, as known_hosts and authorized_keys take it."""
    data: bytes = key.export_public_key("openssh")  # type: ignore[attr-defined]
    return " ".join(data.decode("ascii").split()[:2])


def _new_ed25519() -> object:
    import asyncssh

    return asyncssh.generate_private_key("ssh-ed25519")


def ensure_user_key(keys_dir: Path) -> tuple[Path, str]:
    """Return the user's skytui key pair, creating it on first use: (private key path, public line)."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    private, public = keys_dir / USER_KEY_NAME, keys_dir / f"{USER_KEY_NAME}.pub"
    # The CLI, the app and the daemon may all start at once: only one of them creates the key.
    lock_fd = os.open(keys_dir / ".keys.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        if private.exists():
            if public.exists():
                return private, " ".join(public.read_text().split()[:2])
            import asyncssh

            line = _public_line(asyncssh.read_private_key(str(private)))
        else:
            key = _new_ed25519()
            _write_private(private, key.export_private_key("openssh"))  # type: ignore[attr-defined]
            line = _public_line(key)
        _write_private(public, f"{line} skytui\n".encode())
        return private, line
    finally:
        os.close(lock_fd)


def generate_host_key(path: Path | str) -> str:
    """Create a node's ed25519 host key at `path` (0600) and return its public line to pin."""
    key = _new_ed25519()
    _write_private(Path(path), key.export_private_key("openssh"))  # type: ignore[attr-defined]
    return _public_line(key)


def public_line_of(private_path: Path | str) -> str:
    """The public line of an existing private key file."""
    import asyncssh

    return _public_line(asyncssh.read_private_key(str(private_path)))
