"""Launch to UP on the local cloud (1 node, and 8 nodes in parallel) and `skytui exec NAME -- true`.

Everything runs in a throwaway XDG sandbox. Baseline in the same run: a bare `ssh`-free
process start (`python -c pass`), so numbers from different machines compare.
Run: python -m bench.bench_launch
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


async def launch_once(name: str, nodes: int) -> float:
    from skytui.core import clusters
    from skytui.core.context import Core
    from skytui.task.spec import Task

    core = Core()
    t0 = time.perf_counter()
    await clusters.launch(core, name, Task(num_nodes=nodes), clusters.LaunchOptions())
    took = time.perf_counter() - t0
    await core.aclose()
    return took


async def down(name: str) -> None:
    from skytui.core import clusters
    from skytui.core.context import Core

    core = Core()
    await clusters.down(core, name)
    await core.aclose()


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "HOME"):
            os.environ[var] = str(Path(d) / var.lower())
            Path(os.environ[var]).mkdir()
        base = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            base.append(time.perf_counter() - t0)
        one = []
        for i in range(3):
            one.append(asyncio.run(launch_once(f"one{i}", 1)))
            asyncio.run(down(f"one{i}"))
        eight = asyncio.run(launch_once("eight", 8))
        env = dict(os.environ)
        asyncio.run(launch_once("ex", 1))
        rt = []
        for _ in range(7):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "skytui.cli.main", "exec", "ex", "--", "true"], check=True,
                           env=env, stdout=subprocess.DEVNULL)
            rt.append(time.perf_counter() - t0)
        asyncio.run(down("eight"))
        asyncio.run(down("ex"))
        print(f"baseline python -c pass          {statistics.median(base) * 1000:7.0f} ms")
        print(f"launch to UP, 1 node (median/3)  {statistics.median(one):7.2f} s   (target 3 s)")
        print(f"launch to UP, 8 nodes parallel   {eight:7.2f} s   (target 6 s)")
        print(f"skytui exec NAME -- true         {statistics.median(rt):7.2f} s   (target 0.5 s; "
              f"{statistics.median(rt) / statistics.median(base):.1f}x bare python)")


if __name__ == "__main__":
    main()
