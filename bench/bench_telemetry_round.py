"""One GPU sampling round over the fleet; target: 200 nodes x 8 GPUs in at most 1 s wall.

Two measurements, printed separately:
  A. in-process transport, 200 nodes x 8 GPUs: our own overhead (scheduling, parsing, history,
     the per-minute store write) with no SSH and no node processes;
  B. real local-cloud nodes (default 16, `--real-nodes N`), each a node process answering over
     real SSH with a stand-in `nvidia-smi` (a shell script printing 8 GPUs, as fast as a
     warm driver): the whole path, on as many nodes as this host can hold.

Run from the repository root: python bench/bench_telemetry_round.py [--real-nodes 32]
It works in a throwaway HOME and stops every node it started; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_S = 1.0
NODES, GPUS = 200, 8
ROUNDS = 7
T0 = 1_795_875_000.0


def gpu_lines(node: int) -> tuple[list[str], list[str]]:
    """`--query-gpu` and `--query-compute-apps` rows of one busy 8 x H200 node (probe field order)."""
    gpus, apps = [], []
    for i in range(GPUS):
        uuid = f"GPU-{node:08x}-533d-7cad-6721-{i:012x}"
        gpus.append(f"{i}, NVIDIA H200, {uuid}, {(node + i * 13) % 101}, 22, 29623, 143771, 61, "
                    f"690.12, 700.00, Disabled")
        apps.append(f"{uuid}, {1000 + i}, python3, 29614")
    return gpus, apps


def probe_output(node: int) -> str:
    from skytui.core.telemetry.probe import MARK, PROBE_FIELDS_APPS, PROBE_FIELDS_GPU

    gpus, apps = gpu_lines(node)
    return "\n".join([
        f"{MARK} begin 1", f"{MARK} gpu {','.join(PROBE_FIELDS_GPU)}", *gpus, f"{MARK} gpu-rc 0",
        f"{MARK} apps {','.join(PROBE_FIELDS_APPS)}", *apps, f"{MARK} apps-rc 0",
        f"{MARK} loadavg", "0.07 0.02 0.00 1/203 444", f"{MARK} meminfo",
        "MemTotal:       131981020 kB", "MemAvailable:   131468756 kB", f"{MARK} end", ""])


def sandbox() -> Path:
    """A throwaway HOME and XDG tree, so the bench never touches the user's state."""
    root = Path(tempfile.mkdtemp(prefix="skytui-bench-"))
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache"), ("HOME", "home")):
        (root / sub).mkdir()
        os.environ[var] = str(root / sub)
    return root


def report(label: str, nodes: int, first: float, steady: list[float],
           cpu: list[float] | None = None) -> None:
    med = statistics.median(steady)
    per_node_ms = med / nodes * 1000
    print(f"{label}: {nodes} nodes x {GPUS} GPUs")
    print(f"  first round:              {first * 1000:8.1f} ms")
    print(f"  later rounds, median:     {med * 1000:8.1f} ms  (min {min(steady) * 1000:.1f}, "
          f"max {max(steady) * 1000:.1f}; {per_node_ms:.2f} ms per node)")
    if cpu:
        cpu_ms = statistics.median(cpu) * 1000
        print(f"  sampler's own CPU/round:  {cpu_ms:8.1f} ms  ({cpu_ms / nodes:.2f} ms per node, so "
              f"~{cpu_ms / nodes * NODES:.0f} ms for {NODES} nodes; the rest is the nodes' side)")
    if nodes != NODES:
        print(f"  linear to {NODES} nodes:      {per_node_ms * NODES:8.1f} ms  (an estimate with "
              f"every node's probe processes on this host's {os.cpu_count()} CPUs too)")
    verdict = "within" if med * NODES / nodes <= TARGET_S else "OVER"
    print(f"  target {TARGET_S:g} s for {NODES} nodes, by that figure: {verdict}")
    if cpu:
        own = statistics.median(cpu) * NODES / nodes
        print(f"  target {TARGET_S:g} s for {NODES} nodes, sampler side only: "
              f"{'within' if own <= TARGET_S else 'OVER'}")


