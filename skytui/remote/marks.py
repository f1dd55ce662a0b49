"""The mark on skytui's own read-only probes, so a node never counts them as someone using it.

Every other SSH session (a command, a shell, SFTP, a port forward) is activity: autostop must
not stop a VM under `ssh node 'make train'` or an scp. The probes that ask whether a node is
idle (and the job checks, GPU sampling and log tails that run beside them) start with this
shell comment; a node's session bookkeeping skips commands that do.
"""

from __future__ import annotations

PROBE_MARK = "# skytui-probe\n"


def as_probe(command: str) -> str:
    return PROBE_MARK + command


def is_probe(command: str | None) -> bool:
    return command is not None and command.startswith(PROBE_MARK)
