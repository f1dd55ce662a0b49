"""Amazon EC2 behind the Provider contract: tagged instances, one list call per region.

What skytui owns carries the `skytui-user` tag (instances, their volumes, our key pair and
security group); nothing untagged is ever stopped, terminated or deleted.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from skytui.catalog import accelerators
from skytui.config_model import Config
from skytui.errors import CapacityError, ProviderError, SkytuiError
from skytui.providers.aws.session import AwsSession, error_code, translate
from skytui.providers.aws.setup import RegionSetup
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

log = logging.getLogger(__name__)

_STATES = {"pending": "pending", "running": "running", "stopping": "stopped", "stopped": "stopped",
           "shutting-down": "terminated", "terminated": "terminated"}
# EC2's StateReason codes, in the words the rest of skytui uses.
_REASONS = {"Server.SpotInstanceTermination": SPOT_PREEMPTED,
            "Server.SpotInstanceShutdown": SPOT_PREEMPTED,
            "Client.UserInitiatedShutdown": "user-initiated",
            "Client.InstanceInitiatedShutdown": "shut-down-from-inside",
            "Server.InsufficientInstanceCapacity": "no-capacity",
            "Server.InternalError": "cloud-error",
            "Client.VolumeLimitExceeded": "volume-limit"}
_LIVE = ("pending", "running", "stopping", "stopped")
PAGE_SIZE = 1000  # DescribeInstances' largest page
DEFAULT_SSH_USER = "ubuntu"  # the Ubuntu and Deep Learning images' login


def client_token(request_id: str, rank: int) -> str:
    """EC2 ClientToken (at most 64 ASCII characters): the request id and the node's rank."""
    token = f"{request_id}-n{rank}"
    if len(token) <= 64:
        return token
    return f"{token[:47]}-{hashlib.sha256(token.encode()).hexdigest()[:16]}"


def node_name(cluster: str, rank: int) -> str:
    return cluster if rank == 0 else f"{cluster}-worker{rank}"


