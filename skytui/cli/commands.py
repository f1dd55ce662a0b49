"""Subcommands that act on clusters, the catalog and the local cloud."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from skytui.cli.output import StageLog, confirm, money, table
from skytui.core.context import Core
from skytui.errors import SkytuiError
from skytui.task.fields import ENV_NAME
from skytui.task.spec import Task

T = TypeVar("T")


def run_core(fn: Callable[[Core], Awaitable[T]], *, progress: bool = True) -> T:
    core = Core()
    if progress:
        core.listeners.append(StageLog())

    async def go() -> T:
        try:
            return await fn(core)
        finally:
            await core.aclose()

    return asyncio.run(go())


def parse_envs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not ENV_NAME.fullmatch(key):  # ASCII only: str.isalnum() let 'ñ' through to the shell
            raise SkytuiError(f"--env {item!r}: not NAME=VALUE with a valid name", "e.g. --env BATCH=32")
        if not sep:
            if key not in os.environ:
                raise SkytuiError(f"--env {key}: no value given and {key} is not set here",
                                  f"use --env {key}=VALUE")
            value = os.environ[key]
        out[key] = value
    return out


def load_task_arg(path: str | None, envs: dict[str, str]) -> Task:
    if not path:
        return Task(envs=dict(envs))
    from skytui.task.loader import load_task

    if not os.path.exists(path):
        raise SkytuiError(f"{path}: no such task file", "check the path")
    return load_task(path, env_overrides=envs)


def overrides(args: argparse.Namespace) -> Any:
    from skytui.core.resources import Overrides

    return Overrides(cloud=args.cloud, region=args.region, zone=args.zone, gpus=args.gpus,
                     cpus=args.cpus, spot=args.spot, num_nodes=getattr(args, "num_nodes", None))


def write_out(text: str, stream: str) -> None:
    (sys.stdout if stream == "stdout" else sys.stderr).write(text)
    (sys.stdout if stream == "stdout" else sys.stderr).flush()


# -- launch / dev / exec --------------------------------------------------------------------
def cmd_launch(args: argparse.Namespace) -> int:
    from skytui.core import resources

    task = resources.apply(load_task_arg(args.task, parse_envs(args.env)), overrides(args))
    if args.dry_run:
        return print_plan(task)
    for note in task.notes:  # alternatives left out: said before anything is launched
        sys.stderr.write(f"skytui: note: {note}\n")
    from skytui.core.clusters import LaunchOptions, launch

    name = args.cluster or _generated_name(task.name)
    try:
        res = run_core(lambda core: launch(core, name, task, LaunchOptions(detach_run=args.detach_run),
                                           on_output=write_out))
    except KeyboardInterrupt:
        sys.stderr.write(f"skytui: launch interrupted; if {name} was being created it is left INIT: run the "
                         f"same launch again to resume it, or `skytui down {name}`\n")
        return 130
    if res.cluster_job_id is not None and args.detach_run:
        print(f"job {res.cluster_job_id} running on {res.cluster}: skytui logs {res.cluster} "
              f"{res.cluster_job_id} -f")
    if res.exit_code not in (None, 0):
        sys.stderr.write(f"skytui: job {res.cluster_job_id} on {res.cluster} exited with {res.exit_code}\n")
        return 1
    print(f"cluster {res.cluster} is UP: `ssh {res.cluster}` or `skytui exec {res.cluster} -- CMD`")
    return 0


def _generated_name(task_name: str | None) -> str:
    """A valid cluster name from the task's name (SkyPilot names may hold '_' or capitals)."""
    import re
    import secrets

    base = re.sub(r"[^a-z0-9-]+", "-", (task_name or "sky").lower()).strip("-")[:40] or "sky"
    if not base[0].isalpha():
        base = f"c-{base}"
    return f"{base}-{secrets.token_hex(2)}"


