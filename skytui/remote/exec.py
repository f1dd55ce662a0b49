"""Run one shell command on a node and collect (or stream) its output and exit status."""

from __future__ import annotations

import asyncio
import codecs
import re
import shlex
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from skytui.errors import RemoteError
from skytui.remote.pool import NodeAddress, SSHPool, connect_error, is_connection_loss

if TYPE_CHECKING:
    import asyncssh

_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class CompletedRemote:
    """A finished remote command; a command killed by signal N reports 128+N, as shells do."""

    exit_status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


def quote_cmd(argv: Sequence[str]) -> str:
    """Join an argument vector into one shell-safe command string."""
    return " ".join(shlex.quote(str(a)) for a in argv)


def with_env(command: str, env: Mapping[str, str] | None) -> str:
    """Prefix `command` with exports; SSH servers usually refuse client-sent variables."""
    if not env:
        return command
    for name in env:
        if not _ENV_NAME_RE.match(name):
            raise ValueError(f"not a valid environment variable name: {name!r}")
    exports = " ".join(f"{k}={shlex.quote(str(v))}" for k, v in env.items())
    return f"export {exports}; {command}"


def _short(command: str) -> str:
    line = command.strip().splitlines()[0] if command.strip() else command
    return line if len(line) <= 60 else line[:57] + "..."


async def open_process(pool: SSHPool, addr: NodeAddress, command: str,
                       **kwargs: Any) -> asyncssh.SSHClientProcess[bytes]:
    """Start `command` on the node; a pooled connection found dead is replaced once."""
    import asyncssh

    for attempt in (1, 2):
        conn = await pool.connection(addr)
        try:
            return await conn.create_process(command, encoding=None, **kwargs)
        except (OSError, asyncssh.Error) as e:
            # Nothing has run yet when the channel fails to open, so one retry is safe.
            if attempt == 1 and is_connection_loss(e):
                await pool.drop(addr)
                continue
            raise connect_error(addr, e) from None
        except AssertionError:
            # asyncssh asserts that a channel still has its connection while it wires up the
            # process's redirects (stdin=DEVNULL, ...): a connection dropped at that very moment
            # surfaces here instead of as an asyncssh.Error. Nothing ran yet, so retry once.
            if attempt == 1:
                await pool.drop(addr)
                continue
            raise RemoteError(f"{addr.alias}: connection lost while starting `{_short(command)}`") from None
    raise AssertionError("unreachable")


def exit_status_of(proc: asyncssh.SSHClientProcess[Any]) -> int | None:
    """The command's exit status, 128+N for signal N, or None if the connection was lost."""
    if proc.exit_status is not None and proc.exit_status >= 0:
        return int(proc.exit_status)
    if proc.exit_signal:
        sig = getattr(signal, "SIG" + str(proc.exit_signal[0]), None)
        return 128 + int(sig) if sig is not None else 255
    return None


async def _collect(proc: asyncssh.SSHClientProcess[bytes], stream: Any, name: str,
                   on_output: Callable[[str, str], None] | None) -> bytes:
    chunks: list[bytes] = []
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    while True:
        data = await stream.read(65536)
        if not data:
            break
        chunks.append(data)
        if on_output is not None:
            text = decoder.decode(data)
            if text:
                on_output(text, name)
    if on_output is not None:
        tail = decoder.decode(b"", final=True)
        if tail:
            on_output(tail, name)
    return b"".join(chunks)


async def run(pool: SSHPool, addr: NodeAddress, command: str, *,
              env: Mapping[str, str] | None = None, timeout: float | None = None,
              on_output: Callable[[str, str], None] | None = None,
              input: bytes | None = None) -> CompletedRemote:
    """Run a shell command string (built with `quote_cmd`/shlex.quote) on the node.

    `on_output(text, "stdout"|"stderr")` sees output as it arrives; `input` is fed to stdin
    (otherwise stdin is empty). Raises RemoteError if the node cannot be reached, the
    connection drops mid-command or `timeout` seconds pass.
    """
    import asyncssh

    full = with_env(command, env)
    stdin: Any = asyncssh.PIPE if input is not None else asyncssh.DEVNULL
    proc = await open_process(pool, addr, full, stdin=stdin)

    async def finish() -> CompletedRemote:
        if input is not None:
            proc.stdin.write(input)
            proc.stdin.write_eof()
        out, err = await asyncio.gather(_collect(proc, proc.stdout, "stdout", on_output),
                                        _collect(proc, proc.stderr, "stderr", on_output))
        await proc.wait_closed()
        status = exit_status_of(proc)
        if status is None:
            raise RemoteError(f"{addr.alias}: connection lost while running `{_short(command)}`")
        return CompletedRemote(status, out.decode("utf-8", "replace"),
                               err.decode("utf-8", "replace"))

    try:
        return await asyncio.wait_for(finish(), timeout)
    except asyncio.TimeoutError:
        proc.close()  # closing the channel hangs up on the command
        raise RemoteError(f"{addr.alias}: `{_short(command)}` timed out after {timeout:g}s") from None
    except (OSError, asyncssh.Error) as e:
        proc.close()
        if is_connection_loss(e):
            raise RemoteError(
                f"{addr.alias}: connection lost while running `{_short(command)}`") from None
        raise connect_error(addr, e) from None
