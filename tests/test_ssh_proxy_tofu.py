"""ssh_proxy reaches nodes for skytui's SSH and OpenSSH alike; host keys trusted on first use, pinned after."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from remote_helpers import RunningNode, node_fixture, pool_fixture  # noqa: F401

from skytui.config_model import Config, SshProxy
from skytui.core.context import Core
from skytui.core.sshconfig import HostEntry, SSHConfig
from skytui.errors import RemoteError
from skytui.remote import tofu
from skytui.remote.pool import NodeAddress, SSHPool, proxy_options

# A ProxyCommand that relays stdin/stdout to HOST:PORT, as `nc` or `ssh -W` would.
RELAY = Path(__file__).resolve().parent / "fixtures" / "tcp_relay.py"


def test_host_blocks_carry_proxy_jump_or_command(tmp_path: Path) -> None:
    d = tmp_path / "ssh-dir"
    d.mkdir()
    cfg = SSHConfig(d, home=tmp_path / "home")
    cfg.set_cluster("c", [
        HostEntry("c", "10.0.0.5", 22, "ubuntu", "/k", "/kh", proxy_jump="me@bastion:2222"),
        HostEntry("c-worker1", "10.0.0.6", 22, "ubuntu", "/k", "/kh", proxy_command="ssh -W %h:%p gw")])
    text = (d / "config").read_text()
    assert "Host c\n" in text and "  ProxyJump me@bastion:2222\n" in text
    assert "  ProxyCommand ssh -W %h:%p gw\n" in text
    assert text.count("StrictHostKeyChecking yes") == 2


def test_node_addresses_take_the_region_proxy_over_the_cloud_one() -> None:
    from skytui.core.launcher import _address

    core = Core(Config(ssh_proxy={"aws": SshProxy(jump="bastion"),
                                  "aws/eu-west-1": SshProxy(command="ssh -W %h:%p euw")}))
    assert _address(core, "aws", "us-east-1", "10.0.0.1", 22, "", "a").proxy_jump == "bastion"
    eu = _address(core, "aws", "eu-west-1", "10.0.0.1", 22, "", "a")
    assert eu.proxy_command == "ssh -W %h:%p euw" and eu.proxy_jump is None
    assert _address(core, "local", "local-1", "127.0.0.1", 22, "", "a").proxy_jump is None


def test_proxy_command_is_split_before_it_is_filled() -> None:
    addr = NodeAddress("10.0.0.9", 2200, "ubuntu", "/k", "", "n", proxy_command="ssh -W %h:%p 'my gw'")
    assert proxy_options(addr) == {"proxy_command": ["ssh", "-W", "10.0.0.9:2200", "my gw"]}
    assert proxy_options(NodeAddress("h", 22, "u", "/k", "", "n", proxy_jump="j:2")) == {"tunnel": "j:2"}


async def test_skytui_ssh_goes_through_a_proxy_command(node: RunningNode, pool: SSHPool) -> None:
    from dataclasses import replace

    from skytui.remote.exec import run

    # The address itself is unroutable (a private IP seen from outside): only the proxy gets there.
    addr = replace(node.addr, host="203.0.113.7", port=22,
                   proxy_command=f"{sys.executable} {RELAY} 127.0.0.1 {node.addr.port}")
    done = await run(pool, addr, "echo through-the-proxy")
    out = done.stdout.decode() if isinstance(done.stdout, bytes) else done.stdout
    assert done.exit_status == 0 and out.strip() == "through-the-proxy"


async def test_first_use_key_then_pinned(node: RunningNode, tmp_path: Path) -> None:
    from dataclasses import replace

    store = tmp_path / "known_hosts"
    shown = await tofu.first_use_key(replace(node.addr, host_key=""))
    assert shown.split()[:2] == node.addr.host_key.split()[:2]
    tofu.record("aws", "i-1", shown, store)
    assert tofu.recorded("aws", "i-1", store) == " ".join(shown.split()[:2])
    assert store.stat().st_mode & 0o777 == 0o600
    tofu.record("aws", "i-1", shown, store)  # the same key again: fine
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJjXbF6Yk1RMTz2S7m0bHc3rGCKnTwzwJf3pXyAvQfA4"
    with pytest.raises(RemoteError, match="differs from the one recorded"):
        tofu.record("aws", "i-1", other, store)
    tofu.forget("aws", ["i-1"], store)
    assert tofu.recorded("aws", "i-1", store) is None