async def in_process() -> None:
    from skytui.config_model import Config
    from skytui.core.context import Core
    from skytui.core.telemetry.sampler import Sampler
    from skytui.store import Cluster, Node

    now = [T0]
    core = Core(config=Config(), clock=lambda: now[0])
    for c in range(NODES // 8):
        name = f"fleet{c:02d}"
        core.store.create_cluster(Cluster(name=name, cloud="aws", status="UP", user="bench",
                                          updated_at=T0, num_nodes=8))
        core.store.set_nodes(name, [Node(cluster=name, rank=r, host="10.0.0.1", port=22)
                                    for r in range(8)])
    outputs = {f"fleet{n // 8:02d}/{n % 8}": probe_output(n) for n in range(NODES)}

    async def transport(cluster, node, command, timeout):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0)  # answer on a later loop turn, as a socket read would
        return outputs[f"{cluster.name}/{node.rank}"]

    sampler = Sampler(core, interval=5, transport=transport)
    times = []
    for i in range(ROUNDS + 1):
        now[0] = T0 + 5 * i + (60 if i == ROUNDS else 0)  # the last round closes a minute
        t = time.perf_counter()
        snaps = await sampler.round()
        times.append(time.perf_counter() - t)
        assert sum(len(s.gpus) for s in snaps) == NODES * GPUS
    report("A. in-process transport (our overhead only)", NODES, times[0], times[1:-1])
    print(f"  round that also writes {NODES * GPUS} per-minute rows: {times[-1] * 1000:.1f} ms")
    await core.aclose()


STAND_IN = """#!/bin/sh
# A stand-in nvidia-smi for the bench: the node's 8 GPUs, printed from files.
case "$*" in
  *--query-gpu=*) exec cat {gpus} ;;
  *--query-compute-apps=*) exec cat {apps} ;;
esac
echo "stand-in: unsupported arguments" >&2
exit 2
"""


async def real_nodes(count: int, root: Path) -> None:
    from skytui.config_model import Config
    from skytui.core import clusters
    from skytui.core.context import Core
    from skytui.core.telemetry.probe import probe_command
    from skytui.core.telemetry.sampler import Sampler, ssh_transport
    from skytui.task.spec import Resources, Task

    smi = root / "smi"
    smi.mkdir()
    gpus, apps = gpu_lines(0)
    (smi / "gpus.csv").write_text("\n".join(gpus) + "\n")
    (smi / "apps.csv").write_text("\n".join(apps) + "\n")
    script = smi / "nvidia-smi"
    script.write_text(STAND_IN.format(gpus=smi / "gpus.csv", apps=smi / "apps.csv"))
    script.chmod(0o755)
    os.environ["PATH"] = f"{smi}{os.pathsep}{os.environ['PATH']}"  # node processes inherit it

    core = Core(config=Config())
    per_cluster = 8
    names = [f"bench{i}" for i in range((count + per_cluster - 1) // per_cluster)]
    ssh = ssh_transport(core)

    async def transport(cluster, node, command, timeout):  # type: ignore[no-untyped-def]
        # These are CPU nodes, so the local cloud's "GPUs given to this node" filter would hide
        # the stand-in's 8 GPUs: send the plain probe (one echo less) to read all of them.
        return await ssh(cluster, node, probe_command(), timeout)

    try:
        t = time.perf_counter()
        left = count
        for name in names:
            n = min(per_cluster, left)
            left -= n
            await clusters.launch(core, name, Task(num_nodes=n, resources=(Resources(cloud="local"),)),
                                  clusters.LaunchOptions())
        print(f"(launched {count} local-cloud nodes in {time.perf_counter() - t:.1f} s)")
        sampler = Sampler(core, interval=5, transport=transport, record_minutes=False)
        times, cpu = [], []
        for _ in range(ROUNDS + 1):
            t, c = time.perf_counter(), time.process_time()
            snaps = await sampler.round(wait=60)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            bad = [s for s in snaps if s.status != "ok" or len(s.gpus) != GPUS]
            if bad:
                print(f"  warning: {len(bad)} node(s) without 8 GPUs: {bad[0].status} {bad[0].detail}")
        report("B. real local-cloud nodes over SSH (whole path)", count, times[0], times[1:], cpu[1:])
    finally:
        for name in names:
            if core.store.cluster(name) is not None:
                await clusters.down(core, name)
        await core.aclose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real-nodes", type=int, default=16, help="local-cloud nodes to start (0: skip)")
    args = ap.parse_args()
    sandbox()
    print(f"target: one round over {NODES} nodes x {GPUS} GPUs in at most {TARGET_S:g} s wall "
          f"(host: {os.cpu_count()} CPUs)\n")
    asyncio.run(in_process())
    print()
    if args.real_nodes > 0:
        asyncio.run(real_nodes(args.real_nodes, sandbox()))  # a fresh state: none of A's fleet


if __name__ == "__main__":
    main()
