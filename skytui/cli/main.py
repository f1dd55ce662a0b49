"""The `skytui` command: the dashboard by default, subcommands for everything else."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from skytui import __version__

EPILOG = "Run `skytui COMMAND --help` for a command's options. With no command, the dashboard opens."


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line and exit 2, like every other user error.
        sys.stderr.write(f"skytui: error: {message} (see `{self.prog} --help`)\n")
        sys.exit(2)


def _add_cluster_names(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="NAME", help="cluster names")
    p.add_argument("--all", "-a", action="store_true", help="every cluster")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")


def _add_resources(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cloud", help="aws, gcp or local")
    p.add_argument("--region")
    p.add_argument("--zone")
    p.add_argument("--gpus", help="accelerators, e.g. H100:8")
    p.add_argument("--cpus", help="vCPUs, e.g. 4 or 4+")
    p.add_argument("--spot", action="store_true", default=None, help="use spot instances")
    p.add_argument("--env", action="append", default=[], metavar="K=V", help="set an env (repeatable)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="skytui", description="A terminal workstation manager for AI teams on the cloud.",
                epilog=EPILOG)
    p.add_argument("--version", action="version", version=f"skytui {__version__}")
    p.add_argument("--daemon", action="store_true", help="run the spot-recovery watcher in the background")
    p.add_argument("--foreground", action="store_true", help="with --daemon: stay attached (service managers)")
    p.add_argument("--demo", action="store_true", help="start a small demo fleet on the local cloud and open the app")
    p.add_argument("--theme", help="dashboard theme name")
    p.add_argument("--read-only", action="store_true", help="dashboard: disable every destructive action")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser("launch", help="launch a cluster and run a task on it")
    s.add_argument("task", nargs="?", help="task YAML file")
    s.add_argument("-c", "--cluster", help="cluster name")
    s.add_argument("--num-nodes", type=int)
    s.add_argument("--detach-run", "-d", action="store_true", help="do not stream the job's output")
    s.add_argument("--dry-run", action="store_true", help="print the plan and prices; launch nothing")
    _add_resources(s)

    s = sub.add_parser("exec", help="run a task or a command on an existing cluster")
    s.add_argument("name")
    s.add_argument("task", nargs="?", help="task YAML file (or `-- CMD...`)")
    s.add_argument("cmd", nargs=argparse.REMAINDER)
    s.add_argument("--env", action="append", default=[], metavar="K=V")
    s.add_argument("--detach-run", "-d", action="store_true")

    s = sub.add_parser("status", help="clusters and their state")
    s.add_argument("names", nargs="*", metavar="NAME")
    s.add_argument("--json", action="store_true")
    s.add_argument("--refresh", "-r", action="store_true", help="ask the clouds first")
    s.add_argument("--all", "-a", action="store_true", help="include terminated clusters")

    s = sub.add_parser("jobs", help="managed jobs (the spot-recovery queue)")
    s.add_argument("action", nargs="?", metavar="ACTION|ID",
                   help="launch TASK, cancel ID, logs ID; or a job id for its attempts and events")
    s.add_argument("args", nargs="*")
    s.add_argument("--json", action="store_true")
    s.add_argument("-n", "--name")
    s.add_argument("--follow", "-f", action="store_true")
    s.add_argument("--dry-run", action="store_true", help="launch: print the plan and prices; submit nothing")
    _add_resources(s)

    s = sub.add_parser("logs", help="a cluster job's output")
    s.add_argument("name")
    s.add_argument("job_id", nargs="?", type=int)
    s.add_argument("--follow", "-f", action="store_true")

    s = sub.add_parser("queue", help="a cluster's jobs, newest last (as `sky queue` lists them)")
    s.add_argument("name")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("ssh", help="open a shell on a cluster (same as `ssh NAME`)")
    s.add_argument("name")
    s.add_argument("cmd", nargs=argparse.REMAINDER)

    for verb, text in (("stop", "stop clusters (disks are kept)"), ("start", "start stopped clusters"),
                       ("down", "tear clusters down (disks are deleted)")):
        _add_cluster_names(sub.add_parser(verb, help=text))
        if verb == "down":
            sub.choices["down"].add_argument(
                "--purge", action="store_true",
                help="forget a cluster whose cloud cannot be reached (says what may still bill)")

    s = sub.add_parser("autostop", help="stop or tear down a cluster after it has been idle")
    s.add_argument("name")
    s.add_argument("-i", "--idle-minutes", type=int, required=True)
    s.add_argument("--down", action="store_true", help="tear down instead of stopping")

    s = sub.add_parser("dev", help="a dev VM: a cluster with no job and a default autostop")
    s.add_argument("name", nargs="?")
    s.add_argument("--autostop", type=int, metavar="MIN")
    s.add_argument("--dry-run", action="store_true", help="print the region it would choose (nearest) and why")
    s.add_argument("--json", action="store_true", help="with --dry-run: the choice as JSON")
    _add_resources(s)

    s = sub.add_parser("cost-report", help="what was spent, and what spot and autostop saved")
    s.add_argument("--since", default="30d")
    s.add_argument("--until")
    s.add_argument("--by", default="cluster", choices=["cluster", "job", "user", "region", "cloud", "gpu", "day"])
    from skytui.cli.cmd_cost_report import FormatFlags  # the registry's flags, loaded on use

    s.add_argument("--format", default="table", choices=FormatFlags(),  # type: ignore[arg-type]
                   metavar="FORMAT", help="one of: %(choices)s")  # listed on --help, not at every start
    s.add_argument("-o", "--output")

    s = sub.add_parser("gpus", help="GPU utilisation, memory and processes across the fleet")
    s.add_argument("--json", action="store_true")
    s.add_argument("--watch", action="store_true")

    s = sub.add_parser("show-gpus", help="accelerators with on-demand and spot prices")
    s.add_argument("name", nargs="?")
    s.add_argument("--all-regions", action="store_true")

    sub.add_parser("check", help="which clouds have credentials")

    s = sub.add_parser("local", help="the embedded local cloud's own view")
    s.add_argument("action", choices=["ls", "preempt"])
    s.add_argument("cluster", nargs="?")
    s.add_argument("--node", type=int)
    s.add_argument("--json", action="store_true")
    s.add_argument("--notice", type=float, metavar="SECONDS",
                   help="preempt: warn the node this long before (default: local.preemption_notice_seconds)")

    s = sub.add_parser("notify", help="alerts: `notify test` sends one through the configured channels")
    s.add_argument("action", choices=["test"])

    s = sub.add_parser("regions", help="enabled regions, nearest first: measured round trip and prices")
    s.add_argument("--cloud", help="aws, gcp or local")
    s.add_argument("--json", action="store_true")
    s.add_argument("--refresh", "-r", action="store_true", help="measure again, ignoring the cache")
    s.add_argument("--gpus", help="also price these accelerators per region, e.g. H100:8")

    s = sub.add_parser("daemon", help="the background watcher")
    s.add_argument("action", choices=["status", "stop", "install"])
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from skytui.cli.errors import run_guarded

    args = build_parser().parse_args(argv)
    return run_guarded(lambda: _dispatch(args))


def _dispatch(args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd is None:
        if args.daemon:
            from skytui.cli import daemon

            return daemon.start(args)
        from skytui.cli import app

        return app.run(args)
    if cmd == "status" and args.json and not args.refresh:
        from skytui.cli.status import status_json

        return status_json(args)
    if cmd == "regions":  # a warm cache reads the config and the store only: skip the rest
        from skytui.cli import cmd_regions

        return cmd_regions.run(args)
    if cmd == "cost-report":  # reads the store only: skip the cluster commands' imports
        from skytui.cli import cmd_cost_report

        return cmd_cost_report.run(args)
    from skytui.cli import commands

    return commands.dispatch(args)


if __name__ == "__main__":
    sys.exit(main())
