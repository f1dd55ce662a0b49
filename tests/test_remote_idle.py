"""The idle probe: busy while a job runs or someone is logged in, idle otherwise."""

from __future__ import annotations

import asyncio

import pytest
from remote_helpers import RunningNode, node_fixture, pool_fixture, wait_for  # noqa: F401  (fixtures)

from skytui.remote.exec import run
from skytui.remote.idle import IdleState, idle_probe_command, parse_idle
from skytui.remote.jobs import cancel, job_state, start_detached
from skytui.remote.pool import SSHPool

pytestmark = pytest.mark.slow


async def probe(pool: SSHPool, node: RunningNode) -> IdleState:
    result = await run(pool, node.addr, idle_probe_command())
    assert result.ok, result.stderr
    return parse_idle(result.stdout)


async def test_fresh_node_is_idle(node: RunningNode, pool: SSHPool) -> None:
    assert await probe(pool, node) == IdleState(idle=True, running_jobs=0, sessions=0)


async def test_running_job_keeps_the_node_busy(node: RunningNode, pool: SSHPool) -> None:
    await start_detached(pool, node.addr, "train", "sleep 300\n", {})
    await start_detached(pool, node.addr, "done", "true\n", {})

    async def finished() -> bool:
        return (await job_state(pool, node.addr, "done")).status == "exited"

    await wait_for(finished, what="the short job to exit")
    assert await probe(pool, node) == IdleState(idle=False, running_jobs=1, sessions=0)
    await cancel(pool, node.addr, "train", grace=1)
    assert await probe(pool, node) == IdleState(idle=True, running_jobs=0, sessions=0)


async def test_open_interactive_session_keeps_the_node_busy(node: RunningNode,
                                                            pool: SSHPool) -> None:
    conn = await pool.connection(node.addr)
    shell = await conn.create_process(term_type="xterm")

    async def counted() -> bool:
        return (await probe(pool, node)).sessions == 1

    await wait_for(counted, what="the shell to be counted")
    assert await probe(pool, node) == IdleState(idle=False, running_jobs=0, sessions=1)
    shell.stdin.write(b"exit\n")
    await asyncio.wait_for(shell.wait_closed(), 10)

    async def released() -> bool:
        return (await probe(pool, node)).idle

    await wait_for(released, what="the shell to be forgotten")


def test_probe_without_sessions_line_is_not_idle() -> None:
    assert parse_idle("") == IdleState(idle=False, running_jobs=0, sessions=0)
    assert parse_idle("a exited 0\nsessions 0\n").idle
    assert parse_idle("a running -\nsessions 0\n") == IdleState(False, 1, 0)


# Issue 12, fault 3: `ssh node 'sleep 240'` and SFTP were not activity, and autostop stopped the VM.
async def test_a_non_interactive_command_keeps_the_node_busy(node: RunningNode, pool: SSHPool) -> None:
    conn = await pool.connection(node.addr)
    proc = await conn.create_process("sleep 300")

    async def counted() -> bool:
        return (await probe(pool, node)).sessions == 1

    await wait_for(counted, what="the command to be counted")
    proc.kill()
    proc.close()

    async def released() -> bool:
        return (await probe(pool, node)).idle

    await wait_for(released, what="the command to be forgotten")


async def test_an_open_sftp_session_keeps_the_node_busy(node: RunningNode, pool: SSHPool) -> None:
    conn = await pool.connection(node.addr)
    sftp = await conn.start_sftp_client()

    async def counted() -> bool:
        return (await probe(pool, node)).sessions == 1

    await wait_for(counted, what="the SFTP session to be counted")
    sftp.exit()
    await sftp.wait_closed()

    async def released() -> bool:
        return (await probe(pool, node)).idle

    await wait_for(released, what="the SFTP session to be forgotten")


async def test_the_probes_own_commands_are_not_activity(node: RunningNode, pool: SSHPool) -> None:
    results = await asyncio.gather(*(probe(pool, node) for _ in range(5)))
    assert all(r.idle for r in results)


def _real_vm_sessions() -> int:
    import subprocess

    from skytui.remote.idle import REAL_VM_SESSIONS

    out = subprocess.run(["bash", "-c", REAL_VM_SESSIONS + "echo $n"], capture_output=True, text=True,
                         timeout=30, check=True)
    return int(out.stdout.split()[-1])


def _until_children(pid: int, timeout: float = 30.0) -> None:
    """Wait (bounded) until the stand-in session process has started its child."""
    import subprocess
    import time

    deadline = time.monotonic() + timeout
    while subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, check=False).returncode != 0:
        assert time.monotonic() < deadline, "the stand-in session never started its child"
        time.sleep(0.05)


def test_a_real_vms_ssh_command_or_sftp_counts_and_skytuis_own_probe_does_not() -> None:
    """Fault 3 on real VMs: OpenSSH's per-connection process with a child is someone's activity.

    Stand-ins named as OpenSSH names its session processes (`sshd: USER@notty`): one runs a
    user's command (as `ssh vm 'sleep 240'` would), one only a probe marked as skytui's own.
    """
    import subprocess

    before = _real_vm_sessions()
    probe_only = subprocess.Popen(["bash", "-c", "exec -a 'sshd: alice@notty' bash -c "
                                   "'bash -c \"# skytui-probe\nsleep 60; true\" & wait'"])
    user_cmd = None
    try:
        _until_children(probe_only.pid)
        assert _real_vm_sessions() == before  # skytui's own connection keeps nothing awake
        user_cmd = subprocess.Popen(["bash", "-c", "exec -a 'sshd-session: alice@notty' bash -c "
                                     "'sleep 60 & wait'"])
        _until_children(user_cmd.pid)
        assert _real_vm_sessions() == before + 1
    finally:
        for proc in (probe_only, user_cmd):
            if proc is not None:
                subprocess.run(["pkill", "-P", str(proc.pid)], check=False)
                proc.kill()
                proc.wait()
