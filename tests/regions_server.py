"""Loopback HTTP servers that stand in for cloud regions: each answers after its own delay.

One asyncio loop in a background thread serves every "region" on its own port, keep-alive,
so 40 regions cost one thread. A delay of None accepts the connection and never answers
(a region that times out). Also runnable for the benchmark:
`python tests/regions_server.py 0.05 0.3 none ...` prints one URL per line, then serves.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Sequence


class RegionServers:
    def __init__(self, delays: Sequence[float | None]) -> None:
        self.delays = list(delays)
        self.urls: list[str] = []
        self.requests = [0] * len(self.delays)
        self._servers: list[asyncio.AbstractServer] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="region-servers")

    def __enter__(self) -> RegionServers:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _shutdown(self) -> None:
        for server in self._servers:
            server.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in others:
            t.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        for i, delay in enumerate(self.delays):
            server = self._loop.run_until_complete(
                asyncio.start_server(self._handler(i, delay), "127.0.0.1", 0))
            self._servers.append(server)
            self.urls.append(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/ping")
        self._ready.set()
        self._loop.run_forever()

    def _handler(self, index: int, delay: float | None):  # type: ignore[no-untyped-def]
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    if not await reader.readline():
                        break
                    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    self.requests[index] += 1
                    if delay is None:
                        await asyncio.sleep(3600)
                    await asyncio.sleep(delay or 0)
                    body = b"healthy"
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                    await writer.drain()
            except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
                pass  # a client gone, or the servers shutting down
            finally:
                writer.close()

        return serve


def main(argv: list[str]) -> None:
    delays = [None if a == "none" else float(a) for a in argv]
    with RegionServers(delays) as servers:
        for url in servers.urls:
            print(url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1:])
