"""`skytui status --json` with 1,000 clusters and 10,000 jobs: whole process, cold.

Prints the time against a bare `python -c pass` measured in the same run (the floor any
Python CLI pays), and the import-time of the heavy packages that must stay out of this path.
Run: python -m bench.bench_status
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.25


def seed(data_home: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(data_home)}
    code = r"""
import time, random
from skytui.store import open_store
s = open_store()
now = time.time()
with s.db.transaction() as c:
    c.executemany("INSERT INTO clusters(name, cloud, region, zone, status, user, updated_at, spot, num_nodes,"
                  " instance_type, accelerator, accelerator_count, price_per_hour, launched_at) VALUES"
                  " (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                  [(f"c{i:04d}", "local", "local-1", "a", random.choice(["UP", "STOPPED", "INIT"]), "me", now,
                    i % 2, 1, "local-cpu2", "H100" if i % 3 == 0 else None, 8, 1.5, now) for i in range(1000)])
    c.executemany("INSERT INTO jobs(name, status, task_json, task_id, submitted_at, updated_at, user)"
                  " VALUES (?,?,?,?,?,?,?)",
                  [(f"j{i}", "RUNNING", "{}", f"t{i}", now, now, "me") for i in range(10000)])
"""
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def timed(argv: list[str], env: dict[str, str], runs: int = 15) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        data = Path(d)
        seed(data)
        env = {**os.environ, "XDG_DATA_HOME": str(data)}
        base = timed([sys.executable, "-c", "pass"], env)
        ours = timed([sys.executable, "-m", "skytui.cli.main", "status", "--json"], env)
        # Cold: drop the page cache where we may, and count the first run on its own.
        print(f"python -c pass         median {statistics.median(base) * 1000:7.1f} ms")
        print(f"skytui status --json   median {statistics.median(ours) * 1000:7.1f} ms  "
              f"first {ours[0] * 1000:7.1f} ms  max {max(ours) * 1000:7.1f} ms  (target {TARGET_S * 1000:.0f} ms)")
        print(f"ratio to bare python   {statistics.median(ours) / statistics.median(base):.2f}x")
        imp = subprocess.run([sys.executable, "-X", "importtime", "-m", "skytui.cli.main", "status", "--json"],
                             env=env, capture_output=True, text=True, check=False).stderr
        heavy = [line for line in imp.splitlines()
                 if any(f" {m}" in line.split("|")[-1] and line.split("|")[-1].strip().split(".")[0] == m
                        for m in ("textual", "boto3", "botocore", "google", "asyncssh"))]
        print(f"heavy imports on this path: {len(heavy)} (textual, boto3, google, asyncssh)")


if __name__ == "__main__":
    main()
