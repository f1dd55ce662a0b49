"""Every attempt's output, kept on this machine so a preempted node's log is not lost with it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from skytui.core.context import Core

OutputFn = Callable[[str, str], None]


def job_log_dir(job_id: int) -> Path:
    from skytui.paths import _private_dir, log_dir

    path = log_dir() / "jobs" / str(int(job_id))
    if path in _made:  # appends arrive many times a second: made (and made private) once
        return path
    made = _private_dir(str(path))
    _made.add(path)
    return made


_made: set[Path] = set()


def attempt_log_path(job_id: int, attempt: int) -> Path:
    return job_log_dir(job_id) / f"attempt-{int(attempt)}.log"


def fetched_size(job_id: int, attempt: int) -> int:
    try:
        return attempt_log_path(job_id, attempt).stat().st_size
    except FileNotFoundError:
        return 0


def append_attempt_log(job_id: int, attempt: int, data: bytes, *, at: int | None = None) -> int:
    """Add the node's log bytes that start at byte `at` of its log; return how many were new.

    Two readers feed one file (the live stream and the watcher's catch-up check), so a piece
    is placed by its offset: bytes the file already holds are skipped, and a piece that would
    leave a hole is refused (its reader resumes from the file's size next time).
    """
    if not data:
        return 0
    return append_at(attempt_log_path(job_id, attempt), data, at)


def append_at(path: Path, data: bytes, at: int | None) -> int:
    """`append_attempt_log` for a path already known (the live stream appends many times)."""
    with open(path, "ab") as f:
        size = f.tell()
        if at is None:
            at = size
        if at > size or at + len(data) <= size:
            return 0
        new = data[size - at:]
        f.write(new)
        return len(new)


def attempt_header(job_id: int, attempt: int, core: Core) -> str:
    a = next((a for a in core.store.attempts(job_id) if a.attempt == attempt), None)
    where = f"{a.cloud}/{a.region}/{a.zone}" if a and a.region else "not placed"
    end = f", ended: {a.end_reason}" if a and a.end_reason else (", running" if a else "")
    return f"===== job {job_id} attempt {attempt} ({where}{end}) =====\n"


async def stream_job_logs(core: Core, job_id: int, *, follow: bool, on_output: OutputFn,
                          poll_s: float = 0.5) -> int:
    """Print every attempt's log in order; with follow, keep printing until the job ends."""
    from skytui.core.jobs.service import get_job
    from skytui.store.job_states import TERMINAL

    printed: dict[int, int] = {}
    headed: set[int] = set()
    while True:
        job = get_job(core, job_id)
        for a in core.store.attempts(job_id):
            path = attempt_log_path(job_id, a.attempt)
            if a.attempt not in headed:
                on_output(attempt_header(job_id, a.attempt, core), "stderr")
                headed.add(a.attempt)
            try:
                with open(path, "rb") as f:
                    f.seek(printed.get(a.attempt, 0))
                    data = f.read()
            except FileNotFoundError:
                data = b""
            if data:
                printed[a.attempt] = printed.get(a.attempt, 0) + len(data)
                on_output(data.decode("utf-8", "replace"), "stdout")
        if not follow or job.status in TERMINAL:
            if job.status not in TERMINAL and not follow:
                on_output(f"[skytui] job {job_id} is {job.status}; while a watcher runs (the app or "
                          "`skytui --daemon`) its output arrives as it is written (-f to follow)\n", "stderr")
            return 0
        await asyncio.sleep(poll_s)
