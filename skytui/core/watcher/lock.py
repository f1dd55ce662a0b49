"""Exactly one recoverer: an exclusive flock on a file in the state dir, with who holds it inside."""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

KINDS = ("app", "daemon")


@dataclass(frozen=True)
class Holder:
    """Who is acting on managed jobs right now."""

    pid: int | None
    since: float | None
    kind: str | None  # "app" or "daemon"

    def describe(self) -> str:
        from datetime import datetime

        when = datetime.fromtimestamp(self.since).strftime("%Y-%m-%d %H:%M:%S") if self.since else "?"
        return f"{self.kind or 'watcher'} (pid {self.pid or '?'}) since {when}"


def lock_path() -> Path:
    from skytui.paths import data_dir

    return data_dir() / "watcher.lock"


class WatcherLock:
    """The lock itself: held while the file descriptor is open; the OS frees it when we die."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or lock_path()
        self.fd: int | None = None

    def acquire(self, kind: str) -> bool:
        """Take the lock without waiting and write our holder info; False if someone has it."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if self.fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        info = json.dumps({"pid": os.getpid(), "since": time.time(), "kind": kind}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, info, 0)
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = None

    @property
    def held(self) -> bool:
        return self.fd is not None


def lock_holder(path: Path | None = None) -> Holder | None:
    """Who holds the lock, or None when nobody does (a dead holder's stale info is ignored)."""
    path = path or lock_path()
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held: read who
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        for _ in range(20):  # the holder writes its info just after locking
            raw = os.pread(fd, 4096, 0)
            try:
                d = json.loads(raw)
                return Holder(pid=int(d["pid"]), since=float(d["since"]), kind=str(d["kind"]))
            except (ValueError, KeyError, TypeError):
                time.sleep(0.01)
        return Holder(None, None, None)
    finally:
        os.close(fd)