def print_plan(task: Task) -> int:
    from skytui.core.launcher import make_plan
    from skytui.core.planner import Plan, best_per_region

    core = Core()
    p = make_plan(core, task)
    label = task.name or (task.source or "task")
    nodes = f"{task.num_nodes} node{'s' if task.num_nodes != 1 else ''}"
    headers = ["CLOUD", "REGION", "ZONE", "INSTANCE", "GPUS", "SPOT", "$/H (ALL NODES)", "ON-DEMAND $/H"]

    def rows(cands: list) -> list:  # type: ignore[type-arg]
        return [(c.cloud, c.region, c.zone, c.instance_type,
                 f"{c.accelerator}:{c.accelerator_count}" if c.accelerator else "-",
                 "yes" if c.spot else "no", money(c.price_per_hour),
                 money(c.on_demand_price_per_node * c.num_nodes)) for c in cands]

    if p.candidates:
        print(f"Plan for {label} ({nodes}), best first:")
        print(table(headers, rows(best_per_region(p)[:10])))
        print(f"{len(p.candidates)} candidate(s) in all; nothing was launched.")
        if any(c.cloud == "aws" for c in p.candidates):
            from skytui.providers.aws.catalog import live_note

            print(live_note() or "aws prices: bundled catalog (no live spot prices fetched)")
    if p.candidates_elsewhere:
        intro = "It could also run on clouds that are not enabled yet:" if p.candidates else \
            f"{label} ({nodes}) can run only on clouds that are not enabled yet:"
        print(("\n" if p.candidates else "") + intro)
        print(table(headers, rows(best_per_region(Plan(p.candidates_elsewhere, {}))[:5])))
    for cloud, why in sorted(p.not_enabled.items()):
        print(f"  {cloud}: {why}")
    from skytui.core.plan_notes import plan_notes

    for line in plan_notes(task, p):
        print(line)
    if p.candidates:
        print("Batch work goes to the cheapest region: latency does not matter to it. "
              "(Dev VMs go to the nearest: `skytui dev --dry-run`.)")
    if task.storage_mounts:  # storage mounts: what each bucket will be on the nodes
        from skytui.core.storage.attach import describe_mounts

        print("\n".join(describe_mounts(task)))
    for item in task.before_launch():  # what the file leaves open: planned without it
        print(f"before a real launch, give: {item}")
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from skytui.core import resources
    from skytui.core.dev import launch_dev
    from skytui.names import validate_name

    if args.json and not args.dry_run:
        raise SkytuiError("dev --json prints the choice only", "use it with --dry-run")
    name = args.name or f"dev-{_user_slug()}"
    validate_name(name)
    task = resources.apply(Task(name=name, envs={**parse_envs(args.env)}), overrides(args))
    core = Core()
    existing = None if args.dry_run else core.store.cluster(name)
    if existing is not None and existing.status == "UP":
        choice = None  # launch() reuses it where it is: nothing to measure
    else:
        choice = _dev_choice(core, args, task)
        if choice is None:
            return 0

    async def go(core: Core) -> Any:
        minutes = args.autostop if args.autostop is not None else core.config.autostop_idle_minutes
        return await launch_dev(core, name, task, autostop_minutes=minutes,
                                order=choice.order if choice else None)

    run_core(go)
    print(f"dev VM {name} is UP: `ssh {name}` (VS Code: Remote-SSH to host {name})")
    return 0


def _dev_choice(core: Core, args: argparse.Namespace, task: Task) -> Any:
    """The nearest region offering the dev VM's shape; printed (and None returned) with --dry-run."""
    from skytui.core.regions.choice import cheaper_line, dev_choice

    choice = dev_choice(core, task)
    if choice.note:
        sys.stderr.write(f"skytui: note: {choice.note}\n")
    if args.dry_run:
        if args.json:
            print(json.dumps(choice.as_dict(), indent=2))
            return None
        c = choice.chosen.candidate
        print(f"{c.cloud}/{c.region}/{c.zone}  {c.instance_type}{' (spot)' if c.spot else ''}  "
              f"{money(c.price_per_hour)}/h")
        print(f"why: {choice.why}")
        line = cheaper_line(choice)
        if line:
            print(f"cheaper: {line}")
        print("Nothing was launched.")
        return None
    sys.stderr.write(f"{choice.why}\n")
    line = cheaper_line(choice)
    if line:
        sys.stderr.write(f"note: {line}\n")
    return choice


