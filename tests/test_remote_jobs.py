"""Detached jobs on a node: they outlive the connection, record exit codes, can be cancelled."""

from __future__ import annotations

import os
import signal

import pytest
from remote_helpers import RunningNode, node_fixture, pool_fixture, wait_for  # noqa: F401  (fixtures)

from skytui.remote.jobs import JobState, cancel, job_state, start_detached, states
from skytui.remote.pool import SSHPool

pytestmark = pytest.mark.slow


async def test_job_survives_the_client_and_its_exit_code_is_read_later(
        node: RunningNode, pool: SSHPool) -> None:
    await start_detached(pool, node.addr, "j1", "sleep 1\necho \"$GREETING from $HOME\"\n"
                         "echo $SKYTUI_TEST_VAR\nexit 7\n", {"GREETING": "hi there"})
    assert await job_state(pool, node.addr, "j1") == JobState("running")
    await pool.close()  # the client goes away entirely while the job runs

    fresh = SSHPool()
    try:
        async def exited() -> bool:
            return (await job_state(fresh, node.addr, "j1")).status == "exited"

        await wait_for(exited, what="j1 to exit")
        assert await job_state(fresh, node.addr, "j1") == JobState("exited", 7)
        log = (node.disk / ".skytui/jobs/j1/log").read_text()
        assert log == f"hi there from {node.disk}\nhello world\n"
    finally:
        await fresh.close()


async def test_start_is_idempotent(node: RunningNode, pool: SSHPool) -> None:
    await start_detached(pool, node.addr, "once", "echo ran >> ~/count\n", {})

    async def done() -> bool:
        return (await job_state(pool, node.addr, "once")).status == "exited"

    await wait_for(done, what="job to finish")
    await start_detached(pool, node.addr, "once", "echo ran >> ~/count\n", {})
    assert (node.disk / "count").read_text() == "ran\n"


async def test_killed_job_machine_is_gone_without_exit_code(node: RunningNode,
                                                            pool: SSHPool) -> None:
    await start_detached(pool, node.addr, "doomed", "sleep 300\n", {})
    jdir = node.disk / ".skytui/jobs/doomed"

    async def has_pgid() -> bool:
        return (jdir / "pgid").exists()

    await wait_for(has_pgid, what="the job's process group")
    # What a lost machine looks like: every process of the job dies at once, unrecorded.
    os.killpg(int((jdir / "pgid").read_text()), signal.SIGKILL)
    os.kill(int((jdir / "pid").read_text()), signal.SIGKILL)

    async def gone() -> bool:
        return (await job_state(pool, node.addr, "doomed")).status == "gone"

    await wait_for(gone, what="the job to read as gone")
    assert await job_state(pool, node.addr, "doomed") == JobState("gone", None)
    assert not (jdir / "exit_code").exists()


async def test_script_killed_by_signal_records_128_plus_n(node: RunningNode,
                                                          pool: SSHPool) -> None:
    await start_detached(pool, node.addr, "oom", "kill -KILL $$\n", {})

    async def exited() -> bool:
        return (await job_state(pool, node.addr, "oom")).status == "exited"

    await wait_for(exited, what="the job to exit")
    assert await job_state(pool, node.addr, "oom") == JobState("exited", 137)


async def test_cancel_terminates_the_process_group(node: RunningNode, pool: SSHPool) -> None:
    script = "sleep 300 &\necho $! > child.pid\nwait\n"
    await start_detached(pool, node.addr, "long", script, {})

    async def child_started() -> bool:
        return (node.disk / "child.pid").exists() and bool((node.disk / "child.pid").read_text())

    await wait_for(child_started, what="the job's child")
    child = int((node.disk / "child.pid").read_text())
    state = await cancel(pool, node.addr, "long")
    assert state == JobState("exited", 128 + signal.SIGTERM)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


async def test_cancel_escalates_to_kill(node: RunningNode, pool: SSHPool) -> None:
    await start_detached(pool, node.addr, "stubborn",
                         "trap '' TERM\necho armed\nwhile :; do sleep 0.1; done\n", {})

    async def armed() -> bool:
        return "armed" in (node.disk / ".skytui/jobs/stubborn/log").read_text()

    await wait_for(armed, what="the trap")
    assert await cancel(pool, node.addr, "stubborn", grace=0.3) == JobState("exited", 137)


async def test_states_reports_every_job_in_one_call(node: RunningNode, pool: SSHPool) -> None:
    assert await states(pool, node.addr) == {}
    await start_detached(pool, node.addr, "a", "exit 0\n", {})
    await start_detached(pool, node.addr, "b", "exit 3\n", {})
    await start_detached(pool, node.addr, "c", "sleep 300\n", {})

    async def settled() -> bool:
        s = await states(pool, node.addr)
        return all(s.get(j, JobState("running")).status == "exited" for j in ("a", "b"))

    await wait_for(settled, what="a and b to exit")
    assert await states(pool, node.addr) == {
        "a": JobState("exited", 0), "b": JobState("exited", 3), "c": JobState("running")}
    assert await job_state(pool, node.addr, "nope") == JobState("missing")
    await cancel(pool, node.addr, "c", grace=1)


async def test_bad_job_ids_are_refused(node: RunningNode, pool: SSHPool) -> None:
    for bad in ("../x", "a b", "", "-rf", "x;y"):
        with pytest.raises(ValueError):
            await start_detached(pool, node.addr, bad, "true\n", {})
