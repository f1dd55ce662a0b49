"""Stream a job's log from a node, resuming after a dropped connection at the exact byte.

`tail` yields `TailEvent`s. Data events carry raw bytes that end at a line boundary (`\\n` or
`\\r`, so progress bars show) unless a partial line sat unfinished for a moment or the log
ended; `offset` is the log's byte offset after the event, i.e. where a later `tail` resumes.
Bytes are never decoded here: a UI decodes them incrementally.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from skytui.errors import RemoteError
from skytui.remote.exec import exit_status_of, open_process
from skytui.remote.jobs import job_dir
from skytui.remote.marks import as_probe
from skytui.remote.pool import NodeAddress, SSHPool, is_connection_loss

_CHUNK = 1 << 18
_MAX_PENDING = 1 << 20  # a "line" longer than this is delivered in pieces
_NO_LOG = 3  # exit status of the remote command when the job has no log


@dataclass(frozen=True)
class TailEvent:
    """A piece of the log ("data"), or a note that the stream broke or came back."""

    kind: Literal["data", "disconnected", "resumed"]
    offset: int
    data: bytes = b""
    reason: str = ""


def tail_command(job_id: str, offset: int, follow: bool, poll: float | None = None) -> str:
    """The node-side reader: one process streaming the log from `offset` in large chunks.

    `poll` (seconds): look for new output at this interval instead of at every write (GNU
    tail without inotify), so a job printing many short lines costs a few SSH packets a
    second, not one per line; where that is not available the reader follows every write.
    """
    start = f"+{offset + 1}"  # tail counts bytes from 1
    head = f"""d={job_dir(job_id)}
[ -f "$d/log" ] || exit {_NO_LOG}
"""
    if not follow:
        return head + f'exec tail -c {start} "$d/log"\n'
    # GNU tail ends by itself once the job's wrapper exits (--pid); elsewhere, poll for it.
    batched = ""
    if poll is not None:
        batched = f"""if tail ---disable-inotify --pid=$$ -c 0 /dev/null > /dev/null 2>&1; then
  exec tail ---disable-inotify -s {poll:g} -c {start} --pid="$p" -f "$d/log"
fi
"""
    return head + f"""[ -f "$d/exit_code" ] && exec tail -c {start} "$d/log"
p=$(cat "$d/pid" 2>/dev/null)
[ -n "$p" ] || exec tail -c {start} "$d/log"
{batched}if tail --pid=$$ -c 0 /dev/null > /dev/null 2>&1; then
  # -s: with --pid, tail checks the job every interval; 1 s (the default) would delay every exit
  exec tail -s 0.1 -c {start} --pid="$p" -f "$d/log"
fi
tail -c {start} -f "$d/log" &
t=$!
while kill -0 "$p" 2>/dev/null; do sleep 1; done
sleep 1
kill $t
exit 0
"""


def _line_cut(buf: bytes) -> int:
    """Length of the prefix of `buf` that ends at its last line boundary (0 if none)."""
    return max(buf.rfind(b"\n"), buf.rfind(b"\r")) + 1


async def tail(pool: SSHPool, addr: NodeAddress, job_id: str, *, offset: int = 0,
               follow: bool, reconnect_for: float = 120.0,
               flush_after: float = 0.25, poll: float | None = None) -> AsyncIterator[TailEvent]:
    """Yield the job's log from `offset`; with `follow`, until the job has ended and all is read.

    A lost connection yields "disconnected", then reconnects with backoff and yields
    "resumed" before continuing from the last delivered byte, so nothing repeats or goes
    missing. Gives up with RemoteError after `reconnect_for` seconds without a connection.
    """
    import asyncssh

    delivered = offset
    following = follow
    broken_since: float | None = None
    backoff = 0.2
    while True:
        try:
            proc = await open_process(pool, addr, as_probe(tail_command(job_id, delivered, following, poll)),
                                      stdin=asyncssh.DEVNULL)
        except RemoteError as e:
            if broken_since is None:
                if delivered == offset and following == follow:
                    raise  # never connected at all: the caller hears why at once
                broken_since = time.monotonic()
                yield TailEvent("disconnected", delivered, reason=e.problem)
            if time.monotonic() - broken_since > reconnect_for:
                raise RemoteError(f"{addr.alias}: lost the log of job {job_id}: {e.problem}",
                                  "check the node; `tail` resumes where it stopped") from None
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        if broken_since is not None:
            broken_since, backoff = None, 0.2
            yield TailEvent("resumed", delivered)

        pending = b""
        lost: str | None = None
        read: asyncio.Future[bytes] | None = None
        try:
            while True:
                # One read stays pending across flush timeouts: cancelling it could drop data.
                read = read or asyncio.ensure_future(proc.stdout.read(_CHUNK))
                done, _ = await asyncio.wait({read}, timeout=flush_after if pending else None)
                if not done:
                    # A partial line (a prompt, a progress bar) waited long enough: show it.
                    delivered += len(pending)
                    chunk, pending = pending, b""
                    yield TailEvent("data", delivered, chunk)
                    continue
                data, read = read.result(), None
                if not data:
                    break
                pending += data
                cut = _line_cut(pending) if len(pending) <= _MAX_PENDING else len(pending)
                if cut:
                    delivered += cut
                    chunk, pending = pending[:cut], pending[cut:]
                    yield TailEvent("data", delivered, chunk)
            await proc.wait_closed()
        except (OSError, asyncssh.Error) as e:
            if not is_connection_loss(e):
                raise
            lost = str(e) or type(e).__name__
        finally:
            if read is not None:
                read.cancel()
            proc.close()

        status = exit_status_of(proc) if lost is None else None
        if status == 0:
            if pending:  # the log ends without a newline: that is its real end
                delivered += len(pending)
                yield TailEvent("data", delivered, pending)
            if not following:
                return
            following = False  # the job ended: read whatever the follower may have missed
            continue
        if status == _NO_LOG:
            raise RemoteError(f"{addr.alias}: job {job_id} has no log on the node")
        # Cut off (connection lost, or the reader killed): drop the partial line and resume.
        broken_since = time.monotonic()
        yield TailEvent("disconnected", delivered,
                        reason=lost or f"log reader ended with status {status}")
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 5.0)
