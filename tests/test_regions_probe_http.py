"""The probe's HTTP(S) client against real servers: TLS with name lookup, no keep-alive, chunked."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from skytui.core.regions.probe import probe_all


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    key, crt = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(crt), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return key, crt


async def _serve(handler, tls: ssl.SSLContext | None = None) -> tuple[asyncio.AbstractServer, int]:  # type: ignore[no-untyped-def]
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    return server, server.sockets[0].getsockname()[1]


async def _read_request(reader: asyncio.StreamReader) -> bool:
    if not await reader.readline():
        return False
    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
        pass
    return True


async def _keepalive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while await _read_request(reader):
            await asyncio.sleep(0.03)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nhealthy")
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def test_https_with_a_name_lookup_and_tls(cert: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from skytui.core.regions import probe

    key, crt = cert
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(crt, key)
    server, port = await _serve(_keepalive, server_ctx)
    try:
        # The probe verifies certificates against the default store; trust this one only.
        client = ssl.create_default_context(cafile=str(crt))
        monkeypatch.setattr(probe, "_ssl_context", client)
        out = await probe_all({"r": f"https://localhost:{port}/ping"}, bound_s=5)
        r = out["r"]
        assert r.error is None and len(r.rtts_ms) == 3
        assert 30 <= (r.rtt_ms or 0) < 30 + 150 and (r.first_ms or 0) >= 30
        monkeypatch.setattr(probe, "_ssl_context", ssl.create_default_context())  # untrusted now
        bad = (await probe_all({"r": f"https://localhost:{port}/ping"}, bound_s=5))["r"]
        assert bad.rtt_ms is None and bad.error is not None and bad.error.startswith("TLS:")
    finally:
        server.close()


async def test_a_server_without_keepalive_and_with_chunked_answers() -> None:
    seen = {"connections": 0}

    async def close_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen["connections"] += 1
        if await _read_request(reader):
            await asyncio.sleep(0.02)
            writer.write(b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"4\r\nnope\r\n0\r\n\r\n")
            await writer.drain()
        writer.close()

    server, port = await _serve(close_each)
    try:
        r = (await probe_all({"r": f"http://127.0.0.1:{port}/"}, bound_s=5))["r"]
    finally:
        server.close()
    # Any answer is a round trip; each one came on a fresh connection (made outside the timing).
    assert r.error is None and len(r.rtts_ms) == 3 and 20 <= (r.rtt_ms or 0) < 20 + 150
    assert seen["connections"] == 4


async def test_garbage_instead_of_http_is_an_error() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        await writer.drain()
        writer.close()

    server, port = await _serve(garbage)
    try:
        r = (await probe_all({"r": f"http://127.0.0.1:{port}/"}, bound_s=5))["r"]
    finally:
        server.close()
    assert r.rtt_ms is None and r.error == "not an HTTP answer"


async def test_an_unresolvable_name_is_an_error() -> None:
    r = (await probe_all({"r": "https://no-such-region.invalid/ping"}, bound_s=5))["r"]
    assert r.rtt_ms is None and r.error is not None
