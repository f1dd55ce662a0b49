"""Live capture of running managed jobs' output into the local log store.

The watcher's node check fetches new log bytes only every job-check interval (15 s by
default), so a preemption used to take everything since the last check with it. This
service keeps one `tail -f` per running attempt instead, over the node's pooled SSH
connection (the same one telemetry and exec use: a stream is one more channel on it, not a
connection), writing each piece at its byte offset so a dropped link resumes exactly.

Resources are bounded: at most `limit` streams run at once. When more attempts run than
that, streams take turns: one that has run for `turn_seconds` while others wait is closed
and the longest-waiting attempt starts, resuming from the byte its file ends at; a waiting
attempt's output still arrives through the watcher's periodic check. Per stream the cost is
one SSH channel, one `tail` process on the node, and on this machine a read and an append
per burst of lines (see docs/performance.md for the measured figure).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from skytui.core.context import Core
from skytui.core.jobs.logs import append_at, attempt_log_path, fetched_size
from skytui.errors import SkytuiError
from skytui.store.models import Job

log = logging.getLogger("skytui.watcher")

DEFAULT_LIMIT = 64  # concurrent streams; 50 at 20 lines/s cost 3.6 % of a core (bench/bench_log_stream.py)
DEFAULT_TURN_SECONDS = 20.0  # with more attempts than `limit`, how long one streams before yielding
RETRY_SECONDS = 2.0  # after a stream could not start (node not answering yet)
# The node sends what is new this often, not at every write: a job printing 20 short lines a
# second costs ~2 SSH packets a second instead of 20, and a sudden loss costs at most this long.
POLL_SECONDS = 0.5

EndedFn = Callable[[int, int], None]  # (job id, attempt): the attempt's log ended on the node


@dataclass
class _Stream:
    attempt: int
    task: asyncio.Task[None]
    started: float


class LogCapture:
    """Streams the logs of running attempts, at most `limit` at a time, taking fair turns."""

    def __init__(self, core: Core, *, limit: int = DEFAULT_LIMIT, turn_seconds: float = DEFAULT_TURN_SECONDS,
                 on_ended: EndedFn | None = None) -> None:
        self.core = core
        self.limit = max(0, limit)  # 0: no live capture (the node check still fetches the log)
        self.turn_seconds = turn_seconds
        self.on_ended = on_ended
        self.streams: dict[int, _Stream] = {}
        self.waiting: deque[int] = deque()  # job ids, longest-waiting first
        self.wanted: dict[int, int] = {}  # job id -> the attempt that should be captured
        self.finished: set[tuple[int, int]] = set()  # attempts whose log was read to its end
        self.retry_at: dict[int, float] = {}
        self.closed = False

    def streaming(self, job_id: int, attempt: int) -> bool:
        s = self.streams.get(job_id)
        return s is not None and s.attempt == attempt and not s.task.done()

    def read_to_end(self, job_id: int, attempt: int) -> bool:
        """True once the stream read the attempt's log to its end (the job has exited)."""
        return (job_id, attempt) in self.finished

    async def settle(self, job_id: int, attempt: int, timeout: float) -> bool:
        """The job exited: give its stream up to `timeout` s to deliver the last output."""
        s = self.streams.get(job_id)
        if s is not None and s.attempt == attempt and not s.task.done():
            await asyncio.wait({s.task}, timeout=timeout)
        return self.read_to_end(job_id, attempt)

    def sync(self, jobs: list[Job]) -> None:
        """Match the streams to the RUNNING attempts in `jobs` (every watcher round)."""
        self.wanted = {j.id: j.attempts for j in jobs if j.status == "RUNNING" and j.attempts}
        for job_id, s in list(self.streams.items()):
            if self.wanted.get(job_id) != s.attempt:
                s.task.cancel()
                self.streams.pop(job_id, None)
        self.waiting = deque(j for j in self.waiting if j in self.wanted)
        self.finished = {(j, n) for j, n in self.finished if self.wanted.get(j) == n}
        self.retry_at = {j: t for j, t in self.retry_at.items() if j in self.wanted}
        for job_id, n in self.wanted.items():
            if job_id not in self.streams and job_id not in self.waiting and (job_id, n) not in self.finished:
                self.waiting.append(job_id)
        self._fill()

    def add(self, job: Job) -> None:
        """An attempt just started running: capture it now rather than at the next round."""
        self.wanted[job.id] = job.attempts
        if job.id not in self.streams and job.id not in self.waiting:
            self.waiting.appendleft(job.id)
        self._fill()

    def _fill(self) -> None:
        if self.closed:
            return
        now = time.monotonic()
        self._rotate(now)
        tried: set[int] = set()
        while len(self._live()) < self.limit and self.waiting:
            job_id = self.waiting.popleft()
            if job_id in tried:
                self.waiting.appendleft(job_id)
                break
            tried.add(job_id)
            if self.retry_at.get(job_id, 0.0) > now:
                self.waiting.append(job_id)
                continue
            n = self.wanted.get(job_id)
            if n is None or (job_id, n) in self.finished:
                continue
            task = asyncio.get_running_loop().create_task(self._run(job_id, n), name=f"log-{job_id}-{n}")
            self.streams[job_id] = _Stream(n, task, now)

    def _live(self) -> list[int]:
        for job_id, s in list(self.streams.items()):
            if s.task.done():
                self.streams.pop(job_id, None)
        return list(self.streams)

    def _rotate(self, now: float) -> None:
        """Others wait and the cap is reached: the streams that had their turn yield to them."""
        ready = [j for j in self.waiting if self.retry_at.get(j, 0.0) <= now]
        if not ready or len(self._live()) < self.limit:
            return
        spent = sorted((s.started, j) for j, s in self.streams.items() if now - s.started >= self.turn_seconds)
        for _, job_id in spent[:len(ready)]:
            s = self.streams.pop(job_id)
            s.task.cancel()
            self.waiting.append(job_id)

    async def _run(self, job_id: int, n: int) -> None:
        from skytui.core import launcher
        from skytui.remote.tail import tail

        store = self.core.store
        job = store.job(job_id)
        c = store.cluster(job.cluster or "") if job else None
        nodes = store.nodes(c.name) if c else []
        if job is None or c is None or not nodes or job.attempts != n:
            return
        head = launcher.address(self.core, c, nodes[0])
        path = attempt_log_path(job_id, n)
        try:
            async for ev in tail(self.core.ssh, head, str(n), offset=fetched_size(job_id, n), follow=True,
                                 reconnect_for=60.0, poll=POLL_SECONDS):
                if ev.kind == "data":
                    append_at(path, ev.data, ev.offset - len(ev.data))
        except asyncio.CancelledError:
            raise
        except (SkytuiError, OSError) as exc:  # the node is not answering (yet): try again shortly
            log.debug("log stream of job %s attempt %s: %s", job_id, n, exc)
            self.retry_at[job_id] = time.monotonic() + RETRY_SECONDS
            self._requeue(job_id)
            return
        self.finished.add((job_id, n))
        if self.on_ended is not None:
            self.on_ended(job_id, n)
        self._requeue(None)

    def _requeue(self, job_id: int | None) -> None:
        """A stream ended by itself: free its slot for the next one (and queue it again if asked)."""
        if job_id is not None and job_id in self.wanted and job_id not in self.waiting:
            self.waiting.append(job_id)
        asyncio.get_running_loop().call_soon(self._fill)

    async def close(self, timeout: float = 5.0) -> None:
        """End every stream. A cancel can be lost inside a connect attempt (asyncio.wait_for
        racing the connection's own failure), so cancel again until each stream is gone."""
        self.closed = True
        tasks = {s.task for s in self.streams.values()}
        self.streams.clear()
        deadline = time.monotonic() + timeout
        while tasks and time.monotonic() < deadline:
            for t in tasks:
                t.cancel()
            _, tasks = await asyncio.wait(tasks, timeout=0.2)
        if tasks:
            log.warning("%d log stream(s) did not stop in %.0fs", len(tasks), timeout)
