"""Running commands on a node through the pool: exit codes, env, streaming, reconnects, keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from remote_helpers import RunningNode, node_fixture, pool_fixture  # noqa: F401  (fixtures)

from skytui.errors import RemoteError
from skytui.remote.exec import quote_cmd, run, with_env
from skytui.remote.hostkeys import known_hosts_line, write_known_hosts
from skytui.remote.keys import ensure_user_key, generate_host_key
from skytui.remote.pool import NodeAddress, SSHPool

pytestmark = pytest.mark.slow


async def test_exit_codes_and_both_streams(node: RunningNode, pool: SSHPool) -> None:
    result = await run(pool, node.addr, "echo out; echo err >&2; exit 3")
    assert (result.exit_status, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not result.ok
    assert (await run(pool, node.addr, "true")).ok


async def test_node_env_and_caller_env(node: RunningNode, pool: SSHPool) -> None:
    result = await run(pool, node.addr, 'printf "%s|%s|%s" "$SKYTUI_TEST_VAR" "$A" "$HOME"',
                       env={"A": "it's $(not run)"})
    assert result.stdout == f"hello world|it's $(not run)|{node.disk}"


async def test_quoted_arguments_arrive_verbatim(node: RunningNode, pool: SSHPool) -> None:
    tricky = ["a b", "it's", "$HOME", "`x`", "\"q\"", "*", "new\nline"]
    result = await run(pool, node.addr, quote_cmd(["printf", "%s\\0", *tricky]))
    assert result.stdout.split("\0")[:-1] == tricky


async def test_on_output_streams_as_it_comes(node: RunningNode, pool: SSHPool) -> None:
    seen: list[tuple[str, str]] = []
    result = await run(pool, node.addr, "echo one; echo two >&2; echo three",
                       on_output=lambda text, stream: seen.append((stream, text)))
    assert "".join(t for s, t in seen if s == "stdout") == "one\nthree\n" == result.stdout
    assert "".join(t for s, t in seen if s == "stderr") == "two\n"


async def test_input_is_fed_to_stdin(node: RunningNode, pool: SSHPool) -> None:
    data = os.urandom(200_000)
    result = await run(pool, node.addr, "cat > in.bin && wc -c < in.bin", input=data)
    assert int(result.stdout) == len(data)
    assert (node.disk / "in.bin").read_bytes() == data


async def test_large_input_arrives_whole_every_time(node: RunningNode, pool: SSHPool) -> None:
    # Input that fills the command's stdin pipe exercises flow control and the EOF after it.
    data = os.urandom(3 * 1024 * 1024 + 7)
    for i in range(4):
        result = await run(pool, node.addr, f"cat > big{i}.bin && wc -c < big{i}.bin",
                           input=data)
        assert int(result.stdout) == len(data)
        assert (node.disk / f"big{i}.bin").read_bytes() == data


async def test_signal_death_reads_as_128_plus_n(node: RunningNode, pool: SSHPool) -> None:
    assert (await run(pool, node.addr, "kill -KILL $$")).exit_status == 137


async def test_timeout_raises_and_hangs_up(node: RunningNode, pool: SSHPool) -> None:
    with pytest.raises(RemoteError, match="node1: `sleep 30` timed out after 0.5s"):
        await run(pool, node.addr, "sleep 30", timeout=0.5)
    assert (await run(pool, node.addr, "echo still-fine")).stdout == "still-fine\n"


async def test_pool_reuses_one_connection_and_reconnects(node: RunningNode,
                                                         pool: SSHPool) -> None:
    first = await pool.connection(node.addr)
    assert await pool.connection(node.addr) is first
    first.close()
    await first.wait_closed()
    assert (await run(pool, node.addr, "echo back")).stdout == "back\n"
    assert await pool.connection(node.addr) is not first


async def test_unreachable_node_is_one_line_naming_it(pool: SSHPool, tmp_path: Path) -> None:
    key, _ = ensure_user_key(tmp_path / "keys")
    addr = NodeAddress("127.0.0.1", 1, "me", str(key), generate_host_key(tmp_path / "hk"),
                       "ghost")
    with pytest.raises(RemoteError) as info:
        await run(pool, addr, "true")
    assert str(info.value).startswith("ghost (127.0.0.1:1): nothing is listening")
    assert "\n" not in str(info.value)


def test_user_key_is_created_once_with_private_modes(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    private, line = ensure_user_key(keys)
    assert line.startswith("ssh-ed25519 ")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert private.read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert ensure_user_key(keys) == (private, line)
    (keys / "skytui_ed25519.pub").unlink()
    assert ensure_user_key(keys) == (private, line)  # the public half is rebuilt, not a new key


def test_known_hosts_lines_pin_by_alias(tmp_path: Path) -> None:
    line = generate_host_key(tmp_path / "hk")
    path = tmp_path / "known_hosts"
    write_known_hosts(path, [("c1", "127.0.0.1", 2222, line), ("c1-worker1", "127.0.0.1", 2223,
                                                                  line)])
    assert path.read_text().splitlines() == [f"c1 {line}", f"c1-worker1 {line}"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ValueError):
        known_hosts_line("bad alias*", line)


def test_with_env_refuses_bad_names() -> None:
    with pytest.raises(ValueError):
        with_env("true", {"A B": "x"})
