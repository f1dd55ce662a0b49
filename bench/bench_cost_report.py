"""Benchmark: `skytui cost-report --format csv` over 100,000 usage intervals in a seeded store.

Run: python bench/bench_cost_report.py [--n 100000] [--repeat 3]
Seeds a throwaway store (XDG_DATA_HOME in a temp dir), then prints, best of --repeat:
the whole process through the CLI (the 1 s target; after one warm-up run, with bytecode
cached as an installed package has it), a bare `python -c pass` measured in the same run
(the floor, and the ratio against it), and the in-process phases.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_S = 1.0
T = TypeVar("T")


def best(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Best wall time of `repeat` runs and the last result."""
    times: list[float] = []
    result: T
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def seed(data_home: Path, n: int, seed_value: int) -> float:
    """Fill a fresh store under `data_home` with `n` generated intervals; return a `now` after them."""
    os.environ["XDG_DATA_HOME"] = str(data_home)
    from skytui.core.costs.sample import generate_intervals
    from skytui.store import open_store

    intervals = generate_intervals(n, seed_value)
    cols = [name for name in intervals[0]._fields if name != "id"]
    store = open_store()
    with store.db.transaction() as conn:
        conn.executemany(
            f"INSERT INTO usage_intervals({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
            [tuple(getattr(iv, k) for k in cols) for iv in intervals],
        )
    store.close()
    return max(iv.ended_at or iv.started_at for iv in intervals) + 3600


def run_process(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="skytui-bench-") as tmp:
        t_seed, now = best(lambda: seed(Path(tmp), args.n, args.seed), 1)
        print(f"store seeded with {args.n:,} intervals in {t_seed:.2f} s")
        env = {**os.environ, "XDG_DATA_HOME": tmp, "PYTHONPATH": str(ROOT)}
        # Cache bytecode, as an installed package has it (this workplace sets the variable).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cli = [sys.executable, "-c", "import sys; from skytui.cli.main import main; sys.exit(main())",
               "cost-report", "--format", "csv", "--since", "3000d"]

        # Whole process, as a user runs it: interpreter start, imports, query, price, write.
        run_process(cli, env)  # warm-up: bytecode written, the store file in the page cache
        t_bare, _ = best(lambda: run_process([sys.executable, "-c", "pass"], env), args.repeat)
        runs = [run_process(cli, env) for _ in range(args.repeat)]
        t_cli, t_median = min(runs), statistics.median(runs)
        verdict = "meets" if t_median <= TARGET_S else "MISSES"
        print(f"python -c pass:                      {t_bare:.3f} s")
        print(f"skytui cost-report --format csv:     {t_cli:.3f} s best, {t_median:.3f} s median of {args.repeat}  "
              f"({t_cli / t_bare:.1f}x bare python; the median {verdict} the {TARGET_S:.0f} s target)")

        # The same work in-process: the CSV stream on one process and on every core,
        # then the other formats, which build the whole report first.
        from skytui.core.costs.export import _cores, csv_report
        from skytui.core.costs.from_store import intervals as load_intervals
        from skytui.core.costs.report import CURRENCY, build_report, render
        from skytui.store import open_store

        store = open_store()
        for workers in sorted({1, min(_cores(), 8)}):
            t_csv, size = best(lambda w=workers: sum(len(c) for c in csv_report(
                store, since=None, until=None, now=now, currency=CURRENCY, workers=w)), args.repeat)
            print(f"  csv export, {workers} process(es)  {t_csv:.3f} s  ({t_csv / args.n * 1e6:.2f} us/interval, "
                  f"{size / 1e6:.1f} MB)")
        t_load, ivs = best(lambda: load_intervals(store), args.repeat)
        t_build, report = best(lambda: build_report(ivs, since=None, by="cluster", now=now), args.repeat)
        print(f"  load intervals      {t_load:.3f} s  ({t_load / args.n * 1e6:.2f} us/interval)")
        print(f"  build_report        {t_build:.3f} s  ({t_build / args.n * 1e6:.2f} us/interval)")
        for fmt in ("csv", "table", "json", "markdown", "html", "focus"):
            t_fmt, out = best(lambda fmt=fmt: render(report, fmt), args.repeat)
            print(f"  render {fmt:<12} {t_fmt:.3f} s  ({len(out) / 1e6:.1f} MB)")
        store.close()


if __name__ == "__main__":
    main()
