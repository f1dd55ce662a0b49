"""Round trips to every region at once, over asyncio streams, inside one hard time bound.

Per region: one connection. The first request pays DNS + TCP + TLS + one HTTP exchange
(`first_ms`, what a fresh connection costs); then ROUND_TRIPS requests on the kept-alive
connection, whose median is the region's round-trip time (`rtt_ms`, what every keystroke
of a remote session pays). Any HTTP answer counts, whatever its status: the time is the
network's, not the service's.

The bound is hard: tasks still running at the deadline are cancelled, and name lookups run
in daemon threads, since a stuck resolver cannot be cancelled and must not hold the
process open past the answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import statistics
import threading
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

from skytui.core.regions.targets import LOCAL

ROUND_TRIPS = 3
MAX_BODY = 1 << 20  # a ping answer is tiny; anything bigger is not worth reading
USER_AGENT = "skytui-latency-probe"

K = TypeVar("K", bound=Hashable)


@dataclass
class Probe:
    """What one region's probe saw; filled in as it goes, so a cut-off probe keeps its part."""

    url: str
    first_ms: float | None = None
    rtts_ms: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def rtt_ms(self) -> float | None:
        return round(statistics.median(self.rtts_ms), 3) if self.rtts_ms else None


class _Closed(Exception):
    """The server closed the connection after answering (no keep-alive)."""


async def probe_all(targets: Mapping[K, str], *, bound_s: float,
                    round_trips: int = ROUND_TRIPS) -> dict[K, Probe]:
    """Probe every target concurrently; returns by `bound_s`, whatever the regions do."""
    results = {k: Probe(url) for k, url in targets.items()}
    if not results:
        return results
    server: asyncio.AbstractServer | None = None
    local_url = ""
    if any(url == LOCAL for url in targets.values()):
        server, local_url = await _loopback_server()
    tasks = [asyncio.create_task(_probe(p, local_url if p.url == LOCAL else p.url, round_trips))
             for p in results.values()]
    try:
        _, pending = await asyncio.wait(tasks, timeout=bound_s)
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.wait(pending)
        for p in results.values():
            if p.error is None and not p.rtts_ms:
                p.error = f"no answer within {bound_s:g}s"
    finally:
        if server is not None:
            server.close()
    return results


async def _probe(p: Probe, url: str, round_trips: int) -> None:
    parts = urlsplit(url)
    tls = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if tls else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = parts.netloc.rpartition("@")[2]
    writer: asyncio.StreamWriter | None = None
    try:
        t0 = time.perf_counter()
        reader, writer = await _connect(host, port, tls)
        try:
            await _exchange(reader, writer, host_header, path)
        except _Closed:
            writer = None
        p.first_ms = round((time.perf_counter() - t0) * 1000, 3)
        for _ in range(round_trips):
            if writer is None:  # no keep-alive: a new connection, not timed, then one exchange
                reader, writer = await _connect(host, port, tls)
            t = time.perf_counter()
            try:
                await _exchange(reader, writer, host_header, path)
            except _Closed:
                writer = None
            p.rtts_ms.append((time.perf_counter() - t) * 1000)
    except asyncio.CancelledError:
        raise
    except ssl.SSLError as exc:
        p.error = f"TLS: {exc.reason or exc}"
    except (OSError, EOFError, asyncio.IncompleteReadError, ValueError) as exc:
        p.error = _describe(exc)
    finally:
        if writer is not None:
            writer.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host ({exc.strerror or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "the server closed the connection mid-answer"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text


_ssl_context: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    global _ssl_context
    if _ssl_context is None:  # loading the CA store costs; only https targets need it
        _ssl_context = ssl.create_default_context()
    return _ssl_context


async def _connect(host: str, port: int, tls: bool) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    addresses = await _resolve(host, port)
    last: OSError | None = None
    for family, addr in addresses:
        try:
            return await asyncio.open_connection(
                addr[0], addr[1], family=family, ssl=_tls() if tls else None,
                server_hostname=host if tls else None)
        except OSError as exc:
            last = exc
    raise last or OSError(f"no address for {host}")


async def _resolve(host: str, port: int) -> list[tuple[int, tuple[str, int]]]:
    try:
        ip = ipaddress.ip_address(host)
        return [(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, (host, port))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[list[tuple[int, tuple[str, int]]]] = loop.create_future()

    def settle(result: object, exc: BaseException | None) -> None:
        if not fut.done():
            if exc is not None:
                fut.set_exception(exc)
            else:
                fut.set_result(result)  # type: ignore[arg-type]

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            found = [(int(fam), (str(sa[0]), int(sa[1]))) for fam, _, _, _, sa in infos]
            result: object = list(dict.fromkeys(found))
            err: BaseException | None = None
        except OSError as exc:
            result, err = None, exc
        try:
            loop.call_soon_threadsafe(settle, result, err)
        except RuntimeError:  # the loop is gone: the bound passed and nobody waits
            pass

    # A daemon thread, not the loop's executor: asyncio.run() waits for executor threads.
    threading.Thread(target=lookup, name="skytui-dns", daemon=True).start()
    return await fut


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str) -> None:
    """One GET and its whole answer; raises _Closed when the server will not keep the connection."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n"
                 "Accept: */*\r\nConnection: keep-alive\r\n\r\n".encode("latin-1"))
    await writer.drain()
    status = await reader.readline()
    if not status:
        raise EOFError("the server closed the connection without answering")
    version, _, rest = status.decode("latin-1").partition(" ")
    if not version.startswith("HTTP/") or not rest[:3].isdigit():
        raise ValueError("not an HTTP answer")
    code = int(rest[:3])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    close = headers.get("connection", "").lower() == "close" or (
        version == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive")
    if code in (204, 304) or 100 <= code < 200:
        pass
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        await _read_chunked(reader)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if length > MAX_BODY:
            raise _Closed()
        await reader.readexactly(length)
    else:  # the body runs until the server closes
        await reader.read(MAX_BODY)
        close = True
    if close:
        writer.close()
        raise _Closed()


async def _read_chunked(reader: asyncio.StreamReader) -> None:
    total = 0
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            return
        total += size
        if total > MAX_BODY:
            raise ValueError("answer too large")
        await reader.readexactly(size + 2)


async def _loopback_server() -> tuple[asyncio.AbstractServer, str]:
    """A keep-alive HTTP server on 127.0.0.1 that answers at once: the local cloud's 'region'."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/ping"
