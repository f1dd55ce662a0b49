"""Following a job's log: exact bytes, line-aligned chunks, and resume after a cut."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from remote_helpers import RunningNode, node_fixture, pool_fixture, wait_for  # noqa: F401  (fixtures)

from skytui.errors import RemoteError
from skytui.remote.jobs import job_state, start_detached
from skytui.remote.pool import SSHPool
from skytui.remote.tail import TailEvent, tail

pytestmark = pytest.mark.slow

# Writes 30,000 numbered lines in bursts, so a follower is mid-stream when we cut it.
BURSTS = """for b in $(seq 0 29); do
  seq -f "line %06g of the training log, with some padding to look real" \\
    $((b*1000+1)) $((b*1000+1000))
  sleep 0.05
done
"""


def expected_burst_log() -> bytes:
    return b"".join(b"line %06d of the training log, with some padding to look real\n" % i
                    for i in range(1, 30001))


async def collect(events: list[TailEvent], stream: object) -> bytes:
    data = b""
    async for ev in stream:  # type: ignore[attr-defined]
        events.append(ev)
        if ev.kind == "data":
            data += ev.data
            assert ev.offset == len(data)
    return data


async def test_follow_reads_everything_until_the_job_ends(node: RunningNode,
                                                          pool: SSHPool) -> None:
    await start_detached(pool, node.addr, "t1", BURSTS, {})
    events: list[TailEvent] = []
    data = await asyncio.wait_for(collect(events, tail(pool, node.addr, "t1", follow=True)), 60)
    assert data == expected_burst_log()
    assert (await job_state(pool, node.addr, "t1")).status == "exited"
    assert all(ev.data.endswith(b"\n") for ev in events if ev.kind == "data")


async def test_resume_after_the_connection_is_cut_twice(node: RunningNode,
                                                        pool: SSHPool) -> None:
    await start_detached(pool, node.addr, "t2", BURSTS, {})
    events: list[TailEvent] = []
    data = b""
    cuts = 0
    async for ev in tail(pool, node.addr, "t2", follow=True):
        events.append(ev)
        if ev.kind == "data":
            data += ev.data
            assert ev.offset == len(data)
            if cuts < 2 and len(data) > (cuts + 1) * 400_000:
                cuts += 1
                await pool.drop(node.addr)  # the link dies mid-stream
    kinds = [ev.kind for ev in events if ev.kind != "data"]
    assert kinds == ["disconnected", "resumed", "disconnected", "resumed"]
    assert data == expected_burst_log()


async def test_resume_after_the_remote_reader_is_killed(node: RunningNode,
                                                        pool: SSHPool) -> None:
    await start_detached(pool, node.addr, "t3", BURSTS, {})
    log = str(node.disk / ".skytui/jobs/t3/log")
    data = b""
    killed = False
    kinds: list[str] = []
    async for ev in tail(pool, node.addr, "t3", follow=True):
        kinds.append(ev.kind)
        data += ev.data
        if not killed and len(data) > 300_000:
            killed = True
            for pid in readers_of(log):
                os.kill(pid, signal.SIGTERM)
    assert "disconnected" in kinds and "resumed" in kinds
    assert data == expected_burst_log()


def readers_of(path: str) -> list[int]:
    """Pids of `tail` processes reading `path` (found by id, not by name matching)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"tail") and path.encode() in argv:
            pids.append(int(entry.name))
    return pids


async def test_offset_resumes_without_following(node: RunningNode, pool: SSHPool) -> None:
    await start_detached(pool, node.addr, "t4", "printf 'alpha\\nbeta\\ngamma'\n", {})

    async def done() -> bool:
        return (await job_state(pool, node.addr, "t4")).status == "exited"

    await wait_for(done, what="t4 to exit")
    whole = b"".join([ev.data async for ev in tail(pool, node.addr, "t4", follow=False)])
    assert whole == b"alpha\nbeta\ngamma"  # the unterminated last line still arrives
    rest = [ev async for ev in tail(pool, node.addr, "t4", offset=6, follow=False)]
    assert b"".join(ev.data for ev in rest) == b"beta\ngamma"
    assert rest[-1].offset == len(whole)


async def test_partial_line_is_shown_while_the_job_waits(node: RunningNode,
                                                         pool: SSHPool) -> None:
    script = "printf 'downloading...'\nwhile [ ! -f ~/go ]; do sleep 0.05; done\necho ' done'\n"
    await start_detached(pool, node.addr, "t5", script, {})
    chunks: list[bytes] = []

    async def follow() -> None:
        async for ev in tail(pool, node.addr, "t5", follow=True):
            chunks.append(ev.data)
            if ev.data == b"downloading...":
                (node.disk / "go").touch()  # only now may the job finish its line

    await asyncio.wait_for(follow(), 30)
    assert chunks == [b"downloading...", b" done\n"]


async def test_missing_job_log_is_an_error(node: RunningNode, pool: SSHPool) -> None:
    with pytest.raises(RemoteError, match="job nope has no log"):
        async for _ in tail(pool, node.addr, "nope", follow=False):
            pass
