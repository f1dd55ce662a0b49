"""Is anyone using a node? No running job and no open interactive session means idle."""

from __future__ import annotations

from dataclasses import dataclass

from skytui.remote.jobs import parse_states, states_command
from skytui.remote.marks import as_probe

SESSIONS_DIR = ".skytui/sessions"  # written by local nodes, one file per open session


@dataclass(frozen=True)
class IdleState:
    """What the probe saw: the node is idle when nothing runs and nobody is logged in."""

    idle: bool
    running_jobs: int
    sessions: int


def idle_probe_command() -> str:
    """One shell command that prints every job's state, then `sessions N`.

    Local nodes record shells, terminals and forwarded ports in ~/.skytui/sessions; on a
    real VM (no such directory) logged-in terminals (`who`) count instead.
    """
    return as_probe("(" + states_command() + ")\n"
            f'if [ -d "$HOME"/{SESSIONS_DIR} ]; then\n'
            f'  n=$(ls -A "$HOME"/{SESSIONS_DIR} | wc -l)\n'
            "else\n"
            "  n=$(who 2>/dev/null | wc -l)\n"
            "fi\n"
            "echo sessions $n\n")


def parse_idle(output: str) -> IdleState:
    """Read the probe's output; a probe without its `sessions` line is never taken as idle."""
    running = sum(1 for s in parse_states(output).values() if s.status == "running")
    sessions: int | None = None
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "sessions" and parts[1].isdigit():
            sessions = int(parts[1])
    if sessions is None:
        return IdleState(False, running, 0)
    return IdleState(running == 0 and sessions == 0, running, sessions)
