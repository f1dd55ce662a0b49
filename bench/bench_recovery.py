"""Preemption -> RECOVERING and -> relaunch request latency on the local cloud (real node processes).

Run: python bench/bench_recovery.py [--preemptions 50] [--jobs 10] [--poll 1.0]
Prints P50/P95 of (a) the provider reporting a preemption (we preempt, so the moment is known)
to the job's RECOVERING event, and (b) RECOVERING to the relaunch request (provider.launch call).
Detection waits for the next round, so (a) is about poll/2 on average plus the round's work.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _sandbox() -> None:
    root = tempfile.mkdtemp(prefix="skytui-bench-")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = os.path.join(root, var)
        os.makedirs(os.environ[var])
    os.environ["HOME"] = root


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


async def main(args: argparse.Namespace) -> None:
    from skytui.config_model import Config
    from skytui.core.context import Core
    from skytui.core.jobs import submit
    from skytui.core.watcher import WatcherSettings, run_watcher
    from skytui.task.spec import Resources, Task

    core = Core(Config(watcher_poll_seconds=args.poll))
    settings = WatcherSettings.from_config(core.config, job_check_seconds=30.0)
    launches: dict[int, list[float]] = {}
    cloud = core.provider("local")
    real_launch = cloud.launch

    async def timed_launch(spec):  # type: ignore[no-untyped-def]
        launches.setdefault(spec.job_id, []).append(time.time())
        return await real_launch(spec)

    cloud.launch = timed_launch  # type: ignore[method-assign]
    ids = [submit(core, Task(name=f"b{i}", run="sleep 3600", resources=(Resources(cloud="local", use_spot=True),)))
           for i in range(args.jobs)]
    stop = asyncio.Event()
    watcher = asyncio.create_task(run_watcher(core, kind="daemon", stop_event=stop, settings=settings))
    to_recovering: list[float] = []
    to_request: list[float] = []

    async def running(j: int, attempts: int) -> None:
        while True:
            job = core.store.job(j)
            if job and job.status == "RUNNING" and job.attempts == attempts:
                return
            await asyncio.sleep(0.05)

    await asyncio.gather(*(running(j, 1) for j in ids))
    done = 0
    rnd = 1
    while done < args.preemptions:
        batch = ids[: min(len(ids), args.preemptions - done)]
        marks: dict[int, float] = {}
        for j in batch:
            (inst,) = cloud.registry.rows("job_id = ? AND state = 'running'", (j,))
            marks[j] = time.time()
            cloud.preempt(inst.id)
            await asyncio.sleep(args.poll / len(batch))  # spread over a poll interval
        await asyncio.gather(*(running(j, rnd + 1) for j in batch))
        for j in batch:
            ev = next(e for e in core.store.events(job_id=j) if e.reason in ("preempted", "node-lost")
                      and e.ts >= marks[j])
            to_recovering.append(ev.ts - marks[j])
            req = next(t for t in launches[j] if t >= ev.ts)
            to_request.append(req - ev.ts)
        done += len(batch)
        rnd += 1
    stop.set()
    await watcher
    for j in ids:
        for inst in cloud.registry.rows("job_id = ? AND state != 'terminated'", (j,)):
            await cloud.terminate([inst.id])
    print(f"{done} preemptions, {args.jobs} jobs, poll {args.poll}s (local cloud, real nodes)")
    print(f"preemption -> RECOVERING : P50 {pct(to_recovering, 50):.3f}s  P95 {pct(to_recovering, 95):.3f}s  "
          f"max {max(to_recovering):.3f}s  mean {statistics.mean(to_recovering):.3f}s")
    print(f"RECOVERING -> launch req : P50 {pct(to_request, 50):.3f}s  P95 {pct(to_request, 95):.3f}s  "
          f"max {max(to_request):.3f}s")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--preemptions", type=int, default=50)
    ap.add_argument("--jobs", type=int, default=10)
    ap.add_argument("--poll", type=float, default=1.0)
    _sandbox()
    asyncio.run(main(ap.parse_args()))
