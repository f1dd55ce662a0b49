"""`skytui jobs`: the managed-job queue, launch, cancel and every attempt's logs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from skytui.errors import SkytuiError


def queue(args: argparse.Namespace) -> int:
    from skytui.cli.output import table
    from skytui.core.context import Core
    from skytui.core.jobs import queue_rows

    rows = queue_rows(Core())
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No managed jobs. Submit one: skytui jobs launch TASK.yaml --spot")
        return 0
    print(table(["ID", "NAME", "STATUS", "WHERE", "SPOT", "RECOVERIES", "ATTEMPTS", "DURATION", "LAST EVENT"],
                [(r["id"], r["name"], r["status"], _where(r), "yes" if r["spot"] else "no", r["recoveries"],
                  r["attempts"], _duration(r["duration_s"]), r["last_event"]) for r in rows]))
    _say_who_watches()
    return 0


def show_job(args: argparse.Namespace) -> int:
    """`skytui jobs show ID` (or `skytui jobs ID`)."""
    return show(args.job_id)


def show(job_id: int) -> int:
    """One job: its attempts and its whole decision trail."""
    from datetime import datetime

    from skytui.cli.output import table
    from skytui.core.context import Core
    from skytui.core.jobs import get_job

    core = Core()
    job = get_job(core, job_id)
    print(f"job {job.id} {job.name}: {job.status}, {job.recoveries} recover{'y' if job.recoveries == 1 else 'ies'}")
    attempts = core.store.attempts(job_id)
    if attempts:
        print(table(["ATTEMPT", "WHERE", "STARTED", "ENDED", "WHY IT ENDED", "EXIT"],
                    [(a.attempt, f"{a.cloud} {a.region}/{a.zone}", _clock(a.started_at), _clock(a.ended_at),
                      a.end_reason, a.exit_code) for a in attempts]))
    print("events:")
    for e in core.store.events(job_id=job_id, limit=200):
        stamp = datetime.fromtimestamp(e.ts).strftime("%Y-%m-%d %H:%M:%S")
        print(f"  {stamp}  {e.message}")
    return 0


def _clock(ts: float | None) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(ts).strftime("%H:%M:%S") if ts else "-"


def _where(r: dict[str, Any]) -> str:
    return f"{r['cloud']} {r['region']}/{r['zone']}" if r["region"] else "-"


def _duration(s: float | None) -> str:
    from skytui.core.units_text import duration

    return duration(s)


def _say_who_watches() -> None:
    from skytui.core.watcher import lock_holder

    h = lock_holder()
    if h is None:
        sys.stderr.write("no watcher is running: start one with `skytui --daemon` (or open the dashboard)\n")
    else:
        sys.stderr.write(f"watched by the {h.kind} (pid {h.pid})\n")


def launch(args: argparse.Namespace) -> int:
    from skytui.cli.commands import load_task_arg, overrides, parse_envs
    from skytui.core import resources
    from skytui.core.context import Core
    from skytui.core.jobs import submit
    from skytui.core.watcher import lock_holder

    if _is_pipeline(args.task):
        from skytui.task.loader import load_pipeline

        pipe = load_pipeline(args.task, env_overrides=parse_envs(args.env))
        if pipe.is_chain:
            return launch_pipeline(args, pipe)
    task = resources.apply(load_task_arg(args.task, parse_envs(args.env)), overrides(args))
    if getattr(args, "dry_run", False):
        from skytui.cli.commands import print_plan

        return print_plan(task)  # says that batch work goes to the cheapest region
    core = Core()
    if not args.yes and sys.stdin.isatty():
        from skytui.core.launcher import make_plan

        best = make_plan(core, task).require().candidates[0]
        answer = input(f"Launch a managed job on {best.cloud} {best.region}/{best.zone} "
                       f"({best.instance_type}{', spot' if best.spot else ''}, ${best.price_per_hour:.3f}/h)? "
                       "[Y/n] ").strip().lower()
        if answer not in ("", "y", "yes"):
            raise SkytuiError("cancelled", "nothing was submitted")
    job_id = submit(core, task, name=args.name)
    job = core.store.job(job_id)
    print(f"managed job {job_id} submitted (cluster {job.cluster if job else '?'})")
    h = lock_holder()
    if h is None:
        from skytui.core.daemon_start import start_daemon

        state, pid = start_daemon()
        what = "started the watcher daemon" if state == "started" else "the watcher daemon is running"
        print(f"{what} (pid {pid}) so the job is watched; `skytui daemon stop` ends it")
    else:
        print(f"the {h.kind} (pid {h.pid}) watches it")
    print(f"follow it: skytui jobs logs {job_id} -f   (queue: skytui jobs)")
    return 0


def _is_pipeline(path: str) -> bool:
    """A file with more than one YAML document ('---' between tasks); cheap, before loading."""
    import os

    if not os.path.isfile(path):
        return False
    with open(path, "rb") as f:
        head = f.read(1024 * 1024)
    return b"\n---" in head or head.startswith(b"---")


def launch_pipeline(args: argparse.Namespace, pipe: Any) -> int:
    """`jobs launch` of a file of several tasks: one managed job per stage, run in turn."""
    from skytui.cli.commands import overrides
    from skytui.core import resources
    from skytui.core.context import Core
    from skytui.core.jobs.pipeline import submit_pipeline
    from skytui.core.watcher import lock_holder

    tasks = [resources.apply(t, overrides(args)) for t in pipe.tasks]
    core = Core()
    if not args.yes and sys.stdin.isatty():
        answer = input(f"Submit a pipeline of {len(tasks)} managed jobs, run one after another? "
                       "[Y/n] ").strip().lower()
        if answer not in ("", "y", "yes"):
            raise SkytuiError("cancelled", "nothing was submitted")
    got = submit_pipeline(core, tasks, name=args.name or pipe.name)
    ids = ", ".join(str(i) for i in got.job_ids)
    print(f"pipeline {got.name}: {len(tasks)} stages submitted as managed jobs {ids}; "
          "each starts when the one before it succeeded")
    if lock_holder() is None:
        from skytui.core.daemon_start import start_daemon

        state, pid = start_daemon()
        print(f"the watcher daemon {'started' if state == 'started' else 'is running'} (pid {pid})")
    print("follow it: skytui jobs   (each stage: skytui jobs logs ID -f)")
    return 0


def cancel(args: argparse.Namespace) -> int:
    from skytui.cli.commands import run_core
    from skytui.core.jobs import request_cancel
    from skytui.core.watcher import lock_holder
    from skytui.core.watcher.loop import cancel_now

    job_id: int = args.job_id

    async def go(core: Any) -> str:
        job = request_cancel(core, job_id)
        if job.status != "CANCELLING":
            return f"job {job_id} is {job.status}"
        h = lock_holder()
        if h is not None:
            return f"job {job_id} is CANCELLING: the {h.kind} (pid {h.pid}) tears its cluster down"
        await cancel_now(core, job)  # nobody watches: do it here
        return f"job {job_id} cancelled; cluster {job.cluster} torn down"

    print(run_core(go, progress=False))
    return 0


def logs(args: argparse.Namespace) -> int:
    from skytui.cli.commands import run_core, write_out
    from skytui.core.jobs import stream_job_logs

    job_id: int = args.job_id
    return run_core(lambda core: stream_job_logs(core, job_id, follow=args.follow, on_output=write_out),
                    progress=False)
