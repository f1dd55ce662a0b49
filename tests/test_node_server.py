"""The local cloud's node process, driven by real OpenSSH clients and by asyncssh."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from remote_helpers import (  # noqa: F401  (fixtures)
    RunningNode,
    node_fixture,
    openssh,
    pool_fixture,
    start_node,
    wait_for,
    write_ssh_config,
)

from skytui.errors import RemoteError
from skytui.remote.exec import run
from skytui.remote.keys import generate_host_key
from skytui.remote.pool import NodeAddress, SSHPool

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("ssh") is None, reason="needs OpenSSH")]


def test_node_writes_its_files_and_listens(node: RunningNode) -> None:
    assert int((node.node_dir / "pid").read_text()) == node.proc.pid
    port = int((node.node_dir / "port").read_text())
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        assert s.recv(64).startswith(b"SSH-2.0-")
    assert (node.disk / ".skytui" / "sessions").is_dir()


def test_openssh_runs_commands_with_pinned_host_key(node: RunningNode, tmp_path: Path) -> None:
    config = write_ssh_config(tmp_path, [node])
    assert "StrictHostKeyChecking yes" in config.read_text()
    ok = openssh(config, "node1", "true")
    assert ok.returncode == 0, ok.stderr
    home = openssh(config, "node1", 'echo "$HOME|$SKYTUI_TEST_VAR|$USER"; pwd; exit 7')
    assert home.returncode == 7
    lines = home.stdout.decode().splitlines()
    assert lines[0] == f"{node.disk}|hello world|{pwd.getpwuid(os.getuid()).pw_name}"
    assert lines[1] == str(node.disk)


def test_openssh_sees_the_hosts_path(node: RunningNode, tmp_path: Path) -> None:
    config = write_ssh_config(tmp_path, [node])
    out = openssh(config, "node1", "echo $PATH; command -v python3 || command -v python")
    assert out.returncode == 0
    assert out.stdout.decode().splitlines()[0] == os.environ["PATH"]


def test_stdin_is_binary_safe_both_ways(node: RunningNode, tmp_path: Path) -> None:
    config = write_ssh_config(tmp_path, [node])
    blob = bytes(range(256)) * 4096 + b"\x00end"
    put = openssh(config, "node1", "cat > blob.bin", input=blob)
    assert put.returncode == 0
    assert (node.disk / "blob.bin").read_bytes() == blob
    got = openssh(config, "node1", "cat blob.bin")
    assert got.stdout == blob


def test_command_killed_by_signal_is_reported_as_a_signal(node: RunningNode,
                                                         tmp_path: Path) -> None:
    config = write_ssh_config(tmp_path, [node])
    # OpenSSH exits 255 when the remote command died of a signal; a normal exit keeps its code.
    assert openssh(config, "node1", "kill -TERM $$").returncode == 255


async def test_asyncssh_sees_exit_signal_and_can_send_signals(node: RunningNode,
                                                              pool: SSHPool) -> None:
    conn = await pool.connection(node.addr)
    killed = await conn.run("kill -KILL $$", check=False)
    assert killed.exit_signal is not None and killed.exit_signal[0] == "KILL"
    proc = await conn.create_process("trap 'echo got-int; exit 42' INT; echo ready; "
                                     "while :; do sleep 0.1; done")
    assert (await proc.stdout.readline()) == b"ready\n"
    proc.send_signal("INT")
    assert (await proc.stdout.readline()) == b"got-int\n"
    await proc.wait_closed()
    assert proc.exit_status == 42


def test_wrong_host_key_is_refused(node: RunningNode, tmp_path: Path) -> None:
    impostor = generate_host_key(tmp_path / "other_key")
    config = write_ssh_config(tmp_path, [node], host_keys={"node1": impostor})
    result = openssh(config, "node1", "true")
    assert result.returncode == 255
    assert b"true" not in result.stdout


async def test_wrong_host_key_is_refused_by_the_pool(node: RunningNode, pool: SSHPool,
                                                     tmp_path: Path) -> None:
    impostor = generate_host_key(tmp_path / "other_key")
    addr = NodeAddress(**{**node.addr.__dict__, "host_key": impostor})
    with pytest.raises(RemoteError, match="node1.*host key does not match"):
        await run(pool, addr, "true")


async def test_unauthorised_key_is_refused(tmp_path: Path, pool: SSHPool) -> None:
    stranger_line = generate_host_key(tmp_path / "stranger")  # any key but the user's
    n = start_node(tmp_path, "locked", authorized=stranger_line)
    try:
        with pytest.raises(RemoteError, match="locked.*key was refused"):
            await run(pool, n.addr, "true")
        config = write_ssh_config(tmp_path, [n])
        assert openssh(config, "locked", "true").returncode == 255
    finally:
        n.stop()


def test_scp_uploads_and_downloads_via_sftp(node: RunningNode, tmp_path: Path) -> None:
    config = write_ssh_config(tmp_path, [node])
    src = tmp_path / "up.bin"
    src.write_bytes(os.urandom(300_000))
    for target in ("node1:~/a.bin", "node1:b.bin"):
        r = subprocess.run(["scp", "-F", str(config), str(src), target], capture_output=True,
                           timeout=30, check=False)
        assert r.returncode == 0, r.stderr
    assert (node.disk / "a.bin").read_bytes() == src.read_bytes()
    assert (node.disk / "b.bin").read_bytes() == src.read_bytes()
    down = tmp_path / "down.bin"
    r = subprocess.run(["scp", "-F", str(config), "node1:a.bin", str(down)],
                       capture_output=True, timeout=30, check=False)
    assert r.returncode == 0, r.stderr
    assert down.read_bytes() == src.read_bytes()


def test_local_port_forwarding_reaches_a_port_on_the_node(node: RunningNode,
                                                          tmp_path: Path) -> None:
    config = write_ssh_config(tmp_path, [node])
    server = socket.create_server(("127.0.0.1", 0))
    target_port = server.getsockname()[1]

    def echo_once() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"echo:" + conn.recv(100))

    threading.Thread(target=echo_once, daemon=True).start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        local_port = probe.getsockname()[1]
    fwd = subprocess.Popen(["ssh", "-F", str(config), "-N", "-o", "ExitOnForwardFailure yes",
                            "-L", f"{local_port}:127.0.0.1:{target_port}", "node1"])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client = socket.create_connection(("127.0.0.1", local_port), timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "forward never came up"
                time.sleep(0.05)
        with client:
            client.sendall(b"hello")
            assert client.recv(100) == b"echo:hello"
    finally:
        fwd.terminate()
        fwd.wait(10)
        server.close()


def test_interactive_tty_has_the_requested_size_and_term(node: RunningNode,
                                                         tmp_path: Path) -> None:
    if shutil.which("script") is None:
        pytest.skip("needs script(1) to give ssh a terminal")
    config = write_ssh_config(tmp_path, [node])
    inner = f"stty cols 91 rows 33; ssh -F {config} -t node1 'tty; stty size; echo $TERM'"
    r = subprocess.run(["script", "-qc", inner, "/dev/null"],
                       capture_output=True, timeout=30, input=b"", check=False,
                       env={**os.environ, "TERM": "xterm-256color"})
    out = r.stdout.decode(errors="replace")
    assert "/dev/pts/" in out
    assert "33 91" in out
    assert "xterm-256color" in out


async def test_shell_session_gets_a_pty_and_window_changes(node: RunningNode,
                                                           pool: SSHPool) -> None:
    conn = await pool.connection(node.addr)
    proc = await conn.create_process(term_type="xterm", term_size=(100, 30), encoding="utf-8")
    proc.stdin.write("stty size; echo MARK-$((6*7))\n")
    out = ""
    while "MARK-42" not in out:
        out += await proc.stdout.read(1024)
    assert "30 100" in out
    proc.change_terminal_size(120, 40)
    proc.stdin.write("stty size; echo DONE-$((2*3))\n")
    while "DONE-6" not in out:
        out += await proc.stdout.read(1024)
    assert "40 120" in out
    proc.stdin.write("exit 5\n")
    await proc.wait_closed()
    assert proc.exit_status == 5


def test_port_taken_falls_back_to_a_free_one(tmp_path: Path) -> None:
    blocker = socket.create_server(("127.0.0.1", 0))
    taken = blocker.getsockname()[1]
    try:
        n = start_node(tmp_path, "moved", port=taken)
        try:
            assert n.addr.port != taken
        finally:
            n.stop()
    finally:
        blocker.close()


def test_restart_reuses_the_previous_port(tmp_path: Path) -> None:
    first = start_node(tmp_path, "again")
    port = first.addr.port
    first.stop()
    second = start_node(tmp_path, "again", port=port)
    try:
        assert second.addr.port == port
    finally:
        second.stop()


async def test_sigterm_closes_connections_and_exits(node: RunningNode, pool: SSHPool) -> None:
    conn = await pool.connection(node.addr)
    proc = await conn.create_process("sleep 300")
    node.proc.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(node.proc.wait, 10) == 0
    await proc.wait_closed()
    assert proc.exit_status is None  # the channel closed with the connection
    assert "stopping" in (node.node_dir / "node.log").read_text()


async def test_dropped_client_hangs_up_its_command(node: RunningNode, pool: SSHPool) -> None:
    conn = await pool.connection(node.addr)
    proc = await conn.create_process("echo $$; exec sleep 300")
    pid = int(await proc.stdout.readline())
    await pool.drop(node.addr)

    async def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return Path(f"/proc/{pid}/stat").exists() and " Z " in Path(
            f"/proc/{pid}/stat").read_text()

    await wait_for(gone, what="the command to be hung up")


def test_a_node_signals_only_a_group_its_own_child_still_leads() -> None:
    """A reaped command's number can come back as another process's group (another node's, on
    a host whose pids wrap): the node hangs up on it only while its own child leads it."""
    from skytui.providers.local.node import _leads_our_group

    child = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        assert _leads_our_group(child.pid)
        assert not _leads_our_group(os.getpid())  # not our child
        assert not _leads_our_group(os.getppid())
    finally:
        child.kill()
        child.wait()
    assert not _leads_our_group(child.pid)  # reaped: the number is no longer ours
