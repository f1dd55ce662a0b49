"""The provider contract every cloud adapter offers, shaped by EC2 and GCE semantics."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

INSTANCE_STATES = ("pending", "running", "stopped", "terminated")
SPOT_PREEMPTED = "spot-preempted"

# Ownership tags on every instance; instances we own but the store doesn't know are orphans.
TAG_CLUSTER, TAG_NODE, TAG_JOB, TAG_USER, TAG_REQUEST = (
    "skytui-cluster", "skytui-node", "skytui-job", "skytui-user", "skytui-request")
# The identity of the state store that launched the instance. A job id or cluster name alone
# is not ownership (a store started afresh reuses job ids; names repeat): skytui only ever
# terminates an instance on its own whose store tag is its own store's.
TAG_STORE = "skytui-store"


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
    # From `disk_tier` / `network_tier` (skytui.core.tiers); None/False: the cloud's default.
    disk_tier: str | None = None
    disk_type: str | None = None  # gp3, io2, pd-balanced, pd-ssd, hyperdisk-balanced, ...
    disk_iops: int | None = None
    disk_throughput_mbps: int | None = None
    network_tier: str | None = None
    efa: bool = False  # AWS: EFA network interfaces
    gvnic: bool = False  # GCP: gVNIC (with Tier_1 bandwidth where the machine takes it)
    store_id: str | None = None  # tag it as TAG_STORE; None only for callers outside a store

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
    # When the cloud announced it will reclaim this (spot) VM, where it says so in its listing
    # (the local cloud does; EC2 and GCE announce on the VM itself, read by the node check).
    notice_at: float | None = None
    store_id: str | None = None  # the TAG_STORE tag: which skytui state store launched it

    def owned_by(self, store_id: str) -> bool:
        """Positively ours: launched by this very store (an untagged instance never is)."""
        return self.store_id is not None and self.store_id == store_id

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
