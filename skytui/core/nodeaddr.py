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
    image_user = core.provider(cloud).ssh_user() if cloud != "local" else None  # e.g. ubuntu on AWS
    if image_user:
        return validate_user_name(image_user, f"{cloud}'s image user")
    return validate_user_name(current_user(), "your login name ($LOGNAME / $USER)")


def address(core: Core, cluster: Cluster | str, node: Node) -> NodeAddress:
    cloud = cluster.cloud if isinstance(cluster, Cluster) else "local"
    region = (cluster.region or "") if isinstance(cluster, Cluster) else ""
    return _address(core, cloud, region, node.host or "127.0.0.1", int(node.port or 22),
                    node.host_key or "", node.alias)


def _address(core: Core, cloud: str, region: str, host: str, port: int, host_key: str,
             alias: str) -> NodeAddress:
    from skytui.remote.pool import NodeAddress  # asyncssh loads with the first connection

    key_path, _ = core.user_key
    proxy = core.config.ssh_proxy_for(cloud, region)
    return NodeAddress(host=host, port=port, user=ssh_user(core, cloud), key_path=key_path,
                       host_key=host_key, alias=alias, proxy_jump=proxy.jump if proxy else None,
                       proxy_command=proxy.command if proxy else None)