def _user_slug() -> str:
    from skytui.store import current_user

    slug = "".join(ch if ch.isalnum() else "-" for ch in current_user().lower()).strip("-")
    return (slug or "me")[:40] if slug[:1].isalpha() else f"u{slug}"[:40]


def cmd_exec(args: argparse.Namespace) -> int:
    from skytui.core.clusters import exec_on

    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    envs = parse_envs(args.env)
    if args.task and not cmd and (args.task.endswith((".yaml", ".yml")) or os.path.exists(args.task)):
        task = load_task_arg(args.task, envs)
    else:
        words = ([args.task] if args.task else []) + cmd
        if not words:
            raise SkytuiError("exec needs a task file or a command", f"e.g. skytui exec {args.name} -- nvidia-smi")
        task = Task(run=" ".join(words) if len(words) == 1 else shlex.join(words), envs={**envs})
    res = run_core(lambda core: exec_on(core, args.name, task, detach=args.detach_run, on_output=write_out),
                   progress=False)
    if args.detach_run:
        print(f"job {res.cluster_job_id} running on {args.name}")
    return 0 if res.exit_code in (None, 0) else 1


# -- status / logs / ssh ------------------------------------------------------------------------
def cmd_logs(args: argparse.Namespace) -> int:
    from skytui.core.clusters import get_cluster
    from skytui.core.logs import stream_cluster_job

    async def go(core: Core) -> int:
        cluster = get_cluster(core, args.name)
        return await stream_cluster_job(core, cluster, args.job_id, follow=args.follow, on_output=write_out)

    return run_core(go, progress=False)


def cmd_ssh(args: argparse.Namespace) -> int:
    from skytui.core.clusters import get_cluster
    from skytui.core.context import ssh_dir

    core = Core()
    c = get_cluster(core, args.name)
    if c.status != "UP":
        raise SkytuiError(f"cluster {args.name} is {c.status}", f"start it first: skytui start {args.name}")
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    argv = ["ssh", "-F", str(ssh_dir() / "config"), args.name, *cmd]
    sys.stdout.flush()
    try:
        os.execvp("ssh", argv)
    except FileNotFoundError:
        raise SkytuiError("OpenSSH's `ssh` is not installed", "install openssh-client") from None
    return 0


# -- stop / start / down / autostop ------------------------------------------------------------------
def _targets(args: argparse.Namespace, core: Core) -> list[str]:
    if args.all:
        names = [c.name for c in core.store.clusters()]
    else:
        names = list(args.names)
    if not names:
        raise SkytuiError(f"{args.command} needs cluster names", "name them, or pass --all")
    return names


def cmd_lifecycle(args: argparse.Namespace) -> int:
    from skytui.core import clusters

    core = Core()
    names = _targets(args, core)
    if not names:
        print("No clusters.")
        return 0
    for n in names:
        clusters.get_cluster(core, n)  # every name must exist before anything is done
    if args.command == "down":
        confirm(f"Tear down {', '.join(names)}? Their disks and anything on them are deleted.", args.yes)
    elif args.command == "stop":
        confirm(f"Stop {', '.join(names)}? Running jobs end; disks are kept.", args.yes)
    verbs: dict[str, Callable[[Core, str], Awaitable[object]]] = {
        "stop": clusters.stop, "start": clusters.start, "down": clusters.down}
    verb = verbs[args.command]
    purge = bool(getattr(args, "purge", False))
    failed: list[SkytuiError] = []

    async def go(core: Core) -> None:
        for n in names:
            try:  # one cluster that cannot be handled must not hold the others back
                if args.command == "down":
                    warning = await clusters.down(core, n, purge=purge)
                    if warning:
                        sys.stderr.write(f"skytui: warning: {warning}\n")
                else:
                    await verb(core, n)
            except SkytuiError as exc:
                failed.append(exc)
                sys.stderr.write(f"skytui: error: {exc}\n")
                continue
            print(f"{n}: {args.command} done")

    run_core(go, progress=False)
    return max((e.exit_code for e in failed), default=0)


