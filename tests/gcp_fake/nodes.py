"""Real guests for the fake's instances: a local node server (asyncssh) per instance.

Each instance gets its own loopback address (127.0.0.N) and answers SSH on one shared port
there, as VMs all answer on 22 at their own IPs: a small TCP forwarder per address relays to
the node server, which listens on 127.0.0.1 at a port of its choosing. Host keys are made
here and published through the fake's guest attributes, as the guest agent does.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import threading
from pathlib import Path

from gcp_fake.server import NodeHost
from skytui.providers.local import process
from skytui.remote.keys import generate_host_key, public_line_of


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalNodes(NodeHost):
    def __init__(self, root: Path, ssh_port: int | None = None) -> None:
        self.root = root
        self.ssh_port = ssh_port or free_port()
        self.ips: dict[str, str] = {}
        self.pids: dict[str, int] = {}
        self.targets: dict[str, int] = {}  # ip -> node server port
        self.servers: dict[str, asyncio.AbstractServer] = {}
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="gcp-fake-forwarder", daemon=True).start()

    def _dirs(self, key: str) -> tuple[Path, Path]:
        safe = key.replace("/", "__")
        return self.root / "nodes" / safe, self.root / "disks" / safe

    def marker(self, key: str) -> str:
        return "gcpfake-" + key.replace("/", "__")

    def boot(self, key: str, inst) -> None:  # type: ignore[no-untyped-def]
        node_dir, disk = self._dirs(key)
        node_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        disk.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not (node_dir / "host_key").exists():
            generate_host_key(node_dir / "host_key")
        keys = [line.partition(":")[2] for item in inst.metadata.items if item.key == "ssh-keys"
                for line in item.value.splitlines() if ":" in line]
        (node_dir / "authorized_keys").write_text("".join(k.strip() + "\n" for k in keys))
        os.chmod(node_dir / "authorized_keys", 0o600)
        (node_dir / "env.json").write_text(json.dumps({"SKYTUI_INSTANCE_ID": self.marker(key)}))
        if key not in self.ips:
            self.ips[key] = f"127.0.0.{2 + len(self.ips)}"
        self.pids[key] = process.spawn_node(node_dir, disk, None)

    def ready(self, key: str) -> tuple[str, str] | None:
        node_dir, _ = self._dirs(key)
        pid = self.pids.get(key)
        port = process.read_port(node_dir)
        if pid is None or port is None or not process.is_alive(pid, node_dir):
            return None
        ip = self.ips[key]
        self.targets[ip] = port
        if ip not in self.servers:
            asyncio.run_coroutine_threadsafe(self._listen(ip), self.loop).result(10)
        return ip, public_line_of(node_dir / "host_key")

    async def _listen(self, ip: str) -> None:
        async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                r2, w2 = await asyncio.open_connection("127.0.0.1", self.targets[ip])
            except OSError:
                writer.close()
                return

            async def pipe(a: asyncio.StreamReader, b: asyncio.StreamWriter) -> None:
                try:
                    while data := await a.read(65536):
                        b.write(data)
                        await b.drain()
                except (OSError, asyncio.CancelledError):
                    pass
                finally:
                    b.close()

            await asyncio.gather(pipe(reader, w2), pipe(r2, writer))

        self.servers[ip] = await asyncio.start_server(relay, ip, self.ssh_port, reuse_address=True)

    def stop(self, key: str, *, hard: bool) -> None:
        node_dir, _ = self._dirs(key)
        process.kill_node(self.pids.pop(key, None), node_dir, hard=hard)
        process.kill_tree_by_marker(self.marker(key))

    def delete(self, key: str) -> None:
        self.stop(key, hard=False)
        ip = self.ips.get(key)
        server = self.servers.pop(ip, None) if ip else None
        if server is not None:
            self.loop.call_soon_threadsafe(server.close)
        node_dir, disk = self._dirs(key)
        shutil.rmtree(node_dir, ignore_errors=True)
        shutil.rmtree(disk, ignore_errors=True)

    def close(self) -> None:
        for key in list(self.pids):
            self.stop(key, hard=True)
        self.loop.call_soon_threadsafe(self.loop.stop)
