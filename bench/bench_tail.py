"""Log throughput node -> client: skytui's `tail` against OpenSSH `ssh NODE cat FILE`.

Run: `cd REPO && python bench/bench_tail.py [LINES]`. Prints lines/s for both and the ratio
(goal: tail >= 50,000 lines/s and >= 0.5x OpenSSH).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from remote_helpers import start_node, write_ssh_config

from skytui.remote.pool import SSHPool
from skytui.remote.tail import tail


async def time_tail(addr: object, expect: int) -> float:
    async with SSHPool() as pool:
        await pool.connection(addr)  # type: ignore[arg-type]  # measure streaming, not the handshake
        start = time.perf_counter()
        got = 0
        async for ev in tail(pool, addr, "bench", follow=False):  # type: ignore[arg-type]
            got += len(ev.data)
        elapsed = time.perf_counter() - start
    assert got == expect, (got, expect)
    return elapsed


def time_openssh(config: Path, name: str, path: str, expect: int) -> float:
    start = time.perf_counter()
    out = subprocess.run(["ssh", "-F", str(config), name, f"cat {path}"], capture_output=True,
                         check=True)
    elapsed = time.perf_counter() - start
    assert len(out.stdout) == expect
    return elapsed


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        node = start_node(root, "bench")
        try:
            jdir = node.disk / ".skytui" / "jobs" / "bench"
            jdir.mkdir(parents=True)
            log = jdir / "log"
            with open(log, "wb") as f:
                f.writelines(b"step %7d loss=%.5f lr=3.0e-4 tokens/s=123456 gpu_util=97%%\n"
                             % (i, 1.0 / (i + 1)) for i in range(lines))
            (jdir / "exit_code").write_text("0\n")
            size = log.stat().st_size
            config = write_ssh_config(root, [node])
            tail_s = min(asyncio.run(time_tail(node.addr, size)) for _ in range(3))
            ssh_s = min(time_openssh(config, "bench", str(log), size) for _ in range(3))
            # OpenSSH pays its handshake inside the measurement; take it out for a fair figure.
            hello_s = min(time_openssh(config, "bench", "/dev/null", 0) for _ in range(3))
        finally:
            node.stop()
    tail_rate, ssh_rate = lines / tail_s, lines / ssh_s
    print(f"file: {lines} lines, {size / 1e6:.1f} MB")
    print(f"skytui tail : {tail_rate:12,.0f} lines/s  ({size / tail_s / 1e6:6.1f} MB/s)")
    print(f"openssh cat : {ssh_rate:12,.0f} lines/s  ({size / ssh_s / 1e6:6.1f} MB/s)")
    stream_rate = lines / max(ssh_s - hello_s, 1e-9)
    print(f"openssh cat, handshake ({hello_s * 1000:.0f} ms) excluded: {stream_rate:,.0f} lines/s")
    print(f"ratio tail/openssh: {tail_rate / ssh_rate:.2f}; without the handshake: "
          f"{tail_rate / stream_rate:.2f} (goal >= 0.5; tail >= 50,000 lines/s)")


if __name__ == "__main__":
    main()
