"""What a launch needs in a region before run_instances: an image, our key pair, our security group.

Each is found once per region and cached for the life of the provider; all of it carries the
`skytui-user` tag so teardown can tell ours from everything else in the account.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import threading
from dataclasses import dataclass
from typing import Any

from skytui.errors import ProviderError
from skytui.providers.base import TAG_USER

AMAZON, CANONICAL, DLAMI_LEGACY = "amazon", "099720109477", "898082745236"
# Name patterns in order of preference: GPU images first for GPU types, then Ubuntu LTS.
GPU_IMAGES = ("Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04)*",
              "Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 24.04)*",
              "Deep Learning AMI*Ubuntu*")
# AWS Neuron chips (Inferentia, Trainium): the Neuron DLAMI carries their driver and SDK; an
# NVIDIA image would bring nvidia-smi with no NVIDIA device behind it (a false driver error).
NEURON_IMAGES = ("Deep Learning AMI Neuron (Ubuntu 22.04)*",
                 "Deep Learning Base Neuron AMI (Ubuntu 22.04)*")
UBUNTU_IMAGES = ("ubuntu/images/hvm-ssd*/ubuntu-noble-24.04-amd64-server-*",
                 "ubuntu/images/hvm-ssd*/ubuntu-jammy-22.04-amd64-server-*",
                 "ubuntu/images/hvm-ssd*/ubuntu-*-amd64-server-*")
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Image:
    image_id: str
    name: str
    root_device: str


def key_pair_name(user: str, public_key: str) -> str:
    """One key pair per user and key: a new skytui key gets a new name, never overwrites."""
    digest = hashlib.sha256(public_key.split()[1].encode() if len(public_key.split()) > 1
                            else public_key.encode()).hexdigest()[:10]
    return f"skytui-{_SAFE.sub('-', user)}-{digest}"


def security_group_name(user: str) -> str:
    return f"skytui-{_SAFE.sub('-', user)}"


def user_tags(user: str) -> list[dict[str, str]]:
    return [{"Key": TAG_USER, "Value": user}]


class RegionSetup:
    """Per-region lookups and the shared resources, each made at most once per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._images: dict[tuple[str, bool | str], Image] = {}
        self._named_images: dict[tuple[str, str], Image] = {}
        self._keys: set[tuple[str, str]] = set()
        self._groups: dict[tuple[str, str], str] = {}
        self._vpcs: dict[str, dict[str, Any]] = {}
        self._subnets: dict[tuple[str, str], str] = {}
        self._offered: dict[tuple[str, str], set[str]] = {}

    def forget(self, region: str) -> None:
        """Forget what teardown deleted in `region`: the next launch makes it again."""
        with self._lock:
            self._keys = {k for k in self._keys if k[0] != region}
            self._groups = {k: v for k, v in self._groups.items() if k[0] != region}

    # -- images ----------------------------------------------------------------------------
    def image(self, ec2: Any, region: str, *, gpu: bool, image_id: str | None,
              neuron: bool = False) -> Image:
        """The newest matching image: Neuron, then NVIDIA GPU (by `neuron`/`gpu`), then Ubuntu."""
        if image_id:
            return self._named_image(ec2, region, image_id)
        key = (region, "neuron" if neuron else gpu)
        if key not in self._images:
            patterns = (NEURON_IMAGES if neuron else GPU_IMAGES if gpu else ()) + UBUNTU_IMAGES
            found = ec2.describe_images(
                Owners=[AMAZON, CANONICAL, DLAMI_LEGACY],
                Filters=[{"Name": "name", "Values": list(patterns)},
                         {"Name": "state", "Values": ["available"]},
                         {"Name": "architecture", "Values": ["x86_64"]}])["Images"]

            def rank(img: dict[str, Any]) -> tuple[int, str]:
                first = next((i for i, p in enumerate(patterns) if fnmatch.fnmatchcase(img["Name"], p)),
                             len(patterns))
                return (first, _negate(img.get("CreationDate", "")))

            found = [i for i in found if any(fnmatch.fnmatchcase(i.get("Name", ""), p) for p in patterns)]
            if not found:
                raise ProviderError(f"aws {region}: no Ubuntu or Deep Learning image (AMI) found",
                                    "set resources.image_id in the task to an AMI of that region")
            best = min(found, key=rank)
            self._images[key] = Image(best["ImageId"], best["Name"], best.get("RootDeviceName") or "/dev/sda1")
        return self._images[key]

    def _named_image(self, ec2: Any, region: str, image_id: str) -> Image:
        key = (region, image_id)
        if key not in self._named_images:
            from botocore.exceptions import ClientError

            try:
                imgs = ec2.describe_images(ImageIds=[image_id])["Images"]
            except ClientError as exc:
                if "NotFound" in str(exc.response.get("Error", {}).get("Code", "")) or \
                        "Malformed" in str(exc.response.get("Error", {}).get("Code", "")):
                    imgs = []
                else:
                    raise
            if not imgs:
                raise ProviderError(f"resources.image_id: AMI {image_id} not found in aws {region}",
                                    "AMIs are per region: copy it there or pick that region's AMI id")
            img = imgs[0]
            self._named_images[key] = Image(img["ImageId"], img.get("Name", ""),
                                            img.get("RootDeviceName") or "/dev/sda1")
        return self._named_images[key]

    # -- places ----------------------------------------------------------------------------
    def offered_types(self, ec2: Any, region: str, zone: str) -> set[str]:
        """Instance types offered in a zone (by name); one paginated call per zone, cached."""
        key = (region, zone)
        if key not in self._offered:
            types: set[str] = set()
            pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
                LocationType="availability-zone", Filters=[{"Name": "location", "Values": [zone]}])
            for page in pages:
                types.update(o["InstanceType"] for o in page["InstanceTypeOfferings"])
            self._offered[key] = types
        return self._offered[key]

    def default_vpc(self, ec2: Any, region: str) -> dict[str, Any]:
        if region not in self._vpcs:
            vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
            if not vpcs:
                raise ProviderError(f"aws {region}: the account has no default VPC",
                                    "create one: `aws ec2 create-default-vpc --region " + region + "`")
            self._vpcs[region] = vpcs[0]
        return self._vpcs[region]

    def subnet(self, ec2: Any, region: str, zone: str) -> str:
        key = (region, zone)
        if key not in self._subnets:
            vpc = self.default_vpc(ec2, region)
            subnets = ec2.describe_subnets(Filters=[
                {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
                {"Name": "availability-zone", "Values": [zone]}])["Subnets"]
            if not subnets:
                raise ProviderError(f"aws {region}/{zone}: the default VPC has no subnet in this zone",
                                    "pick another zone, or add a default subnet there")
            subnets.sort(key=lambda s: (not s.get("DefaultForAz", False), s["SubnetId"]))
            self._subnets[key] = subnets[0]["SubnetId"]
        return self._subnets[key]

    # -- shared resources ------------------------------------------------------------------
    def key_pair(self, ec2: Any, region: str, user: str, public_key: str) -> str:
        from botocore.exceptions import ClientError

        name = key_pair_name(user, public_key)
        if (region, name) in self._keys:
            return name
        try:
            ec2.import_key_pair(KeyName=name, PublicKeyMaterial=public_key.strip().encode(),
                                TagSpecifications=[{"ResourceType": "key-pair", "Tags": user_tags(user)}])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "InvalidKeyPair.Duplicate":
                raise
        with self._lock:
            self._keys.add((region, name))
        return name

    def security_group(self, ec2: Any, region: str, user: str, cidr: str) -> str:
        """Our group in the default VPC: SSH (22) only, from `cidr`."""
        from botocore.exceptions import ClientError

        key = (region, cidr)
        if key in self._groups:
            return self._groups[key]
        vpc = self.default_vpc(ec2, region)
        name = security_group_name(user)
        groups = ec2.describe_security_groups(Filters=[
            {"Name": "group-name", "Values": [name]}, {"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
        if groups["SecurityGroups"]:
            gid = groups["SecurityGroups"][0]["GroupId"]
        else:
            try:
                gid = ec2.create_security_group(
                    GroupName=name, Description="skytui: SSH only", VpcId=vpc["VpcId"],
                    TagSpecifications=[{"ResourceType": "security-group", "Tags": user_tags(user)}])["GroupId"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "InvalidGroup.Duplicate":
                    raise
                return self.security_group(ec2, region, user, cidr)  # another process made it
        try:
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[{
                "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                "IpRanges": [{"CidrIp": cidr, "Description": "skytui SSH"}]}])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "InvalidPermission.Duplicate":
                raise
        with self._lock:
            self._groups[key] = gid
        return str(gid)


def _negate(date: str) -> str:
    """Sort newest first with min(): map each character to its complement."""
    return "".join(chr(0x10FFFF - ord(c)) for c in date)
