"""Log lines lost at a preemption: how much of attempt 1's output `skytui jobs logs` still holds.

Run: python -m bench.bench_log_loss [--trials 20] [--parallel 5] [--kind daemon|app|both]

Each managed spot job prints a numbered line 20 times a second and also appends the number
to a file outside the node's disk (the ground truth, which survives the node). At a random
moment 3-18 s after the job runs, its node is preempted the way `skytui local preempt` does it
(with the configured notice when this skytui has one). Once attempt 2 runs, the bench compares
the last number attempt 1 printed with the last one in skytui's log store for attempt 1:
the difference is the lines lost. The watcher runs with the default settings of a user's
config, as the daemon ("daemon") or the app ("app") runs it. Prints P50 and max per kind; the
goal is <= 20 lines (one second's worth).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PRINTER = (
    "import os, sys, time\n"
    "truth = open(os.path.join(os.environ['TRUTH_DIR'], os.environ['SKYTUI_INSTANCE_ID']), 'a')\n"
    "i = 0\n"
    "while True:\n"
    "    i += 1\n"
    "    sys.stdout.write(f'line {i}\\n'); sys.stdout.flush()\n"
    "    truth.write(f'{i}\\n'); truth.flush()\n"
    "    time.sleep(0.05)\n"
)


def _sandbox() -> Path:
    root = tempfile.mkdtemp(prefix="skytui-bench-")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = os.path.join(root, var)
        os.makedirs(os.environ[var])
    os.environ["HOME"] = root
    truth = Path(root) / "truth"
    truth.mkdir()
    return truth


def pct(xs: list[int], p: float) -> int:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def _last_number(text: str) -> int:
    found = re.findall(r"line (\d+)", text)
    return int(found[-1]) if found else 0


def _preempt(cloud: object, instance_id: str, notice: float | None) -> None:
    """What `skytui local preempt` does: with a notice when this skytui has one."""
    start = getattr(cloud, "start_preemption", None)
    if start is not None and notice:
        start(instance_id, notice)  # the kill follows after the notice, in the cloud's own time
    else:
        cloud.preempt(instance_id)  # type: ignore[attr-defined]


async def one_kind(kind: str, args: argparse.Namespace, truth_dir: Path) -> list[int]:
    from skytui.config import load_config
    from skytui.core.context import Core
    from skytui.core.jobs import submit
    from skytui.core.jobs.logs import attempt_log_path
    from skytui.core.watcher import run_watcher
    from skytui.task.spec import Resources, Task

    core = Core(load_config())
    cloud = core.provider("local")
    notice = getattr(core.config.local, "preemption_notice_seconds", None) if args.notice is None else args.notice
    stop = asyncio.Event()
    watcher = asyncio.create_task(run_watcher(core, kind=kind, stop_event=stop))
    rng = random.Random(args.seed)
    lost: list[int] = []

    async def status(j: int, want: str, attempts: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            job = core.store.job(j)
            if job and job.status == want and job.attempts == attempts:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"job {j} did not reach {want} attempt {attempts}")
            await asyncio.sleep(0.05)

    async def trial(n: int) -> None:
        task = Task(name=f"loss{n}", run=f"exec python3 -u -c {_shq(PRINTER)}",
                    envs={"TRUTH_DIR": str(truth_dir)}, resources=(Resources(cloud="local", use_spot=True),))
        j = submit(core, task)
        await status(j, "RUNNING", 1)
        await asyncio.sleep(rng.uniform(3, 18))
        (inst,) = cloud.registry.rows("job_id = ? AND state = 'running'", (j,))  # type: ignore[attr-defined]
        _preempt(cloud, inst.id, notice)
        await status(j, "RUNNING", 2)
        await asyncio.sleep(1.0)  # anything still on its way for attempt 1
        printed = int((truth_dir / inst.id).read_text().split()[-1])
        kept = _last_number(attempt_log_path(j, 1).read_text()) if attempt_log_path(j, 1).exists() else 0
        lost.append(printed - kept)
        core.store.transition_job(j, ["RUNNING"], "CANCELLING", reason="bench", event="bench done")

    done = 0
    while done < args.trials:
        batch = range(done, min(args.trials, done + args.parallel))
        await asyncio.gather(*(trial(n) for n in batch))
        done += len(batch)
    deadline = time.monotonic() + 60
    while core.store.jobs(statuses=["CANCELLING"]) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    stop.set()
    await watcher
    await core.aclose()
    return lost


def _shq(s: str) -> str:
    import shlex

    return shlex.quote(s)


async def main(args: argparse.Namespace) -> None:
    truth = _sandbox()
    kinds = ["daemon", "app"] if args.kind == "both" else [args.kind]
    how = "the configured notice" if args.notice is None else f"{args.notice:g} s of notice"
    print(f"log loss at preemption: {args.trials} trials per watcher, a job printing 20 lines/s, "
          f"preempted 3-18 s into its run with {how} (local cloud, real nodes, default watcher settings)")
    for kind in kinds:
        lost = await one_kind(kind, args, truth)
        print(f"{kind:6} watcher: lines lost per preemption P50 {pct(lost, 50)}  max {max(lost)}  "
              f"(goal <= 20)  all: {sorted(lost)}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--parallel", type=int, default=5)
    ap.add_argument("--kind", default="both", choices=["daemon", "app", "both"])
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--notice", type=float, help="seconds of notice (default: the config's; 0: an abrupt kill)")
    asyncio.run(main(ap.parse_args()))
