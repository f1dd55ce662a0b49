"""One local-cloud node: an SSH server on 127.0.0.1 whose disk is a directory.

Run as `python -m skytui.providers.local.node --node-dir NODEDIR --disk DISKDIR [--port N]`.
NODEDIR holds `host_key`, `authorized_keys` and `env.json` (written by the provider) and the
node writes `pid`, `port` (atomically, once it accepts connections) and `node.log` there.
Commands run as real processes (`bash -c CMD`) with HOME=cwd=DISKDIR and the host's PATH, so
OpenSSH's ssh, scp (SFTP or -O), rsync (if installed), VS Code Remote-SSH and `ssh -L`
work against it.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import fcntl
import json
import logging
import os
import pwd
import shutil
import signal
import struct
import subprocess
import termios
import uuid
from pathlib import Path
from typing import Any, cast

import asyncssh
from asyncssh.stream import SSHServerStreamSession  # serves the SFTP subsystem for us

from skytui.remote.marks import is_probe

log = logging.getLogger("skytui.node")

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# How long a PTY session waits for the last output of a shell that left background jobs holding
# the terminal open; sshd closes the channel once the shell itself has exited.
_PTY_DRAIN_S = 0.3


class Node:
    """What every session of this node shares: its disk, its environment, its open sessions."""

    def __init__(self, node_dir: Path, disk: Path) -> None:
        self.node_dir, self.disk = node_dir, disk
        self.sessions_dir = disk / ".skytui" / "sessions"
        self.bash = shutil.which("bash") or "/bin/sh"
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.connections: set[asyncssh.SSHServerConnection] = set()

    def env(self, term: str | None = None) -> dict[str, str]:
        """The environment of a command: the host's, then env.json, then the login variables."""
        env = dict(os.environ)
        try:
            extra = json.loads((self.node_dir / "env.json").read_text())
        except (OSError, ValueError):
            extra = {}
        if isinstance(extra, dict):
            env.update({str(k): str(v) for k, v in extra.items()})
        env.update(HOME=str(self.disk), PWD=str(self.disk), USER=self.user, LOGNAME=self.user,
                   SHELL=self.bash)
        if term:
            env["TERM"] = term
        return env

    def open_session(self, kind: str) -> Path:
        """Record an interactive session so the idle probe sees someone is using the node."""
        path = self.sessions_dir / uuid.uuid4().hex
        path.write_text(json.dumps({"kind": kind}))
        return path


class _NodeSFTP(asyncssh.SFTPServer):
    """SFTP rooted at the process cwd (HOME) that ends with exit status 0, as sftp-server does."""

    def exit(self) -> None:
        # scp and sftp treat a channel closed without an exit status as a failure.
        self.channel.exit(0)


def _new_sftp(chan: Any) -> asyncssh.SFTPServer:
    return _NodeSFTP(cast(asyncssh.SSHServerChannel[bytes], chan))


def _sftp_session() -> SSHServerStreamSession[bytes]:
    """asyncssh's stream session running our SFTP server, speaking SFTP v3 as OpenSSH does."""
    try:
        return SSHServerStreamSession(None, _new_sftp, sftp_version=3)
    except TypeError:  # asyncssh releases before SFTP v4 support take no version
        return SSHServerStreamSession(None, _new_sftp)


