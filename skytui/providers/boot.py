"""The boot script a cloud VM runs once: the node's environment (rank, node count, cluster) for
every login, as SkyPilot's nodes have it. AWS passes it as user data, GCP as `startup-script`."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

PROFILE = "/etc/profile.d/skytui-node.sh"


def node_profile_script(env: Mapping[str, str], path: str = PROFILE) -> str:
    """A /bin/sh script that writes `env` as exports to `path` (every value quoted; names that are
    not shell identifiers are left out rather than let into a script run as root)."""
    lines = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(env.items()) if _identifier(k))
    return f"#!/bin/sh\ncat > {shlex.quote(path)} <<'SKYTUI_EOF'\n{lines}SKYTUI_EOF\n"


def _identifier(name: str) -> bool:
    return name.isascii() and name.replace("_", "a").isalnum() and not name[:1].isdigit()
