"""Catalog load time (cold, fresh process) and plan time for A100:8 spot over all clouds.

Run: `python bench/bench_planner.py` from the repository root. Prints figures beside
their targets; it asserts nothing (timings belong here, not in tests).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOAD_TARGET_MS = 50.0
PLAN_TARGET_MS = 20.0

# Times the import of the catalog module plus reading both CSVs, in a process of its own.
COLD = """
import time
t0 = time.perf_counter()
from skytui.catalog import catalog
t1 = time.perf_counter()
n = len(catalog.offerings(catalog.CATALOG_CLOUDS))
t2 = time.perf_counter()
print((t1 - t0) * 1000, (t2 - t1) * 1000, n)
"""


def cold_load(runs: int = 7) -> tuple[float, float, int]:
    """Median (import ms, load ms) over fresh interpreters, and the offering count."""
    imports, loads, n = [], [], 0
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", COLD], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
        imports.append(float(out[0]))
        loads.append(float(out[1]))
        n = int(out[2])
    return statistics.median(imports), statistics.median(loads), n


def plan_time(runs: int = 300) -> tuple[float, int]:
    """Median ms of one plan for A100:8 spot over aws, gcp and local (catalog warm)."""
    from skytui.core.planner import plan
    from skytui.task.spec import Accelerator, Resources

    request = [Resources(accelerators=(Accelerator("A100", 8),), use_spot=True)]
    clouds = {"aws", "gcp", "local"}
    found = len(plan(request, enabled_clouds=clouds).candidates)  # warm: load catalogs once
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        plan(request, enabled_clouds=clouds)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), found


def main() -> None:
    imp, load, n = cold_load()
    total = imp + load
    print(f"catalog cold load ({n} offerings, fresh process, median of 7):")
    print(f"  import {imp:6.2f} ms + read {load:6.2f} ms = {total:6.2f} ms"
          f"   target {LOAD_TARGET_MS:.0f} ms   ({total / LOAD_TARGET_MS:.2f}x of target)")
    ms, found = plan_time()
    print(f"plan A100:8 use_spot over aws+gcp+local ({found} candidates, median of 300):")
    ratio = ms / PLAN_TARGET_MS
    print(f"  {ms:6.3f} ms   target {PLAN_TARGET_MS:.0f} ms   ({ratio:.3f}x of target)")


if __name__ == "__main__":
    main()
