"""The `skytui` command: the dashboard by default, subcommands for everything else."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from skytui import __version__

EPILOG = "Run `skytui COMMAND --help` for a command's options. With no command, the dashboard opens."


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line and exit 2, like every other user error.
        if message.startswith(f"argument {JOBS_ACTION}: invalid choice"):
            message = "unknown action" + message.split("invalid choice", 1)[1]
        sys.stderr.write(f"skytui: error: {message} (see `{self.prog} --help`)\n")
        sys.exit(2)


# Every parser names its handler beside its options, as "module:function", so that one path
# dispatches every command and only the chosen command's module is imported (startup stays fast).
def _handled_by(p: argparse.ArgumentParser, target: str) -> argparse.ArgumentParser:
    p.set_defaults(handler=target)
    return p


JOBS_ACTION = "ACTION|ID"
JOBS_ACTIONS = ("launch", "cancel", "logs", "show")


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
    _handled_by(p, "skytui.cli.main:no_command")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = _handled_by(sub.add_parser("launch", help="launch a cluster and run a task on it"),
                    "skytui.cli.commands:cmd_launch")
    s.add_argument("task", nargs="?", help="task YAML file")
    s.add_argument("-c", "--cluster", help="cluster name")
    s.add_argument("--num-nodes", type=int)
    s.add_argument("--detach-run", "-d", action="store_true", help="do not stream the job's output")
    s.add_argument("--dry-run", action="store_true", help="print the plan and prices; launch nothing")
    _add_resources(s)

    s = _handled_by(sub.add_parser("exec", help="run a task or a command on an existing cluster"),
                    "skytui.cli.commands:cmd_exec")
    s.add_argument("name")
    s.add_argument("task", nargs="?", help="task YAML file (or `-- CMD...`)")
    s.add_argument("cmd", nargs=argparse.REMAINDER)
    s.add_argument("--env", action="append", default=[], metavar="K=V")
    s.add_argument("--detach-run", "-d", action="store_true")

    # The table and --json read the store only (skytui.cli.status); --refresh asks the clouds.
    s = _handled_by(sub.add_parser("status", help="clusters and their state"), "skytui.cli.status:run")
    s.add_argument("names", nargs="*", metavar="NAME")
    s.add_argument("--json", action="store_true")
    s.add_argument("--refresh", "-r", action="store_true", help="ask the clouds first")
    s.add_argument("--all", "-a", action="store_true", help="include terminated clusters")

    s = _handled_by(sub.add_parser("jobs", help="managed jobs (the spot-recovery queue)",
                                   epilog="`skytui jobs ID` is short for `skytui jobs show ID`."),
                    "skytui.cli.cmd_jobs:queue")
    s.add_argument("--json", action="store_true", help="the queue as JSON")
    jobs = s.add_subparsers(dest="action", metavar=JOBS_ACTION, parser_class=_Parser)
    j = _handled_by(jobs.add_parser("launch", help="submit a task (or a pipeline file) as managed jobs"),
                    "skytui.cli.cmd_jobs:launch")
    j.add_argument("task", help="task YAML file")
    j.add_argument("-n", "--name")
    j.add_argument("--dry-run", action="store_true", help="print the plan and prices; submit nothing")
    _add_resources(j)
    j = _handled_by(jobs.add_parser("cancel", help="cancel a job; its cluster is torn down"),
                    "skytui.cli.cmd_jobs:cancel")
    j.add_argument("job_id", type=_job_id, metavar="ID")
    j = _handled_by(jobs.add_parser("logs", help="a job's output, every attempt"), "skytui.cli.cmd_jobs:logs")
    j.add_argument("job_id", type=_job_id, metavar="ID")
    j.add_argument("--follow", "-f", action="store_true")
    j = _handled_by(jobs.add_parser("show", help="a job's attempts and events"), "skytui.cli.cmd_jobs:show_job")
    j.add_argument("job_id", type=_job_id, metavar="ID")

    s = _handled_by(sub.add_parser("logs", help="a cluster job's output"), "skytui.cli.commands:cmd_logs")
    s.add_argument("name")
    s.add_argument("job_id", nargs="?", type=int)
    s.add_argument("--follow", "-f", action="store_true")

    s = _handled_by(sub.add_parser("queue", help="a cluster's jobs, newest last (as `sky queue` lists them)"),
                    "skytui.cli.cmd_queue:run")
    s.add_argument("name")
    s.add_argument("--json", action="store_true")

    s = _handled_by(sub.add_parser("ssh", help="open a shell on a cluster (same as `ssh NAME`)"),
                    "skytui.cli.commands:cmd_ssh")
    s.add_argument("name")
    s.add_argument("cmd", nargs=argparse.REMAINDER)

    for verb, text in (("stop", "stop clusters (disks are kept)"), ("start", "start stopped clusters"),
                       ("down", "tear clusters down (disks are deleted)")):
        _add_cluster_names(_handled_by(sub.add_parser(verb, help=text), "skytui.cli.commands:cmd_lifecycle"))
        if verb == "down":
            sub.choices["down"].add_argument(
                "--purge", action="store_true",
                help="forget a cluster whose cloud cannot be reached (says what may still bill)")

    s = _handled_by(sub.add_parser("autostop", help="stop or tear down a cluster after it has been idle"),
                    "skytui.cli.commands:cmd_autostop")
    s.add_argument("name")
    s.add_argument("-i", "--idle-minutes", type=int, required=True)
    s.add_argument("--down", action="store_true", help="tear down instead of stopping")

    s = _handled_by(sub.add_parser("dev", help="a dev VM: a cluster with no job and a default autostop"),
                    "skytui.cli.commands:cmd_dev")
    s.add_argument("name", nargs="?")
    s.add_argument("--autostop", type=int, metavar="MIN")
    s.add_argument("--dry-run", action="store_true", help="print the region it would choose (nearest) and why")
    s.add_argument("--json", action="store_true", help="with --dry-run: the choice as JSON")
    _add_resources(s)

    # Reads the store only: its module skips the cluster commands' imports.
    s = _handled_by(sub.add_parser("cost-report", help="what was spent, and what spot and autostop saved"),
                    "skytui.cli.cmd_cost_report:run")
    s.add_argument("--since", default="30d")
    s.add_argument("--until")
    s.add_argument("--by", default="cluster", choices=["cluster", "job", "user", "region", "cloud", "gpu", "day"])
    from skytui.cli.cmd_cost_report import FormatFlags  # the registry's flags, loaded on use

    s.add_argument("--format", default="table", choices=FormatFlags(),
                   metavar="FORMAT", help="one of: %(choices)s")  # listed on --help, not at every start
    s.add_argument("-o", "--output")

    s = _handled_by(sub.add_parser("gpus", help="GPU utilisation, memory and processes across the fleet"),
                    "skytui.cli.cmd_gpus:run")
    s.add_argument("--json", action="store_true")
    s.add_argument("--watch", action="store_true")

    s = _handled_by(sub.add_parser("show-gpus", help="accelerators with on-demand and spot prices"),
                    "skytui.cli.commands:cmd_show_gpus")
    s.add_argument("name", nargs="?")
    s.add_argument("--all-regions", action="store_true")

    _handled_by(sub.add_parser("check", help="which clouds have credentials"), "skytui.cli.commands:cmd_check")

    s = _handled_by(sub.add_parser("local", help="the embedded local cloud's own view"),
                    "skytui.cli.commands:cmd_local")
    s.add_argument("action", choices=["ls", "preempt"])
    s.add_argument("cluster", nargs="?")
    s.add_argument("--node", type=int)
    s.add_argument("--json", action="store_true")
    s.add_argument("--notice", type=float, metavar="SECONDS",
                   help="preempt: warn the node this long before (default: local.preemption_notice_seconds)")

    s = _handled_by(sub.add_parser("notify", help="alerts: `notify test` sends one through the configured channels"),
                    "skytui.cli.cmd_notify:run")
    s.add_argument("action", choices=["test"])

    # A warm cache reads the config and the store only: its module skips the rest.
    s = _handled_by(sub.add_parser("regions", help="enabled regions, nearest first: measured round trip and prices"),
                    "skytui.cli.cmd_regions:run")
    s.add_argument("--cloud", help="aws, gcp or local")
    s.add_argument("--json", action="store_true")
    s.add_argument("--refresh", "-r", action="store_true", help="measure again, ignoring the cache")
    s.add_argument("--gpus", help="also price these accelerators per region, e.g. H100:8")

    s = _handled_by(sub.add_parser("daemon", help="the background watcher"), "skytui.cli.cmd_daemon:run")
    s.add_argument("action", choices=["status", "stop", "install"])
    return p


def _job_id(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a job id (e.g. 3)")
    return int(text)


def _jobs_shorthand(argv: list[str]) -> list[str]:
    """`skytui jobs 3` is `skytui jobs show 3`: the one spelling argparse cannot route itself."""
    for i, word in enumerate(argv):
        if word == "--theme":  # the only top-level option that takes a value
            continue
        if word.startswith("-") or (i > 0 and argv[i - 1] == "--theme"):
            continue
        if word == "jobs" and i + 1 < len(argv) and argv[i + 1].isdigit():
            return [*argv[:i + 1], "show", *argv[i + 1:]]
        return argv
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    from skytui.cli.errors import run_guarded

    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(_jobs_shorthand(words))
    return run_guarded(lambda: _dispatch(args))


def _dispatch(args: argparse.Namespace) -> int:
    """The one way to a handler: the "module:function" its parser declared."""
    module, _, name = args.handler.partition(":")
    handler = getattr(importlib.import_module(module), name)
    return int(handler(args))


def no_command(args: argparse.Namespace) -> int:
    """`skytui` alone opens the dashboard; `skytui --daemon` starts the watcher."""
    if args.daemon:
        from skytui.cli import daemon

        return daemon.start(args)
    from skytui.cli import app

    return app.run(args)


if __name__ == "__main__":
    sys.exit(main())
