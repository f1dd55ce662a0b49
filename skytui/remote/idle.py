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


# On a real VM every SSH connection has an OpenSSH session process, `sshd: USER@pts/N` for a
# terminal and `sshd: USER@notty` for a command, SFTP or scp (`sshd-session:` on OpenSSH 9.8+).
# A connection is someone's activity when such a process has a child that is not one of
# skytui's own probes: a shell, `sleep 240`, `sftp-server`, `rsync`. skytui's own pooled
# connection only ever runs marked probes, so it never keeps a VM awake. A port forward with no
# command (`ssh -N -L ...`) has no child and is not seen; `who` still counts terminals.
REAL_VM_SESSIONS = (
    "n=0\n"
    "for p in $(pgrep -f '^sshd(-session)?: [^ ]+@' 2>/dev/null); do\n"
    "  for c in $(pgrep -P \"$p\" 2>/dev/null); do\n"
    "    if ! tr '\\000' ' ' < /proc/$c/cmdline 2>/dev/null | grep -q 'skytui-probe'; then\n"
    "      n=$((n + 1)); break\n"
    "    fi\n"
    "  done\n"
    "done\n"
    "t=$(who 2>/dev/null | wc -l)\n"
    "[ \"$t\" -gt \"$n\" ] && n=$t\n"
)


def idle_probe_command() -> str:
    """One shell command that prints every job's state, then `sessions N`.

    Local nodes record shells, commands, SFTP and forwarded ports in ~/.skytui/sessions; on a
    real VM (no such directory) SSH connections running anything but skytui's probes count,
    and logged-in terminals (`who`).
    """
    return as_probe("(" + states_command() + ")\n"
            f'if [ -d "$HOME"/{SESSIONS_DIR} ]; then\n'
            f'  n=$(ls -A "$HOME"/{SESSIONS_DIR} | wc -l)\n'
            "else\n"
            + REAL_VM_SESSIONS +
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
