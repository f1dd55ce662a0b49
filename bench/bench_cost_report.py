"""Benchmark: build cost reports over 100,000 usage intervals and render each format.

Run: python bench/bench_cost_report.py [--n 100000] [--repeat 3]
Prints seconds per step (best of --repeat); the 1 s whole-process target for
`skytui costs --format csv` is measured through the CLI, this is the in-process part.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skytui.core.costs import FORMATS, build_report, render
from skytui.core.costs.sample import generate_intervals


def best(fn, repeat: int) -> tuple[float, object]:
    """Best wall time of `repeat` runs and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    t_gen, intervals = best(lambda: generate_intervals(args.n, args.seed), 1)
    now = max(iv.ended_at or iv.started_at for iv in intervals) + 3600
    print(f"intervals: {args.n:,} (generated in {t_gen:.3f} s)")

    t_build, report = best(
        lambda: build_report(intervals, since=None, by="cluster", now=now), args.repeat
    )
    print(f"build_report(by=cluster): {t_build:.3f} s  ({t_build / args.n * 1e6:.2f} us/interval)")
    t_day, _ = best(lambda: build_report(intervals, since=None, by="day", now=now), args.repeat)
    print(f"build_report(by=day):     {t_day:.3f} s")
    rendered: dict[str, float] = {}
    for fmt in FORMATS:
        t_fmt, text = best(lambda fmt=fmt: render(report, fmt), args.repeat)
        rendered[fmt] = t_fmt
        print(f"render {fmt:<9} {t_fmt:.3f} s  {len(text) / 1e6:7.1f} MB")
    print(f"build + csv in-process: {t_build + rendered['csv']:.3f} s")

    # A fresh interpreter: import + build + csv, with generation measured apart and subtracted.
    script = (
        "import time,sys; t=time.perf_counter();"
        "from skytui.core.costs.sample import generate_intervals as g;"
        f"ivs=g({args.n},{args.seed}); gen=time.perf_counter()-t;"
        "from skytui.core.costs import build_report, render;"
        f"r=build_report(ivs, since=None, by='cluster', now={now});"
        "render(r,'csv'); print(time.perf_counter()-t-gen)"
    )
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - t0
    print(
        f"fresh process (minus generation): {float(out.stdout):.3f} s; wall incl. generation "
        f"{wall:.3f} s"
    )


if __name__ == "__main__":
    main()
