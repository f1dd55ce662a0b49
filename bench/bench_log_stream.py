"""The watcher's CPU while it streams the logs of many running jobs.

Run: python -m bench.bench_log_stream [--jobs 50] [--seconds 30]

Starts `--jobs` managed spot jobs on the local cloud (real node processes), each printing a
line 20 times a second, and measures this process's CPU (the watcher's: the nodes are other
processes) over `--seconds`, twice: first with live capture off (`log_streams: 0`, what
skytui did before: the log comes with the periodic node check), which is the floor, then with
the default cap. Prints CPU as % of one core, the ratio to the floor, and the cost per job.
Goal: at most 10 % of a core for 50 jobs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PRINTER = ("import sys, time\n"
           "i = 0\n"
           "while True:\n"
           "    i += 1\n"
           "    sys.stdout.write(f'step {i} loss 0.{i % 997:03d} lr 3e-4 tokens/s 12345\\n'); sys.stdout.flush()\n"
           "    time.sleep(0.05)\n")


def _sandbox() -> None:
    root = tempfile.mkdtemp(prefix="skytui-bench-")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = os.path.join(root, var)
        os.makedirs(os.environ[var])
    os.environ["HOME"] = root


async def measure(core, settings, seconds: float) -> tuple[float, int, int]:  # type: ignore[no-untyped-def]
    """(CPU % of one core over the window, log bytes captured in it, log bytes the jobs wrote in it)."""
    from skytui.core.jobs.logs import job_log_dir
    from skytui.core.watcher import run_watcher
    from skytui.paths import local_cloud_dir

    def captured() -> int:
        return sum(p.stat().st_size for p in job_log_dir(0).parent.glob("*/attempt-*.log"))

    def written() -> int:  # the logs on the nodes' disks
        return sum(p.stat().st_size for p in (local_cloud_dir() / "disks").glob("*/.skytui/jobs/*/log"))

    stop = asyncio.Event()
    task = asyncio.create_task(run_watcher(core, kind="daemon", stop_event=stop, settings=settings))
    await asyncio.sleep(3)  # the first round, the streams opening
    bytes0, made0, cpu0, wall0 = captured(), written(), time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    got, made = captured() - bytes0, written() - made0
    stop.set()
    await task
    return 100 * cpu / wall, got, made


async def main(args: argparse.Namespace) -> None:
    import dataclasses
    import shlex

    from skytui.config_model import Config
    from skytui.core.context import Core
    from skytui.core.jobs import submit
    from skytui.core.watcher import WatcherSettings, run_watcher
    from skytui.task.spec import Resources, Task

    core = Core(Config())
    defaults = WatcherSettings.from_config(core.config)
    ids = [submit(core, Task(name=f"s{i}", run=f"exec python3 -u -c {shlex.quote(PRINTER)}",
                             resources=(Resources(cloud="local", use_spot=True),))) for i in range(args.jobs)]
    stop = asyncio.Event()
    starter = asyncio.create_task(run_watcher(core, kind="daemon", stop_event=stop,
                                              settings=dataclasses.replace(defaults, poll_seconds=1.0)))
    deadline = time.monotonic() + 600
    while sum(1 for j in ids if core.store.job(j).status == "RUNNING") < len(ids):  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            raise SystemExit("the jobs did not all start")
        await asyncio.sleep(0.5)
    stop.set()
    await starter
    floor, floor_bytes, floor_made = await measure(core, dataclasses.replace(defaults, log_streams=0), args.seconds)
    live, live_bytes, live_made = await measure(core, defaults, args.seconds)
    cloud = core.provider("local")
    for j in ids:
        for inst in cloud.registry.rows("job_id = ? AND state != 'terminated'", (j,)):  # type: ignore[attr-defined]
            await cloud.terminate([inst.id])
    await core.aclose()
    per_job = (live - floor) / len(ids)
    print(f"{len(ids)} running jobs x 20 lines/s, {args.seconds:g} s windows, default watcher settings")
    print(f"floor (no live capture, log with the node check): {floor:5.2f} % of a core, "
          f"{floor_bytes / args.seconds / 1024:6.1f} KiB/s captured of {floor_made / args.seconds / 1024:.1f} written")
    print(f"live capture (cap {defaults.log_streams} streams):          {live:5.2f} % of a core, "
          f"{live_bytes / args.seconds / 1024:6.1f} KiB/s captured of {live_made / args.seconds / 1024:.1f} written  "
          f"(x{live / max(floor, 0.01):.1f} the floor; goal <= 10 %)")
    print(f"cost per streaming job: {per_job:.3f} % of a core")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    _sandbox()
    asyncio.run(main(ap.parse_args()))
