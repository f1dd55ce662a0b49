"""Time parse_probe_output over a fleet of 200 nodes x 8 GPUs; target: at most 200 µs per GPU line.

Run from the repository root: python -m bench.bench_telemetry_parse
"""

from __future__ import annotations

import random
import time

from skytui.core.telemetry.parse import parse_probe_output
from skytui.core.telemetry.probe import MARK, PROBE_FIELDS_APPS, PROBE_FIELDS_GPU

NODES, GPUS = 200, 8
TARGET_US = 200.0


def node_output(rng: random.Random, node: int) -> str:
    """Probe output of one busy 8 x H200 node, shaped like the real capture."""
    lines = [f"{MARK} begin 1", f"{MARK} gpu {','.join(PROBE_FIELDS_GPU)}"]
    apps = []
    for i in range(GPUS):
        uuid = f"GPU-{node:08x}-533d-7cad-6721-{i:012x}"
        util = rng.choice(["0", "100", "37", "[N/A]"])
        lines.append(
            f"{i}, NVIDIA H200, {uuid}, {util}, {rng.randint(0, 40)}, {rng.randint(0, 143000)}, "
            f"143771, {rng.randint(30, 80)}, {rng.uniform(80, 700):.2f}, 700.00, Disabled"
        )
        apps.append(f"{uuid}, {1000 + i}, python3, {rng.randint(1, 140000)}")
    lines += [f"{MARK} gpu-rc 0", f"{MARK} apps {','.join(PROBE_FIELDS_APPS)}", *apps]
    lines += [f"{MARK} apps-rc 0", f"{MARK} loadavg", "0.07 0.02 0.00 1/203 444"]
    lines += [f"{MARK} meminfo", "MemTotal:       131981020 kB", "MemAvailable:   131468756 kB"]
    lines += [f"{MARK} end", ""]
    return "\n".join(lines)


def main() -> None:
    rng = random.Random(7)
    outputs = [node_output(rng, n) for n in range(NODES)]
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        samples = [parse_probe_output(text, 0.0) for text in outputs]
        best = min(best, time.perf_counter() - start)
    assert all(s.status == "ok" and len(s.gpus) == GPUS for s in samples)
    per_line_us = best / (NODES * GPUS) * 1e6
    print(f"parse_probe_output: {NODES} nodes x {GPUS} GPUs in {best * 1e3:.1f} ms (best of 7)")
    print(f"  {per_line_us:.1f} µs per GPU line (incl. its process line and node sections)")
    print(f"  target {TARGET_US:.0f} µs per GPU line: {TARGET_US / per_line_us:.0f}x headroom")


if __name__ == "__main__":
    main()