def _close_session(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


def _signal_number(name: str) -> int | None:
    sig = signal.Signals.__members__.get("SIG" + name.upper().removeprefix("SIG"))
    return int(sig) if sig is not None else None


def _killpg(pgid: int | None, sig: int) -> None:
    if pgid:
        try:
            os.killpg(pgid, sig)
        except OSError:
            pass


def _hang_up(pgid: int | None) -> None:
    """SIGHUP the group a session's command leads, if its leader is still this node's child.

    Once the leader is reaped its number is free, and on a busy host (pid_max 32,768 wraps)
    it can come back as someone else's group, another node's included: not ours to signal.
    """
    if pgid and _leads_our_group(pgid):
        _killpg(pgid, signal.SIGHUP)


def _leads_our_group(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no /proc (macOS): cannot tell, as before
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[-1].split()  # state, ppid, pgrp, ...
    return int(fields[1]) == os.getpid() and int(fields[2]) == pid


def _take_terminal() -> None:
    """In the child, make the PTY (already on fd 0) the controlling terminal of its new session."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _set_winsize(fd: int, size: tuple[int, int, int, int]) -> None:
    width, height, pixwidth, pixheight = size
    if width and height:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, pixwidth, pixheight))


class _Command(asyncio.SubprocessProtocol):
    """Relays a child's pipes (or only its exit, for PTY children) to the owning session."""

    def __init__(self, session: NodeSession) -> None:
        self.session = session
        self.transport: asyncio.SubprocessTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        self.session.output(fd, bytes(data) if isinstance(data, bytes) else data.encode())

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd in (1, 2):
            self.session.output_closed(fd)

    def process_exited(self) -> None:
        assert self.transport is not None
        self.session.exited(self.transport.get_returncode())

    def pause_writing(self) -> None:  # the child's stdin pipe is full
        self.session.pause_input()

    def resume_writing(self) -> None:
        self.session.resume_input()


class _PtyOutput(asyncio.Protocol):
    """Reads a PTY master; EIO (the terminal's last holder closed it) is its end of file."""

    def __init__(self, session: NodeSession) -> None:
        self.session = session

    def data_received(self, data: bytes) -> None:
        self.session.output(1, data)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.session.output_closed(1)


class _PtyInput(asyncio.Protocol):
    def __init__(self, session: NodeSession) -> None:
        self.session = session

    def pause_writing(self) -> None:
        self.session.pause_input()

    def resume_writing(self) -> None:
        self.session.resume_input()


class NodeSession(asyncssh.SSHServerSession[bytes]):
    """One SSH session channel: a command, a shell (with or without a PTY) or SFTP."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.chan: Any = None
        self.term: tuple[str, tuple[int, int, int, int]] | None = None
        self.sftp: SSHServerStreamSession[bytes] | None = None
        self.transport: asyncio.SubprocessTransport | None = None
        self.pgid: int | None = None
        self.master: int | None = None
        self.pty_out: asyncio.ReadTransport | None = None
        self.pty_in: asyncio.WriteTransport | None = None
        self.open_outputs: set[int] = set()
        self.returncode: int | None = None
        self.finished = False
        self.session_file: Path | None = None
        self.early_input: list[bytes] | None = []
        self.early_eof = False

    # Channel requests -----------------------------------------------------------------
    def connection_made(self, chan: Any) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                      term_modes: Any) -> bool:
        self.term = (term_type or "xterm", term_size)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        if subsystem != "sftp":
            return False
        self.sftp = _sftp_session()
        self.sftp.connection_made(self.chan)
        self.session_file = self.node.open_session("sftp")  # a copy in progress is activity too
        return True

    def session_started(self) -> None:
        if self.sftp is not None:
            self.sftp.session_started()
            return
        asyncio.get_running_loop().create_task(self._start())

    # Starting the command --------------------------------------------------------------
    async def _start(self) -> None:
        command: str | None = self.chan.get_command()
        interactive = command is None or self.term is not None
        try:
            if self.term is not None:
                await self._start_pty(command)
            else:
                await self._start_pipes(command)
        except OSError as e:
            self.chan.write_stderr(f"skytui node: cannot start command: {e}\r\n".encode())
            self.chan.exit(127)
            return
        if self.finished:
            if self.returncode is None:  # the client left while we were starting
                _hang_up(self.pgid)
            else:
                self._release()
            return
        if not self.finished and not is_probe(command):
            # Every session is someone using the node (a shell, `ssh node CMD`): autostop waits.
            kind = "shell" if command is None else "tty" if interactive else "exec"
            self.session_file = self.node.open_session(kind)
        # Input that arrived while the command was starting goes in now, in order.
        early, self.early_input = self.early_input, None
        for data in early or []:
            self.data_received(data, None)
        if self.early_eof:
            self.eof_received()

    async def _start_pipes(self, command: str | None) -> None:
        argv = [self.node.bash] if command is None else [self.node.bash, "-c", command]
        loop = asyncio.get_running_loop()
        self.open_outputs = {1, 2}
        transport, _ = await loop.subprocess_exec(
            lambda: _Command(self), *argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=str(self.node.disk), env=self.node.env(),
            start_new_session=True)
        self.transport = transport
        self.pgid = transport.get_pid()

    async def _start_pty(self, command: str | None) -> None:
        assert self.term is not None
        term_type, size = self.term
        master, slave = os.openpty()
        try:
            _set_winsize(master, size)
            argv = [self.node.bash, "-i"] if command is None else [self.node.bash, "-c", command]
            loop = asyncio.get_running_loop()
            transport, _ = await loop.subprocess_exec(
                lambda: _Command(self), *argv, stdin=slave, stdout=slave, stderr=slave,
                cwd=str(self.node.disk), env=self.node.env(term_type),
                start_new_session=True, preexec_fn=_take_terminal)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.transport, self.pgid, self.master = transport, transport.get_pid(), master
        self.open_outputs = {1}
        self.pty_out, _ = await loop.connect_read_pipe(
            lambda: _PtyOutput(self), os.fdopen(master, "rb", buffering=0, closefd=False))
        self.pty_in, _ = await loop.connect_write_pipe(
            lambda: _PtyInput(self), os.fdopen(os.dup(master), "wb", buffering=0))

    # Data both ways --------------------------------------------------------------------
    def data_received(self, data: bytes, datatype: int | None) -> None:
        if self.sftp is not None:
            self.sftp.data_received(data, datatype)
        elif self.early_input is not None:
            self.early_input.append(data)
        elif self.pty_in is not None:
            self.pty_in.write(data)
        elif self.transport is not None:
            stdin = self.transport.get_pipe_transport(0)
            if stdin is not None and not stdin.is_closing():
                cast(asyncio.WriteTransport, stdin).write(data)

    def eof_received(self) -> bool:
        if self.sftp is not None:
            return bool(self.sftp.eof_received())
        if self.early_input is not None:
            self.early_eof = True
        elif self.transport is not None and self.pty_in is None:
            stdin = self.transport.get_pipe_transport(0)
            if stdin is not None:
                stdin.close()
        return True  # keep our side open: the command's output may still be coming

    def output(self, fd: int, data: bytes) -> None:
        if self.finished:
            return
        if fd == 2:
            self.chan.write_stderr(data)
        else:
            self.chan.write(data)

    def pause_writing(self) -> None:  # the client is slower than the command
        if self.sftp is not None:
            self.sftp.pause_writing()
            return
        for reader in self._readers():
            reader.pause_reading()

    def resume_writing(self) -> None:
        if self.sftp is not None:
            self.sftp.resume_writing()
            return
        for reader in self._readers():
            reader.resume_reading()

    def _readers(self) -> list[Any]:
        if self.pty_out is not None:
            return [self.pty_out]
        if self.transport is None:
            return []
        pipes = (self.transport.get_pipe_transport(fd) for fd in (1, 2))
        return [p for p in pipes if p is not None and not p.is_closing()]

    def pause_input(self) -> None:
        self.chan.pause_reading()

    def resume_input(self) -> None:
        # Not synchronously: asyncio's pipe transport calls us from its flush and would close
        # the pipe with our fresh writes unsent if the client's EOF were delivered right here.
        asyncio.get_running_loop().call_soon(self._resume_input)

    def _resume_input(self) -> None:
        if not self.finished:
            self.chan.resume_reading()

    # Terminal and signals --------------------------------------------------------------
    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:
        if self.master is not None:
            _set_winsize(self.master, (width, height, pixwidth, pixheight))

    def signal_received(self, signal_name: str) -> None:
        sig = _signal_number(signal_name)
        if sig is None:
            return
        target = self.pgid if self.pgid and _leads_our_group(self.pgid) else None
        if self.master is not None:
            try:
                target = os.tcgetpgrp(self.master)  # the job in the terminal's foreground
            except OSError:
                pass
        _killpg(target, sig)

    def break_received(self, msec: int) -> bool:
        return False

    # Ending ----------------------------------------------------------------------------
    def output_closed(self, fd: int) -> None:
        self.open_outputs.discard(fd)
        self._maybe_finish()

    def exited(self, returncode: int | None) -> None:
        self.returncode = returncode
        if self.finished:  # the client left first; only the process was left to reap
            self._release()
            return
        if self.master is not None and self.open_outputs:
            # Background jobs may hold the terminal open; do not wait for them forever.
            asyncio.get_running_loop().call_later(_PTY_DRAIN_S, self._drained)
        self._maybe_finish()

    def _drained(self) -> None:
        self.open_outputs.clear()
        self._maybe_finish()

    def _maybe_finish(self) -> None:
        if self.finished or self.returncode is None or self.open_outputs:
            return
        self.finished = True
        code = self.returncode
        if code < 0:
            name = signal.Signals(-code).name.removeprefix("SIG")
            self.chan.exit_with_signal(name, False, "", "")
        else:
            self.chan.exit(code)
        self._release()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.sftp is not None:
            self.sftp.connection_lost(exc)
            _close_session(self.session_file)
            self.session_file = None
            return
        if not self.finished and self.returncode is None:
            # The client went away: hang up on the command, as sshd does when a terminal closes.
            _hang_up(self.pgid)
        self.finished = True
        self._release()

    def _release(self) -> None:
        _close_session(self.session_file)
        self.session_file = None
        for t in (self.pty_out, self.pty_in):
            if t is not None:
                t.close()
        self.pty_out = self.pty_in = None
        if self.master is not None:
            os.close(self.master)
            self.master = None
        if self.transport is not None and self.returncode is not None:
            self.transport.close()


class _Upstream(asyncio.Protocol):
    """The node-side TCP connection of a forwarded port."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.session: ForwardSession | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.pause_reading()  # type: ignore[attr-defined]  # until the channel is open

    def data_received(self, data: bytes) -> None:
        if self.session is not None:
            self.session.chan.write(data)

    def eof_received(self) -> bool:
        if self.session is not None:
            self.session.chan.write_eof()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        if self.session is not None:
            self.session.chan.close()

    def pause_writing(self) -> None:
        if self.session is not None:
            self.session.chan.pause_reading()

    def resume_writing(self) -> None:
        # Deferred for the same reason as NodeSession.resume_input.
        if self.session is not None:
            asyncio.get_running_loop().call_soon(self.session.chan.resume_reading)


class ForwardSession(asyncssh.SSHTCPSession[bytes]):
    """A `ssh -L` connection to a port on the node, counted as use of the node while open."""

    def __init__(self, node: Node, upstream: _Upstream) -> None:
        self.node, self.upstream = node, upstream
        self.chan: Any = None
        self.session_file: Path | None = None

    def connection_made(self, chan: Any) -> None:
        self.chan = chan
        self.upstream.session = self
        self.session_file = self.node.open_session("forward")
        assert self.upstream.transport is not None
        self.upstream.transport.resume_reading()

    def data_received(self, data: bytes, datatype: int | None) -> None:
        assert self.upstream.transport is not None
        self.upstream.transport.write(data)

    def eof_received(self) -> bool:
        assert self.upstream.transport is not None
        if self.upstream.transport.can_write_eof():
            self.upstream.transport.write_eof()
        return True

    def pause_writing(self) -> None:
        if self.upstream.transport is not None:
            self.upstream.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.upstream.transport is not None:
            self.upstream.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        _close_session(self.session_file)
        self.session_file = None
        if self.upstream.transport is not None:
            self.upstream.transport.close()


class NodeServer(asyncssh.SSHServer):
    """Per-connection policy: the user's key only, sessions, and forwards to the node itself."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.node.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.node.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        # Read per connection, so a rewritten authorized_keys takes effect without a restart.
        assert self.conn is not None
        try:
            self.conn.set_authorized_keys(str(self.node.node_dir / "authorized_keys"))
        except (OSError, ValueError) as e:
            log.warning("cannot read authorized_keys: %s", e)
            self.conn.set_authorized_keys(asyncssh.import_authorized_keys(""))
        return True

    def password_auth_supported(self) -> bool:
        return False

    def session_requested(self) -> NodeSession:
        return NodeSession(self.node)

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str,
                             orig_port: int) -> Any:
        if dest_host not in _LOCAL_HOSTS:
            raise asyncssh.ChannelOpenError(
                asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED,
                "only ports on the node itself (127.0.0.1) can be forwarded")
        return self._forward(dest_host, dest_port)

    async def _forward(self, host: str, port: int) -> ForwardSession:
        loop = asyncio.get_running_loop()
        try:
            _, upstream = await loop.create_connection(_Upstream, host, port)
        except OSError as e:
            raise asyncssh.ChannelOpenError(asyncssh.OPEN_CONNECT_FAILED, str(e)) from None
        return ForwardSession(self.node, upstream)

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        return False  # remote forwarding (`ssh -R`) is not offered


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


async def _listen(node: Node, port: int) -> Any:
    def make_server() -> NodeServer:
        return NodeServer(node)

    options: dict[str, Any] = {
        "server_factory": make_server, "server_host_keys": [str(node.node_dir / "host_key")],
        "encoding": None, "allow_pty": True, "agent_forwarding": False,
        "x11_forwarding": False, "reuse_address": True}
    try:
        return await asyncssh.listen("127.0.0.1", port, **options)
    except OSError as e:
        if port == 0 or e.errno != errno.EADDRINUSE:
            raise
        log.info("port %d is taken; taking any free port", port)
        return await asyncssh.listen("127.0.0.1", 0, **options)


async def serve(node_dir: Path, disk: Path, port: int = 0) -> None:
    """Serve until SIGTERM or SIGINT, then close every connection and return."""
    node = Node(node_dir, disk)
    # Sessions of a previous run (ended by SIGKILL) are over: the idle probe must not count them.
    shutil.rmtree(node.sessions_dir, ignore_errors=True)
    node.sessions_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(disk)  # SFTP resolves relative paths against the cwd: make it HOME
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await _listen(node, port)
    bound = server.sockets[0].getsockname()[1]
    _write_atomic(node_dir / "port", f"{bound}\n")
    log.info("node listening on 127.0.0.1:%d (pid %d)", bound, os.getpid())
    await stop.wait()
    log.info("stopping: closing %d connection(s)", len(node.connections))
    server.close()
    for conn in list(node.connections):
        conn.close()
    try:
        await asyncio.wait_for(server.wait_closed(), 2.0)
    except asyncio.TimeoutError:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m skytui.providers.local.node")
    parser.add_argument("--node-dir", required=True, type=Path)
    parser.add_argument("--disk", required=True, type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    node_dir, disk = args.node_dir.resolve(), args.disk.resolve()
    _write_atomic(node_dir / "pid", f"{os.getpid()}\n")
    logging.basicConfig(filename=str(node_dir / "node.log"), level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    disk.mkdir(parents=True, exist_ok=True)
    code = 0
    try:
        asyncio.new_event_loop().run_until_complete(serve(node_dir, disk, args.port))
    except Exception:
        log.exception("node failed")
        code = 1
    # Leave at once: the connections are closed and their commands hung up; waiting for
    # half-started sessions to unwind could keep a stopping node alive for no one.
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    main()
