"""Compute Engine as a skytui provider: one instance per node, SPOT VMs, preemptions seen.

Listing: ONE aggregatedList per round, filtered by the `skytui-user` label and paginated,
serves every region. The watcher asks per region, concurrently: calls that overlap share the
same aggregatedList (unless this adapter changed something since it started), so a round over
N regions costs one list call, not N zone-filtered ones.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from skytui.config_model import Config, GcpSettings
from skytui.errors import CapacityError, ProviderError, SkytuiError
from skytui.providers.base import (
    SPOT_PREEMPTED,
    TAG_CLUSTER,
    TAG_JOB,
    TAG_NODE,
    TAG_REQUEST,
    TAG_STORE,
    TAG_USER,
    Instance,
    LaunchSpec,
    Provider,
)
from skytui.providers.boot import node_profile_script
from skytui.providers.gcp import naming
from skytui.providers.gcp.api import Api

# How long a preempted-and-deleted instance stays visible, as the console keeps it in its log.
GONE_VISIBLE_S = 3600.0
# A spot instance seen stopped but with no preemption operation is checked again after this.
RECHECK_STOPPED_S = 30.0
# A VM launched here is reported SSH-ready only once its guest agent published its host keys,
# or after this long running without them (then the shared trust-on-first-use path takes over).
HOST_KEY_WAIT_S = 45.0
_STATES = {"PROVISIONING": "pending", "STAGING": "pending", "REPAIRING": "pending", "RUNNING": "running",
           "STOPPING": "stopped", "SUSPENDING": "stopped", "SUSPENDED": "stopped", "STOPPED": "stopped",
           "TERMINATED": "stopped"}


@dataclass
class _Listing:
    """One aggregatedList in flight or done, shared by the calls that overlap it."""

    generation: int
    task: asyncio.Future[dict[str, list[Instance]]]


class GcpCloud(Provider):
    """Compute Engine in one project; every call goes through `Api` in a worker thread."""

    name = "gcp"

    def __init__(self, settings: GcpSettings | None = None, *, private_ips_only: bool = False,
                 allowed_regions: tuple[str, ...] = (), user: str | None = None,
                 ssh_user: str | None = None) -> None:
        from skytui.store import current_user

        self.settings = settings or GcpSettings()
        if self.settings.project is not None and not _valid_project(self.settings.project):
            raise ProviderError(f"gcp.project {self.settings.project!r} is not a GCP project id",
                                "use the project ID (6-30 lowercase letters, digits, hyphens)")
        self.api = Api(self.settings.project, self.settings.endpoint)
        self.private_ips_only = private_ips_only
        self.allowed_regions = allowed_regions
        self.user = user or current_user()
        self.login_user = ssh_user  # config.ssh_user; else the launching user's name (not `ssh_user()`, the base hook)
        self.ssh_port = self.settings.ssh_port
        self._generation = 0  # bumped by every change this adapter makes
        self._listing: _Listing | None = None
        self._seen: dict[str, Instance] = {}  # last listing, by id: to notice a deleted spot VM
        self._gone: dict[str, tuple[Instance, float]] = {}  # preempted and deleted, kept a while
        self._preempted: set[str] = set()
        self._not_preempted: dict[str, float] = {}  # id -> when operations showed no preemption
        self._host_keys: dict[str, str] = {}
        self._want_keys: set[str] = set()  # launched or started here: their host keys are needed
        self._running_since: dict[str, float] = {}  # first seen running without a host key
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="skytui-gcp")

    # -- geography -------------------------------------------------------------------------------
    def regions(self) -> list[str]:
        from skytui.catalog import for_cloud

        regions = sorted({o.region for o in for_cloud("gcp")})
        if self.allowed_regions:
            regions = [r for r in regions if r in self.allowed_regions]
        return regions

    def zones(self, region: str) -> list[str]:
        from skytui.catalog import for_cloud

        return sorted({o.zone for o in for_cloud("gcp") if o.region == region and o.zone})

    # -- launch ----------------------------------------------------------------------------------
    async def launch(self, spec: LaunchSpec) -> list[Instance]:
        self._generation += 1
        try:
            return await asyncio.to_thread(self._launch, spec)
        finally:
            self._generation += 1

    def _launch(self, spec: LaunchSpec) -> list[Instance]:
        if not spec.zone or naming.region_of(spec.zone) != spec.region:
            raise ProviderError(f"gcp: zone {spec.zone!r} is not in region {spec.region}",
                                f"use one of {', '.join(self.zones(spec.region)) or 'the catalog zones'}")
        names = [naming.instance_name(spec.request_id, rank) for rank in range(spec.num_nodes)]
        try:
            list(self._pool.map(lambda rank: self._create(spec, rank, names[rank]), range(spec.num_nodes)))
        except CapacityError:
            # Nothing half-made stays billing: the planner tries elsewhere with a clean slate.
            self._delete_names(spec.zone, names, spec.request_id)
            raise
        out = []
        for name in names:
            inst = self.api.get(spec.zone, name)
            if inst is None:
                raise ProviderError(f"gcp: instance {spec.zone}/{name} vanished right after it was created")
            view = self._instance(spec.zone, inst)
            if view is None:
                raise ProviderError(f"gcp: instance {spec.zone}/{name} carries no skytui labels")
            self._want_keys.add(view.id)
            out.append(view)
        return out

    def _create(self, spec: LaunchSpec, rank: int, name: str) -> None:
        op = self.api.insert(spec.zone, self._body(spec, rank, name), f"{spec.request_id}/{rank}")
        if op is None:  # 409: a retried request finds its instance; adopt it only if it is ours
            existing = self.api.get(spec.zone, name)
            if existing is None:
                raise ProviderError(f"gcp: {spec.zone}/{name} exists and vanished; launch again")
            if existing.labels.get(TAG_REQUEST) != naming.label_value(spec.request_id):
                raise ProviderError(f"gcp: an instance named {name} already exists in {spec.zone} and "
                                    "skytui did not make it", "rename or delete it; skytui will not touch it")
            return
        self.api.wait(spec.zone, op, f"creating {name}")

    def _body(self, spec: LaunchSpec, rank: int, name: str) -> Any:
        cv1 = self.api.compute
        zone = spec.zone
        sched = cv1.Scheduling(on_host_maintenance="TERMINATE" if (spec.accelerator or naming.carries_gpus(
            spec.instance_type)) else "MIGRATE", automatic_restart=not spec.spot)
        if spec.spot:
            # Jobs are recovered elsewhere, so a preempted job VM goes; a dev VM keeps its disk.
            sched = cv1.Scheduling(provisioning_model="SPOT", on_host_maintenance="TERMINATE",
                                   automatic_restart=False,
                                   instance_termination_action="DELETE" if spec.job_id is not None else "STOP")
        accels = []
        if spec.accelerator and spec.accelerator_count and not naming.carries_gpus(spec.instance_type):
            accels = [cv1.AcceleratorConfig(
                accelerator_count=spec.accelerator_count,
                accelerator_type=f"zones/{zone}/acceleratorTypes/{naming.accelerator_type(spec.accelerator)}")]
        user = spec.user
        login = self.login_user or user  # the account the guest agent creates for our key
        metadata = [
            cv1.Items(key="ssh-keys", value=f"{login}:{spec.ssh_public_key.strip()}"),
            cv1.Items(key="enable-guest-attributes", value="TRUE"),  # the guest agent publishes host keys
        ]
        if spec.accelerator:
            metadata.append(cv1.Items(key="install-nvidia-driver", value="True"))
        env = spec.node_env[rank] if rank < len(spec.node_env) else {}
        if env:  # the guest agent runs it at every boot: rank and cluster for every login
            metadata.append(cv1.Items(key="startup-script", value=node_profile_script(env)))
        nic = cv1.NetworkInterface(network="global/networks/default")
        if not self.private_ips_only:
            nic.access_configs = [cv1.AccessConfig(name="External NAT", type_="ONE_TO_ONE_NAT")]
        return cv1.Instance(
            name=name,
            # The exact owner (labels are lowercased and cut at 63), in a plain string field that
            # is cheap to list: a watcher round parses it for every instance.
            description=naming.owner_description(cluster=spec.cluster, node=rank, user=user,
                                                 request_id=spec.request_id, job_id=spec.job_id,
                                                 instance_type=spec.instance_type, spot=spec.spot,
                                                 store_id=spec.store_id),
            machine_type=f"zones/{zone}/machineTypes/{spec.instance_type}",
            labels=naming.owner_labels(cluster=spec.cluster, node=rank, user=user, request_id=spec.request_id,
                                       job_id=spec.job_id, extra=spec.labels, store_id=spec.store_id),
            metadata=cv1.Metadata(items=metadata),
            scheduling=sched,
            guest_accelerators=accels,
            disks=[cv1.AttachedDisk(boot=True, auto_delete=True, initialize_params=cv1.AttachedDiskInitializeParams(
                disk_size_gb=spec.disk_size_gb,
                source_image=naming.source_image(spec.accelerator, spec.image_id)))],
            network_interfaces=[nic],
        )

    # -- listing ---------------------------------------------------------------------------------
    async def list_instances(self, region: str) -> list[Instance]:
        loop = asyncio.get_running_loop()
        shared = self._listing
        if (shared is None or shared.generation != self._generation or shared.task.done()
                or shared.task.get_loop() is not loop):
            shared = _Listing(self._generation, asyncio.ensure_future(asyncio.to_thread(self._list_all)))
            self._listing = shared
        by_region = await asyncio.shield(shared.task)
        return list(by_region.get(region, ()))

    def _list_all(self) -> dict[str, list[Instance]]:
        by_region: dict[str, list[Instance]] = {}
        for inst in self._list_everything():
            by_region.setdefault(inst.region, []).append(inst)
        return by_region

    def _list_everything(self) -> list[Instance]:
        now = time.time()
        found: dict[str, Instance] = {}
        for zone, inst in self.api.aggregated(naming.user_filter(self.user)):
            view = self._instance(zone, inst)
            if view is not None and view.user == self.user:
                found[view.id] = view
        self._confirm_preemptions(found, now)
        for iid in [i for i in self._want_keys if i in found and found[i].state == "running"]:
            self._fetch_host_key(found, iid)
        self._seen = {i.id: i for i in found.values() if i.state != "terminated"}
        for iid, (inst, at) in list(self._gone.items()):
            if now - at > GONE_VISIBLE_S:
                del self._gone[iid]
            elif iid not in found:
                found[iid] = inst
        return list(found.values())

    def _confirm_preemptions(self, found: dict[str, Instance], now: float) -> None:
        """A spot VM stopped or gone is preempted only if a compute.instances.preempted op says so."""
        stopped = [i for i in found.values() if i.spot and i.state == "stopped" and i.id not in self._preempted
                   and now - self._not_preempted.get(i.id, 0.0) > RECHECK_STOPPED_S]
        vanished = [i for iid, i in self._seen.items() if iid not in found and i.spot]
        zones = sorted({i.zone for i in stopped + vanished})
        if not zones:
            self._mark(found)
            return
        by_zone = dict(zip(zones, self._pool.map(self.api.preempted_targets, zones), strict=True))
        for i in stopped:
            if _name(i.id) in by_zone[i.zone]:
                self._preempted.add(i.id)
            else:
                self._not_preempted[i.id] = now
        for i in vanished:
            if _name(i.id) in by_zone[i.zone]:
                self._gone[i.id] = (replace(i, state="terminated", reason=SPOT_PREEMPTED, host=None), now)
        self._mark(found)

    def _mark(self, found: dict[str, Instance]) -> None:
        for iid in self._preempted & found.keys():
            found[iid] = replace(found[iid], state="terminated", reason=SPOT_PREEMPTED)

    def _fetch_host_key(self, found: dict[str, Instance], iid: str) -> None:
        if iid not in self._host_keys:
            key = self.api.host_key(found[iid].zone, _name(iid))
            if key is None:
                # Not published yet: not SSH-ready either, so the launcher keeps waiting.
                since = self._running_since.setdefault(iid, time.monotonic())
                if time.monotonic() - since < HOST_KEY_WAIT_S:
                    found[iid] = replace(found[iid], ssh_port=None)
                return
            self._host_keys[iid] = key
            self._want_keys.discard(iid)
            self._running_since.pop(iid, None)
        found[iid] = replace(found[iid], host_key=self._host_keys[iid])

    def _instance(self, zone: str, inst: Any) -> Instance | None:
        """skytui's view of a GCE instance (a raw protobuf, or a proto-plus one from a get).

        A listing carries only the fields in api.LIST_FIELDS: the owner record in the
        description then stands in for labels, machine type and scheduling.
        """
        if not hasattr(inst, "DESCRIPTOR"):
            inst = type(inst).pb(inst)
        owner = _owner(inst)
        labels = inst.labels
        cluster = owner.get("cluster") or labels.get(TAG_CLUSTER)
        if not cluster:
            return None  # not made by skytui (or its record was edited away): never touched
        job = owner.get("job", labels.get(TAG_JOB))
        iid = f"{zone}/{inst.name}"
        state = _STATES.get(inst.status, "pending")
        spot = bool(owner.get("spot")) or inst.scheduling.provisioning_model == "SPOT" or inst.scheduling.preemptible
        host = None
        if state == "running" and inst.network_interfaces:
            nic = inst.network_interfaces[0]
            nat = next((a.nat_i_p for a in nic.access_configs if a.nat_i_p), None)
            host = nic.network_i_p if self.private_ips_only or not nat else nat
        return Instance(
            id=iid, cloud="gcp", cluster=str(cluster),
            node=int(owner.get("node", labels.get(TAG_NODE, 0))), region=naming.region_of(zone), zone=zone,
            state=state, spot=spot,
            instance_type=str(owner.get("type") or naming.last_segment(inst.machine_type)),
            user=str(owner.get("user") or labels.get(TAG_USER, "")),
            request_id=str(owner.get("request") or labels.get(TAG_REQUEST, "")),
            job_id=int(job) if job not in (None, "") else None,
            reason="user-stopped" if state == "stopped" else None,
            host=host, ssh_port=self.ssh_port if state == "running" else None,
            host_key=self._host_keys.get(iid),
            store_id=owner.get("store") or labels.get(TAG_STORE) or None)

    # -- lifecycle -------------------------------------------------------------------------------
    async def stop(self, instance_ids: list[str]) -> None:
        await self._each("stop", instance_ids)

    async def start(self, instance_ids: list[str]) -> list[Instance]:
        await self._each("start", instance_ids)
        self._want_keys.update(instance_ids)
        out = []
        for iid in instance_ids:
            zone, name = _split(iid)
            inst = await asyncio.to_thread(self.api.get, zone, name)
            if inst is None:
                raise ProviderError(f"gcp: instance {iid} is gone and cannot be started",
                                    "skytui down the cluster and launch again")
            view = self._instance(zone, inst)
            if view is not None:
                out.append(view)
        return out

    async def terminate(self, instance_ids: list[str]) -> None:
        await self._each("delete", instance_ids)
        for iid in instance_ids:
            self._seen.pop(iid, None)
            self._gone.pop(iid, None)
            self._host_keys.pop(iid, None)

    async def _each(self, action: str, instance_ids: list[str]) -> None:
        if not instance_ids:
            return
        self._generation += 1
        try:
            await asyncio.to_thread(lambda: list(self._pool.map(lambda i: self._one(action, i), instance_ids)))
        finally:
            self._generation += 1

    def _one(self, action: str, iid: str) -> None:
        zone, name = _split(iid)
        op = self.api.lifecycle(action, zone, name, f"{action}/{iid}")
        if op is not None:  # None: already gone, which is what stop/delete wanted
            self.api.wait(zone, op, f"{action} of {name}")
        elif action == "start":
            raise ProviderError(f"gcp: instance {iid} is gone and cannot be started",
                                "skytui down the cluster and launch again")

    def _delete_names(self, zone: str, names: list[str], request_id: str) -> None:
        """Delete this request's instances among `names`; one of that name made by others stays."""
        def one(name: str) -> None:
            try:
                inst = self.api.get(zone, name)
                if inst is not None and inst.labels.get(TAG_REQUEST) == naming.label_value(request_id):
                    self._one("delete", f"{zone}/{name}")
            except SkytuiError:
                pass  # best effort: a failed launch must still report its first error

        list(self._pool.map(one, names))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def make(config: Config) -> GcpCloud:
    return GcpCloud(config.gcp, private_ips_only=config.private_ips_only,
                    allowed_regions=config.allowed_regions.get("gcp", ()), ssh_user=config.ssh_user)


def _valid_project(project: str) -> bool:
    import re

    return re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", project) is not None


def _split(iid: str) -> tuple[str, str]:
    zone, sep, name = iid.partition("/")
    if not sep or not zone or not name:
        raise ProviderError(f"{iid!r} is not a gcp instance id (ZONE/NAME)")
    return zone, name


def _name(iid: str) -> str:
    return iid.partition("/")[2]


def _owner(inst: Any) -> dict[str, Any]:
    text = inst.description
    if not text.startswith(naming.OWNER_PREFIX):
        return {}
    try:
        data = json.loads(text[len(naming.OWNER_PREFIX):])
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}

