"""The provider contract every cloud adapter offers, shaped by EC2 and GCE semantics."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

INSTANCE_STATES = ("pending", "running", "stopped", "terminated")
SPOT_PREEMPTED = "spot-preempted"

# Ownership tags on every instance; instances we own but the store doesn't know are orphans.
TAG_CLUSTER, TAG_NODE, TAG_JOB, TAG_USER, TAG_REQUEST = (
    "skytui-cluster", "skytui-node", "skytui-job", "skytui-user", "skytui-request")


@dataclass(frozen=True)
class LaunchSpec:
    """What to launch; `request_id` makes a retried launch adopt instead of duplicating."""

    request_id: str  # deterministic: cluster + attempt (EC2 ClientToken, GCE instance names)
    cluster: str
    num_nodes: int
    region: str
    zone: str
    instance_type: str
    spot: bool
    user: str
    ssh_public_key: str
    job_id: int | None = None
    accelerator: str | None = None
    accelerator_count: int = 0
    disk_size_gb: int = 256
    node_env: tuple[dict[str, str], ...] = ()  # per node rank, set on the node for every command
    image_id: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def instance_name(self, rank: int) -> str:
        return f"{self.request_id}-n{rank}"


@dataclass(frozen=True)
class Instance:
    """One VM as the provider reports it."""

    id: str
    cloud: str
    cluster: str
    node: int
    region: str
    zone: str
    state: str  # one of INSTANCE_STATES
    spot: bool
    instance_type: str
    user: str
    request_id: str
    job_id: int | None = None
    reason: str | None = None  # why it is in that state: "spot-preempted", "user-stopped", ...
    host: str | None = None
    ssh_port: int | None = None
    host_key: str | None = None  # the public host key line to pin

    @property
    def preempted(self) -> bool:
        return self.reason == SPOT_PREEMPTED


class Provider(abc.ABC):
    """A cloud: regions and zones, idempotent lifecycle calls, one list call per region."""

    name: str

    @abc.abstractmethod
    def regions(self) -> list[str]:
        """Regions this provider may use (after the config's allow-list)."""

    @abc.abstractmethod
    def zones(self, region: str) -> list[str]:
        """Zones of a region."""

    @abc.abstractmethod
    async def launch(self, spec: LaunchSpec) -> list[Instance]:
        """Create (or adopt, for a retried request id) every node; raise CapacityError when full."""

    @abc.abstractmethod
    async def list_instances(self, region: str) -> list[Instance]:
        """Every instance skytui owns in `region`, in one call."""

    @abc.abstractmethod
    async def stop(self, instance_ids: list[str]) -> None:
        """Stop instances, keeping their disks; stopping a stopped one is a no-op."""

    @abc.abstractmethod
    async def start(self, instance_ids: list[str]) -> list[Instance]:
        """Start stopped instances; starting a running one is a no-op."""

    @abc.abstractmethod
    async def terminate(self, instance_ids: list[str]) -> None:
        """Delete instances and their disks; terminating a gone one is a no-op."""

    async def host_keys(self, instances: list[Instance]) -> dict[str, str]:
        """Host keys the cloud itself vouches for (e.g. EC2's console output), by instance id.

        Nodes left out are trusted on first use (skytui.remote.tofu), with a warning.
        """
        return {}

    def ssh_user(self) -> str | None:
        """The login of this cloud's images; None: the local user's name."""
        return None

    def change_token(self) -> object | None:
        """A cheap value that changes when instances may have changed; None if unknown.

        The watcher lists every poll interval anyway; a provider with a cheap change feed
        (the local cloud's registry; EC2 interruption events, GCE operations later) lets it
        notice a preemption sooner without listing more often.
        """
        return None
