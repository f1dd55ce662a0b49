"""How to reach a node over SSH: its address, login user and key.

Its own module because both the launch flow (`launcher`) and what the launch flow calls
(`storage.attach`, telemetry) need it; in `launcher` it tied them into a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skytui.core.context import Core
from skytui.store import Cluster, Node, current_user

if TYPE_CHECKING:
    from skytui.remote.pool import NodeAddress


def ssh_user(core: Core, cloud: str) -> str:
    """The user to SSH in as; checked as a login name, since it is written into the SSH config."""
    from skytui.names import validate_user_name

    if core.config.ssh_user:
        return validate_user_name(core.config.ssh_user, "config.yaml: ssh_user")
    return validate_user_name(current_user(), "your login name ($LOGNAME / $USER)")


def address(core: Core, cluster: Cluster | str, node: Node) -> NodeAddress:
    from skytui.remote.pool import NodeAddress  # asyncssh loads with the first connection

    cloud = cluster.cloud if isinstance(cluster, Cluster) else "local"
    key_path, _ = core.user_key
    return NodeAddress(host=node.host or "127.0.0.1", port=int(node.port or 22),
                       user=ssh_user(core, cloud), key_path=key_path, host_key=node.host_key or "",
                       alias=node.alias)
