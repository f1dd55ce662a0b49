"""A test fixture, not a production hook: each moto instance gets a local node server as its SSH endpoint.

moto's instances have no SSH server. This wraps the adapter's conversion of an EC2 record
so a running instance reports 127.0.0.1 and the port of a node server started for it
(the same server the local cloud runs), and a stopped or terminated instance loses it.
The node's host key is not reported, as on EC2 before cloud-init prints it: skytui pins it
on first use. A stopped node keeps its disk and host key, as an EBS-backed VM does.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skytui.providers.aws.provider import AwsProvider
from skytui.providers.local import process


class NodeServers:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.pids: dict[str, int] = {}
        self.started: list[str] = []  # instance ids, in order of first start

    def node_dir(self, iid: str) -> Path:
        return self.root / "nodes" / iid

    def endpoint(self, iid: str) -> int:
        """The port of the instance's node server, starting it (again) when it is not running."""
        from skytui.paths import keys_dir
        from skytui.remote.keys import ensure_user_key, generate_host_key

        with self.lock:
            node_dir, disk = self.node_dir(iid), self.root / "disks" / iid
            pid = self.pids.get(iid)
            if pid is not None and process.is_alive(pid, node_dir):
                port = process.read_port(node_dir)
                if port:
                    return port
            if not node_dir.exists():
                node_dir.mkdir(parents=True, mode=0o700)
                disk.mkdir(parents=True, mode=0o700)
                generate_host_key(node_dir / "host_key")
                _, public = ensure_user_key(keys_dir())
                (node_dir / "authorized_keys").write_text(public.strip() + "\n")
                (node_dir / "env.json").write_text(json.dumps({"SKYTUI_INSTANCE_ID": iid}))
                self.started.append(iid)
            self.pids[iid] = process.spawn_node(node_dir, disk, None)
            deadline = time.monotonic() + 20
            while (port := process.read_port(node_dir)) is None:
                if time.monotonic() > deadline:
                    raise RuntimeError((node_dir / "node.log").read_text())
                time.sleep(0.02)
            return port

    def gone(self, iid: str) -> None:
        """The VM stopped or died: its SSH server and every process it started end."""
        with self.lock:
            pid = self.pids.pop(iid, None)
            if pid is not None:
                process.kill_node(pid, self.node_dir(iid), hard=True)
            process.kill_tree_by_marker(iid)

    def stop_all(self) -> None:
        for iid in list(self.pids):
            self.gone(iid)


@pytest.fixture(name="node_servers")
def node_servers_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NodeServers]:
    servers = NodeServers(tmp_path / "moto-nodes")
    real = AwsProvider._instance

    def with_endpoint(self: AwsProvider, raw: dict[str, Any], region: str, keys: dict[str, str]) -> Any:
        inst = real(self, raw, region, keys)
        if inst is None:
            return None
        if inst.state == "running":
            return dataclasses.replace(inst, host="127.0.0.1", ssh_port=servers.endpoint(inst.id))
        if inst.state in ("stopped", "terminated"):
            servers.gone(inst.id)
        return inst

    monkeypatch.setattr(AwsProvider, "_instance", with_endpoint)
    yield servers
    servers.stop_all()


def write_aws_config(url: str, extra: str = "") -> Path:
    from skytui.paths import config_dir

    path = config_dir() / "config.yaml"
    path.write_text(f"clouds: [aws]\naws: {{endpoint_url: {url!r}}}\n{extra}")
    os.chmod(path, 0o600)
    return path
