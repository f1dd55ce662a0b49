"""What the watcher asks a node: a job's state plus its new log bytes, in one SSH round trip."""

from __future__ import annotations

import base64
import shlex
from dataclasses import dataclass

from skytui.core import launcher
from skytui.core.context import Core
from skytui.errors import RemoteError
from skytui.remote.marks import as_probe
from skytui.store import Cluster, Node

LOG_CHUNK = 1 << 20  # at most this many new log bytes per check


@dataclass(frozen=True)
class NodeJob:
    """A job on one node: running, exited (code), gone (no code, node alive) or missing."""

    status: str
    exit_code: int | None = None
    log: bytes = b""
    notice_at: float | None = None  # when the node's preemption-notice watcher saw a notice


def _probe_command(remote_job: str, offset: int | None) -> str:
    from skytui.remote.jobs import job_dir, states_command
    from skytui.remote.notice import notice_probe_command

    out = f"( {states_command()} ) | grep -E {shlex.quote('^' + remote_job + ' ')} || true\n"
    out += notice_probe_command()
    if offset is not None:
        out += (f"echo @@log@@\n[ -f {job_dir(remote_job)}/log ] && "
                f"tail -c +{offset + 1} {job_dir(remote_job)}/log | head -c {LOG_CHUNK} | base64\n")
    return out + "exit 0\n"


def _parse(remote_job: str, stdout: str) -> NodeJob:
    from skytui.remote.notice import parse_notice

    head, _, log_text = stdout.partition("@@log@@\n")
    status, code = "missing", None
    for line in head.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == remote_job:
            status = parts[1]
            if status == "exited":
                try:
                    code = int(parts[2])
                except ValueError:
                    status = "gone"
    log = base64.b64decode("".join(log_text.split())) if log_text.strip() else b""
    return NodeJob(status, code, log, parse_notice(head))


async def probe(core: Core, cluster: Cluster, node: Node, remote_job: str,
                log_offset: int | None = None, timeout: float = 20.0) -> NodeJob:
    """Ask one node; RemoteError when it cannot be reached."""
    from skytui.remote.exec import run

    res = await run(core.ssh, launcher.address(core, cluster, node),
                    as_probe(_probe_command(remote_job, log_offset)),
                    timeout=timeout)
    if not res.ok:
        raise RemoteError(f"{node.alias}: cannot read job {remote_job}: {res.stderr.strip()[:200]}")
    return _parse(remote_job, res.stdout)


async def busy_reason(core: Core, cluster: Cluster, node: Node) -> str | None:
    """Why the node is in use (a running job, an interactive session), or None when it is idle."""
    from skytui.remote.exec import run
    from skytui.remote.idle import idle_probe_command, parse_idle

    res = await run(core.ssh, launcher.address(core, cluster, node), idle_probe_command(), timeout=20)
    state = parse_idle(res.stdout)
    if state.idle:
        return None
    if state.running_jobs:
        return f"{state.running_jobs} running job(s)"
    if state.sessions:
        return f"{state.sessions} interactive session(s)"
    return "the idle probe gave no answer"