def cmd_autostop(args: argparse.Namespace) -> int:
    from skytui.core.clusters import set_autostop

    set_autostop(Core(), args.name, args.idle_minutes, args.down)
    what = "off" if args.idle_minutes == 0 else \
        f"{'tear down' if args.down else 'stop'} after {args.idle_minutes} idle minutes"
    print(f"autostop for {args.name}: {what}")
    return 0


# -- catalog / check / local -------------------------------------------------------------------------
def cmd_show_gpus(args: argparse.Namespace) -> int:
    from skytui.core.offerings import offerings_for
    from skytui.core.show_gpus import gpu_table

    core = Core()
    get = offerings_for(core.config)
    offers = [o for cloud in ("aws", "gcp", "local") for o in get(cloud)]
    rows = gpu_table(args.name, args.all_regions, offers)
    if not rows:
        print("No accelerators found.")
        return 0
    headers = list(rows[0].keys())
    print(table([h.upper().replace("_", " ") for h in headers], [[_fmt(h, r[h]) for h in headers] for r in rows]))
    print("Prices in USD per hour; local-cloud prices are reference estimates.")
    return 0


def _fmt(key: str, v: object) -> object:
    if isinstance(v, float):
        return f"${v:,.4f}" if "price" in key else f"{v:g}"
    return v


def cmd_check(args: argparse.Namespace) -> int:
    from skytui.config import load_config
    from skytui.core.credentials import check_all

    for line in check_all(load_config()):
        print(line)
    return 0


def cmd_local(args: argparse.Namespace) -> int:
    from skytui.providers.local.provider import LocalCloud

    core = Core()
    cloud = LocalCloud(core.config.local)
    if args.action == "ls":
        insts = cloud.list_all()
        known = {c.name for c in core.store.clusters()}
        rows = [{"id": i.id, "cluster": i.cluster, "job": i.job_id, "node": i.node, "region": i.region,
                 "zone": i.zone, "state": i.state, "reason": i.reason, "spot": i.spot, "ssh_port": i.ssh_port,
                 "orphan": i.state != "terminated" and i.cluster not in known} for i in insts]
        if args.json:
            print(json.dumps(rows, indent=2))
        elif not rows:
            print("The local cloud has no instances.")
        else:
            print(table(["ID", "CLUSTER", "NODE", "REGION/ZONE", "STATE", "REASON", "SPOT", "PORT", ""],
                        [(r["id"], r["cluster"], r["node"], f"{r['region']}/{r['zone']}", r["state"],
                          r["reason"], "yes" if r["spot"] else "no", r["ssh_port"],
                          "orphan" if r["orphan"] else "") for r in rows]))
        return 0
    if not args.cluster:
        raise SkytuiError("local preempt needs a cluster name", "skytui local preempt NAME [--node N]")
    victims = [i for i in cloud.list_all() if i.cluster == args.cluster and i.state in ("pending", "running")
               and (args.node is None or i.node == args.node)]
    if not victims:
        raise SkytuiError(f"the local cloud has no running node of {args.cluster!r}"
                          + (f" with rank {args.node}" if args.node is not None else ""),
                          "see `skytui local ls`")
    from skytui.cli.preempt import preempt_with_notice

    notice = core.config.local.preemption_notice_seconds if args.notice is None else args.notice
    return preempt_with_notice(cloud, victims, notice)