class AwsProvider(Provider):
    """EC2 in the regions the bundled catalog knows (after `allowed_regions`)."""

    name = "aws"

    def __init__(self, config: Config, *, user: str | None = None, session: AwsSession | None = None) -> None:
        from skytui.store import current_user

        self.config = config
        self.user = user or current_user()
        self.session = session or AwsSession(config.aws)
        self.setup = RegionSetup()
        self._region_of: dict[str, str] = {}  # instance id -> region, as launched or listed
        self._zones: dict[str, dict[str, str]] = {}  # region -> zone id -> zone name
        self._zones_lock = threading.Lock()
        self._egress_cidr: str | None = None

    # -- geography ---------------------------------------------------------------------------
    def regions(self) -> list[str]:
        from skytui.catalog import load

        allowed = self.config.allowed_regions.get("aws")
        known = sorted({o.region for o in load("aws")})
        return [r for r in known if not allowed or r in allowed]

    def zones(self, region: str) -> list[str]:
        """Zone names of `region` in this account (us-east-1a, ...): one cached call per region."""
        return sorted(self.zone_names(region).values())

    def zone_names(self, region: str) -> dict[str, str]:
        """Zone id (use1-az1, as the catalog has them) -> zone name in this account."""
        with self._zones_lock:
            if region in self._zones:
                return self._zones[region]
        from skytui.providers.aws import zonemap

        names = zonemap.zone_names(self.session, region)
        with self._zones_lock:
            self._zones[region] = names
        return names

    def zone_name(self, region: str, zone: str) -> str:
        """A zone given by name or by id, as this account's zone name; ProviderError if unknown."""
        names = self.zone_names(region)
        if zone in names.values():
            return zone
        if zone in names:
            return names[zone]
        raise ProviderError(f"aws {region} has no zone {zone!r}",
                            f"use one of {', '.join(sorted(names.values()))}")

    def _check_region(self, region: str) -> None:
        if region not in self.regions():
            from skytui.catalog import load

            known = sorted({o.region for o in load("aws")})
            if region in known:
                raise ProviderError(f"aws region {region} is not in allowed_regions",
                                    "add it to allowed_regions.aws in config.yaml")
            raise ProviderError(f"unknown aws region {region!r}",
                                f"use one of {', '.join(known[:6])}, ... (`skytui show-gpus --all-regions`)")

    def ec2(self, region: str) -> Any:
        return self.session.client("ec2", region)

    def _call(self, fn: Any, *args: Any, action: str, region: str, zone: str | None = None,
              **kwargs: Any) -> Any:
        """fn(*args, **kwargs), with any AWS failure as skytui's typed one-line error."""
        try:
            return fn(*args, **kwargs)
        except SkytuiError:
            raise
        except Exception as exc:  # noqa: BLE001 - every SDK failure is translated to a typed error
            raise translate(exc, self.session, action=action, region=region, zone=zone) from None

    # -- lifecycle ---------------------------------------------------------------------------
    async def launch(self, spec: LaunchSpec) -> list[Instance]:
        return await asyncio.to_thread(self._launch, spec)

    def _launch(self, spec: LaunchSpec) -> list[Instance]:
        region = spec.region
        self._check_region(region)
        zone = self._call(lambda: self.zone_name(region, spec.zone), action="describe zones",
                          region=region) if spec.zone else None
        ec2 = self.ec2(region)
        # EC2 honours ClientToken, but look for our request tag first: a retried launch adopts
        # what an earlier try made, whatever the endpoint does with tokens.
        existing = self._call(lambda: self._by_request(ec2, region, spec.request_id),
                              action="look for an earlier launch", region=region)
        have = {i.node for i in existing}
        missing = [rank for rank in range(spec.num_nodes) if rank not in have]
        if not missing:
            return sorted(existing, key=lambda i: i.node)
        # All nodes of a cluster in one zone: pinned, or the zone of nodes already made.
        zone = zone or (existing[0].zone if existing else None)
        if zone is None:
            raise ProviderError(f"aws {region}: launch needs a zone", "the planner always gives one")
        offered = self._call(lambda: self.setup.offered_types(ec2, region, zone),
                             action="describe instance type offerings", region=region, zone=zone)
        if spec.instance_type not in offered:
            raise CapacityError(f"aws: {spec.instance_type} is not offered in {zone}",
                                cloud="aws", region=region, zone=zone)
        params = self._call(lambda: self._run_params(ec2, spec, zone), action="prepare the launch",
                            region=region, zone=zone)
        made: list[str] = []
        try:
            for rank in missing:
                made.append(self._run_one(ec2, spec, params, zone, rank))
        except BaseException:
            # Nothing half-made stays billing: what this call started goes, then the error.
            try:
                if made:
                    ec2.terminate_instances(InstanceIds=made)
                # Our key pair and group go too when no other instance of ours is in the region.
                self._clean_region(region)
            except Exception:  # the first error is the one the user acts on
                log.exception("could not clean up after a failed launch in %s", region)
            raise
        found = self._call(lambda: self._by_request(ec2, region, spec.request_id),
                           action="describe the new instances", region=region)
        got = {i.id for i in found}
        # A just-made instance may not be listed yet (eventual consistency): ask for it by id.
        late = [iid for iid in made if iid not in got]
        if late:
            found += self._call(lambda: self._describe(ec2, region, InstanceIds=late),
                                action="describe the new instances", region=region)
        return sorted(found, key=lambda i: i.node)

    def _run_params(self, ec2: Any, spec: LaunchSpec, zone: str) -> dict[str, Any]:
        region = spec.region
        image = self.setup.image(ec2, region, gpu=bool(spec.accelerator), image_id=spec.image_id,
                                 neuron=spec.accelerator in accelerators.NEURON)
        key = self.setup.key_pair(ec2, region, spec.user, spec.ssh_public_key)
        private = self.config.private_ips_only
        cidr = self.setup.default_vpc(ec2, region).get("CidrBlock", "0.0.0.0/0") if private \
            else self._egress()
        group = self.setup.security_group(ec2, region, spec.user, cidr)
        subnet = self.setup.subnet(ec2, region, zone)
        params: dict[str, Any] = {
            "ImageId": image.image_id, "InstanceType": spec.instance_type, "MinCount": 1, "MaxCount": 1,
            "KeyName": key, "Placement": {"AvailabilityZone": zone},
            "NetworkInterfaces": [{"DeviceIndex": 0, "SubnetId": subnet, "Groups": [group],
                                   "AssociatePublicIpAddress": not private, "DeleteOnTermination": True}],
            "BlockDeviceMappings": [{"DeviceName": image.root_device, "Ebs": {
                "VolumeSize": int(spec.disk_size_gb), "VolumeType": "gp3", "DeleteOnTermination": True}}],
            "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
        }
        if spec.spot:
            params["InstanceMarketOptions"] = {"MarketType": "spot", "SpotOptions": {
                "SpotInstanceType": "one-time", "InstanceInterruptionBehavior": "terminate"}}
        return params

    def _run_one(self, ec2: Any, spec: LaunchSpec, params: dict[str, Any], zone: str, rank: int) -> str:
        tags = [{"Key": TAG_CLUSTER, "Value": spec.cluster}, {"Key": TAG_NODE, "Value": str(rank)},
                {"Key": TAG_USER, "Value": spec.user}, {"Key": TAG_REQUEST, "Value": spec.request_id},
                {"Key": "Name", "Value": node_name(spec.cluster, rank)}]
        if spec.job_id is not None:
            tags.append({"Key": TAG_JOB, "Value": str(spec.job_id)})
        if spec.store_id:  # which state store launched it: ownership is proven by this, not by name
            tags.append({"Key": TAG_STORE, "Value": spec.store_id})
        tags += [{"Key": k, "Value": v} for k, v in spec.labels.items()
                 if not k.startswith(("skytui-", "aws:")) and k != "Name"]
        env = spec.node_env[rank] if rank < len(spec.node_env) else {}
        run = dict(params, ClientToken=client_token(spec.request_id, rank),
                   TagSpecifications=[{"ResourceType": "instance", "Tags": tags},
                                      {"ResourceType": "volume", "Tags": tags}])
        if env:
            run["UserData"] = node_profile_script(env)
        out = self._call(lambda: ec2.run_instances(**run), action="run_instances",
                         region=spec.region, zone=zone)
        iid = str(out["Instances"][0]["InstanceId"])
        self._region_of[iid] = spec.region
        return iid

    def _egress(self) -> str:
        """SSH is opened to this machine's public IP when it can be learned, else to anyone."""
        if self._egress_cidr is None:
            self._egress_cidr = "0.0.0.0/0"
            if not self.config.aws.endpoint_url:  # an emulator has no idea of our address
                import ipaddress
                import urllib.request

                try:
                    with urllib.request.urlopen("https://checkip.amazonaws.com", timeout=2) as r:
                        self._egress_cidr = f"{ipaddress.ip_address(r.read().decode().strip())}/32"
                except Exception:  # noqa: BLE001 - offline or blocked: keep 0.0.0.0/0 (keys still guard SSH)
                    pass
        return self._egress_cidr

    def _by_request(self, ec2: Any, region: str, request_id: str) -> list[Instance]:
        return self._describe(ec2, region, Filters=[
            {"Name": f"tag:{TAG_REQUEST}", "Values": [request_id]},
            {"Name": f"tag:{TAG_USER}", "Values": [self.user]},
            {"Name": "instance-state-name", "Values": list(_LIVE)}])

    def _describe(self, ec2: Any, region: str, **kwargs: Any) -> list[Instance]:
        from skytui.remote import tofu

        keys = tofu.read_all()
        out = []
        if "InstanceIds" not in kwargs:  # pages of the API's largest size: fewest calls
            kwargs["PaginationConfig"] = {"PageSize": PAGE_SIZE}
        for page in ec2.get_paginator("describe_instances").paginate(**kwargs):
            for res in page["Reservations"]:
                for raw in res["Instances"]:
                    inst = self._instance(raw, region, keys)
                    if inst is not None:
                        out.append(inst)
        return out

    def _instance(self, raw: dict[str, Any], region: str, keys: dict[str, str]) -> Instance | None:
        tags = {t["Key"]: t["Value"] for t in raw.get("Tags", [])}
        if tags.get(TAG_USER) != self.user or TAG_CLUSTER not in tags:
            return None  # not ours: never reported, so never touched
        from skytui.remote.tofu import host_id

        iid = raw["InstanceId"]
        self._region_of[iid] = region
        state = _STATES.get(raw["State"]["Name"], "pending")
        code = (raw.get("StateReason") or {}).get("Code")
        reason = _REASONS.get(code or "", code) if state in ("stopped", "terminated") else None
        if state == "stopped" and reason == "user-initiated":
            reason = "user-stopped"
        elif state == "terminated" and reason == "user-initiated":
            reason = "user-terminated"
        host = None
        if state in ("pending", "running"):
            public = None if self.config.private_ips_only else raw.get("PublicIpAddress")
            host = public or raw.get("PrivateIpAddress")
        try:
            node = int(tags.get(TAG_NODE, "0"))
        except ValueError:
            node = 0
        job = tags.get(TAG_JOB)
        return Instance(
            id=iid, cloud="aws", cluster=tags[TAG_CLUSTER], node=node, region=region,
            zone=(raw.get("Placement") or {}).get("AvailabilityZone", ""), state=state,
            spot=raw.get("InstanceLifecycle") == "spot", instance_type=raw.get("InstanceType", ""),
            user=self.user, request_id=tags.get(TAG_REQUEST, ""),
            job_id=int(job) if job and job.isdigit() else None, reason=reason, host=host,
            ssh_port=22 if host else None, host_key=keys.get(host_id("aws", iid)),
            store_id=tags.get(TAG_STORE) or None)

    async def list_instances(self, region: str) -> list[Instance]:
        return await asyncio.to_thread(self._list, region)

    def _list(self, region: str) -> list[Instance]:
        self._check_region(region)
        ec2 = self.ec2(region)
        # One paginated call: every state, filtered to this user's tag on the server.
        found: list[Instance] = self._call(lambda: self._describe(
            ec2, region, Filters=[{"Name": f"tag:{TAG_USER}", "Values": [self.user]}]),
            action="describe_instances", region=region)
        return found

    def _locate(self, instance_ids: list[str]) -> dict[str, list[Instance]]:
        """Our instances among `instance_ids`, by region (ids not found anywhere are gone)."""
        ids = set(instance_ids)
        regions = {self._region_of[i] for i in ids if i in self._region_of}
        unknown = [i for i in ids if i not in self._region_of]
        if unknown:
            regions |= set(self.regions())
        out: dict[str, list[Instance]] = {}

        def one(region: str) -> None:
            ec2 = self.ec2(region)
            # By filter, not InstanceIds: an id that is gone is not an error.
            found = self._call(lambda: self._describe(ec2, region, Filters=[
                {"Name": "instance-id", "Values": sorted(ids)}]), action="describe_instances", region=region)
            if found:
                out[region] = found

        if len(regions) == 1:
            one(next(iter(regions)))
        else:  # an id this process never saw: ask every region at once
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(one, sorted(regions)))
        return dict(sorted(out.items()))

    async def stop(self, instance_ids: list[str]) -> None:
        await asyncio.to_thread(self._stop, instance_ids)

    def _stop(self, instance_ids: list[str]) -> None:
        for region, insts in self._locate(instance_ids).items():
            live = [i.id for i in insts if i.state in ("pending", "running")]
            if live:
                self._call(self.ec2(region).stop_instances, InstanceIds=live,
                           action="stop_instances", region=region)

    async def start(self, instance_ids: list[str]) -> list[Instance]:
        return await asyncio.to_thread(self._start, instance_ids)

    def _start(self, instance_ids: list[str]) -> list[Instance]:
        out: list[Instance] = []
        found = self._locate(instance_ids)
        seen = {i.id for insts in found.values() for i in insts}
        gone = [i for i in instance_ids if i not in seen]
        if gone:
            raise ProviderError(f"aws has no instance {gone[0]} of yours", "see `skytui status --refresh`")
        for region, insts in found.items():
            dead = [i for i in insts if i.state == "terminated"]
            if dead:
                raise ProviderError(f"aws instance {dead[0].id} is terminated and cannot be started")
            stopped = [i.id for i in insts if i.state == "stopped"]
            if stopped:
                self._call(self.ec2(region).start_instances, InstanceIds=stopped,
                           action="start_instances", region=region)
            out += self._call(self._describe, self.ec2(region), region, Filters=[
                {"Name": "instance-id", "Values": [i.id for i in insts]}],
                action="describe_instances", region=region)
        return out

    async def terminate(self, instance_ids: list[str]) -> None:
        await asyncio.to_thread(self._terminate, instance_ids)

    def _terminate(self, instance_ids: list[str]) -> None:
        from skytui.remote import tofu

        for region, insts in self._locate(instance_ids).items():
            live = [i.id for i in insts if i.state != "terminated"]
            if live:
                self._call(self.ec2(region).terminate_instances, InstanceIds=live,
                           action="terminate_instances", region=region)
            self._call(self._clean_region, region, action="clean up", region=region)
        tofu.forget("aws", instance_ids)

    def _clean_region(self, region: str) -> None:
        """Delete our leftover volumes, and our key pair and group once no instance of ours uses them."""
        from botocore.exceptions import ClientError

        ec2 = self.ec2(region)
        user = [{"Name": f"tag:{TAG_USER}", "Values": [self.user]}]
        for page in ec2.get_paginator("describe_volumes").paginate(
                Filters=[*user, {"Name": "status", "Values": ["available"]}]):
            for vol in page["Volumes"]:
                tags = {t["Key"]: t["Value"] for t in vol.get("Tags", [])}
                if TAG_CLUSTER in tags:  # a node's disk left unattached: its node is gone
                    _ignore_missing(ec2.delete_volume, VolumeId=vol["VolumeId"])
        live = self._describe(ec2, region, Filters=[
            *user, {"Name": "instance-state-name", "Values": list(_LIVE)}])
        if live:
            return
        for kp in ec2.describe_key_pairs(Filters=user).get("KeyPairs", []):
            _ignore_missing(ec2.delete_key_pair, KeyName=kp["KeyName"])
        for sg in ec2.describe_security_groups(Filters=user).get("SecurityGroups", []):
            try:
                ec2.delete_security_group(GroupId=sg["GroupId"])
            except ClientError as exc:
                # EC2 keeps a group busy until its instances are fully gone: the next
                # teardown in this region deletes it.
                if error_code(exc) not in ("DependencyViolation", "InvalidGroup.NotFound"):
                    raise
        self.setup.forget(region)

    # -- host keys ---------------------------------------------------------------------------
    async def host_keys(self, instances: list[Instance]) -> dict[str, str]:
        return await asyncio.to_thread(self._host_keys, instances)

    def _host_keys(self, instances: list[Instance]) -> dict[str, str]:
        """Keys from each instance's console output (cloud-init prints them), recorded as pinned."""
        from skytui.remote import tofu

        out: dict[str, str] = {}
        for inst in instances:
            try:
                text = self.ec2(inst.region).get_console_output(InstanceId=inst.id, Latest=True).get("Output", "")
            except Exception:  # noqa: BLE001 - not there yet, or not allowed: trust on first use instead
                continue
            line = console_host_key(text or "")
            if line:
                out[inst.id] = tofu.record("aws", inst.id, line)
        return out

    def ssh_user(self) -> str:
        return self.config.ssh_user or DEFAULT_SSH_USER

    def close(self) -> None:
        pass


_HOST_KEY_BEGIN, _HOST_KEY_END = "-----BEGIN SSH HOST KEY KEYS-----", "-----END SSH HOST KEY KEYS-----"
_PREFERRED = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa")


def console_host_key(text: str) -> str | None:
    """The best key of cloud-init's `SSH HOST KEY KEYS` block in a console output, if any."""
    import base64

    if _HOST_KEY_BEGIN not in text:
        return None
    block = text.split(_HOST_KEY_BEGIN, 1)[1].split(_HOST_KEY_END, 1)[0]
    keys = {}
    for line in block.splitlines():
        parts = line.strip().split()
        if len(parts) >= 2:
            try:
                base64.b64decode(parts[1], validate=True)
            except ValueError:
                continue
            keys[parts[0]] = f"{parts[0]} {parts[1]}"
    return next((keys[t] for t in _PREFERRED if t in keys), next(iter(keys.values()), None))


def _ignore_missing(fn: Any, **kwargs: Any) -> None:
    from botocore.exceptions import ClientError

    try:
        fn(**kwargs)
    except ClientError as exc:
        if not error_code(exc).endswith("NotFound"):
            raise
