"""Benchmark: `skytui cost-report --format csv` over 100,000 usage intervals in a seeded store.

Run: python bench/bench_cost_report.py [--n 100000] [--repeat 3]
Seeds a throwaway store (XDG_DATA_HOME in a temp dir), then prints, best of --repeat:
the whole process through the CLI (the 1 s target; after one warm-up run, with bytecode
cached as an installed package has it), the floor measured in the same run: the sqlite3
command-line shell dumping the same rows with `-csv` (the goal: at most 3x that), and a
bare `python -c pass`, then the in-process phases. The sqlite3 shell is needed by this
benchmark only (apt-get install sqlite3); without it the floor line says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
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
FLOOR_RATIO = 3.0  # the CSV export at most this many times the sqlite3 -csv dump
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
        # The CLI, the floor and bare python take turns, so a change in the machine's load
        # between them moves all three alike (this machine is shared).
        shell = shutil.which("sqlite3")
        dump: list[str] | None = None
        if shell is not None:
            from skytui.core.costs.from_store import COLUMNS
            from skytui.paths import state_db

            # The same rows the export selects (every interval: --since 3000d covers them all).
            sql = f"SELECT {', '.join(COLUMNS)} FROM usage_intervals ORDER BY id"
            dump = [shell, "-csv", "-readonly", str(state_db()), sql]
            run_process(dump, env)
        run_process(cli, env)  # warm-up: bytecode written, the store file in the page cache
        bare_runs: list[float] = []
        cli_runs: list[float] = []
        floor_runs: list[float] = []
        for _ in range(args.repeat):
            bare_runs.append(run_process([sys.executable, "-c", "pass"], env))
            cli_runs.append(run_process(cli, env))
            if dump is not None:
                floor_runs.append(run_process(dump, env))
        t_bare = min(bare_runs)
        t_cli, t_median = min(cli_runs), statistics.median(cli_runs)
        verdict = "meets" if t_median <= TARGET_S else "MISSES"
        print(f"python -c pass:                      {t_bare:.3f} s")
        print(f"skytui cost-report --format csv:     {t_cli:.3f} s best, {t_median:.3f} s median of {args.repeat}  "
              f"({t_cli / t_bare:.1f}x bare python; the median {verdict} the {TARGET_S:.0f} s target)")
        if dump is None:
            print("sqlite3 -csv floor:                  not measured (no sqlite3 shell; apt-get install sqlite3)")
        else:
            t_floor = min(floor_runs)
            ratio = t_cli / t_floor
            print(f"sqlite3 -csv, the same rows (floor): {t_floor:.3f} s  -> export is {ratio:.1f}x the floor "
                  f"({'meets' if ratio <= FLOOR_RATIO else 'MISSES'} the {FLOOR_RATIO:.0f}x goal; "
                  f"medians {t_median / statistics.median(floor_runs):.1f}x)")

        # The same work in-process: the CSV export, then the other formats, which build
        # the whole report first.
        from skytui.core.costs.export import csv_report
        from skytui.core.costs.from_store import intervals as load_intervals
        from skytui.core.costs.report import CURRENCY, build_report, render
        from skytui.store import open_store

        store = open_store()
        t_csv, size = best(lambda: sum(len(c) for c in csv_report(
            store, since=None, until=None, now=now, currency=CURRENCY)), args.repeat)
        print(f"  csv export          {t_csv:.3f} s  ({t_csv / args.n * 1e6:.2f} us/interval, {size / 1e6:.1f} MB)")
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
