"""One reusable SSH connection per node, with keepalives and reconnect on a dropped link."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from skytui.errors import RemoteError

if TYPE_CHECKING:
    import asyncssh
    from typing_extensions import Self


@dataclass(frozen=True)
class NodeAddress:
    """How to reach one node: where, as whom, with which key, and the host key it must show."""

    host: str
    port: int
    user: str
    key_path: str
    host_key: str  # the pinned public line, e.g. "ssh-ed25519 AAAA..."
    alias: str  # the node's name for people: "mycluster", "mycluster-worker1"
    proxy_jump: str | None = None  # [user@]host[:port]: reach a private IP through this host
    proxy_command: str | None = None  # or through this command (OpenSSH %h, %p, %r are filled in)


def proxy_options(addr: NodeAddress) -> dict[str, Any]:
    """asyncssh options for the node's `ssh_proxy`: a tunnel through a jump host, or a command."""
    if addr.proxy_jump:
        return {"tunnel": addr.proxy_jump}
    if addr.proxy_command:
        import shlex

        # Split first, then fill in: an address never becomes shell syntax.
        fill = {"%h": addr.host, "%p": str(addr.port), "%r": addr.user}
        args = []
        for token in shlex.split(addr.proxy_command):
            for k, v in fill.items():
                token = token.replace(k, v)
            args.append(token.replace("%%", "%"))
        return {"proxy_command": args}
    return {}


def connect_error(addr: NodeAddress, exc: BaseException) -> RemoteError:
    """Turn an asyncssh/OS failure into one line that names the node and what to do."""
    import asyncssh

    where = f"{addr.alias} ({addr.host}:{addr.port})"
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return RemoteError(f"{where}: host key does not match the pinned key",
                           "the node was replaced or someone is in the way; check the cluster")
    if isinstance(exc, asyncssh.PermissionDenied):
        return RemoteError(f"{where}: our SSH key was refused",
                           "the node does not authorise the skytui key")
    if isinstance(exc, ConnectionRefusedError):
        return RemoteError(f"{where}: nothing is listening", "is the node up?")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return RemoteError(f"{where}: connection timed out", "is the node up and reachable?")
    reason = str(exc).strip() or type(exc).__name__
    return RemoteError(f"{where}: connection failed: {reason.splitlines()[0]}")


def is_connection_loss(exc: BaseException) -> bool:
    """True for failures that mean the link went away (worth reconnecting), not a refusal."""
    import asyncssh

    if isinstance(exc, (asyncssh.ConnectionLost, asyncssh.ChannelOpenError,
                        BrokenPipeError, ConnectionResetError)):
        return True
    return isinstance(exc, asyncssh.DisconnectError) and not isinstance(
        exc, (asyncssh.HostKeyNotVerifiable, asyncssh.PermissionDenied))


PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
                     "aes256-ctr", "aes192-ctr", "aes128-ctr")


class SSHPool:
    """Keeps one connection per node; callers ask for it each time and get a live one."""

    def __init__(self, *, keepalive_interval: float = 15.0, keepalive_count_max: int = 3,
                 connect_timeout: float = 15.0) -> None:
        self.keepalive_interval = keepalive_interval
        self.keepalive_count_max = keepalive_count_max
        self.connect_timeout = connect_timeout
        self._conns: dict[NodeAddress, asyncssh.SSHClientConnection] = {}
        self._locks: dict[NodeAddress, asyncio.Lock] = {}

    async def connection(self, addr: NodeAddress) -> asyncssh.SSHClientConnection:
        """The node's open connection, connecting (or reconnecting) when there is none."""
        conn = self._conns.get(addr)
        if conn is not None and not conn.is_closed():
            return conn
        lock = self._locks.setdefault(addr, asyncio.Lock())
        async with lock:
            conn = self._conns.get(addr)
            if conn is not None and not conn.is_closed():
                return conn
            conn = await self._connect(addr)
            self._conns[addr] = conn
            return conn

    async def _connect(self, addr: NodeAddress) -> asyncssh.SSHClientConnection:
        import asyncssh

        from skytui.remote.hostkeys import pinned_known_hosts

        # config=None: the user's ~/.ssh/config (ProxyCommand, Host *) must not steer us.
        options: dict[str, Any] = {
            "username": addr.user, "client_keys": [addr.key_path],
            "known_hosts": pinned_known_hosts(addr.host_key), "config": None,
            "agent_path": None, "agent_forwarding": False, "x11_forwarding": False,
            "preferred_auth": "publickey", "encoding": None,
            # AES-GCM first: as strong as ChaCha20-Poly1305 and about 5x cheaper per packet in
            # asyncssh (OpenSSL's AES-NI vs a new ChaCha context per packet), which is what a
            # live log stream pays for (docs/performance.md).
            "encryption_algs": PREFERRED_CIPHERS,
            "keepalive_interval": self.keepalive_interval,
            "keepalive_count_max": self.keepalive_count_max,
            "connect_timeout": self.connect_timeout, **proxy_options(addr)}
        try:
            return await asyncssh.connect(addr.host, addr.port, **options)
        except (OSError, asyncssh.Error, asyncio.TimeoutError) as e:
            raise connect_error(addr, e) from None
        except ValueError as e:  # an unreadable key file or a malformed pinned key
            raise RemoteError(f"{addr.alias}: cannot use SSH key: {e}") from None

    async def drop(self, addr: NodeAddress) -> None:
        """Close one node's connection (the next use reconnects), e.g. after it went stale."""
        conn = self._conns.pop(addr, None)
        if conn is not None:
            conn.close()
            await conn.wait_closed()

    async def close(self) -> None:
        """Close every connection."""
        conns, self._conns = list(self._conns.values()), {}
        for conn in conns:
            conn.close()
        for conn in conns:
            await conn.wait_closed()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
