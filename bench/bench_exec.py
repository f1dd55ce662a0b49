"""Round trip of `true` on a node: over a warm pooled connection and over a cold one.

Run: `cd REPO && python bench/bench_exec.py [N]`. Prints median and p90 in ms.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from remote_helpers import start_node

from skytui.remote.exec import run
from skytui.remote.pool import NodeAddress, SSHPool


def summary(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    return f"median {statistics.median(ms):7.2f} ms   p90 {ms[int(len(ms) * 0.9)]:7.2f} ms"


async def warm(addr: NodeAddress, n: int) -> list[float]:
    async with SSHPool() as pool:
        await run(pool, addr, "true")
        samples = []
        for _ in range(n):
            start = time.perf_counter()
            result = await run(pool, addr, "true")
            samples.append(time.perf_counter() - start)
            assert result.ok
        return samples


async def cold(addr: NodeAddress, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        async with SSHPool() as pool:
            result = await run(pool, addr, "true")
        samples.append(time.perf_counter() - start)
        assert result.ok
    return samples


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        node = start_node(Path(tmp), "bench")
        up = time.perf_counter() - start
        try:
            warm_s = asyncio.run(warm(node.addr, n))
            cold_s = asyncio.run(cold(node.addr, max(10, n // 10)))
        finally:
            node.stop()
    print(f"node start (spawn to port file): {up * 1000:.0f} ms")
    print(f"warm pooled `true`: {summary(warm_s)}   (n={len(warm_s)})")
    print(f"cold connect+`true`: {summary(cold_s)}   (n={len(cold_s)})")


if __name__ == "__main__":
    main()
