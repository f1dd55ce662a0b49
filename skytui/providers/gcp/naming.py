"""What skytui asks Compute Engine for, in its words: names, labels, images, accelerators.

Nothing here imports the SDK: the planner, `skytui check` and the tests read these cheaply.
"""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import urlsplit

from skytui.providers.base import TAG_CLUSTER, TAG_JOB, TAG_NODE, TAG_REQUEST, TAG_STORE, TAG_USER

# GCE resource names and label values: lowercase, at most 63 characters.
MAX_NAME = 63
_NAME_RE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_BAD = re.compile(r"[^a-z0-9_-]")

# The exact (unsanitized) ownership values ride in the description: labels are lossy.
OWNER_PREFIX = "skytui "

# Machine families whose machine type carries its GPUs; sending guestAccelerators is wrong there.
GPU_MACHINE_PREFIXES = ("a2-", "a3-", "a4-", "g2-", "g4-")

# The accelerator type names of GPUs attached to N1 hosts (catalog name -> GCE name).
ACCELERATOR_TYPES = {
    "T4": "nvidia-tesla-t4", "P4": "nvidia-tesla-p4", "P100": "nvidia-tesla-p100",
    "V100": "nvidia-tesla-v100", "A100": "nvidia-tesla-a100", "A100-80GB": "nvidia-a100-80gb",
    "L4": "nvidia-l4", "H100": "nvidia-h100-80gb", "H100-MEGA": "nvidia-h100-mega-80gb",
    "H200": "nvidia-h200-141gb",
}

# Deep Learning VM image families (project deeplearning-platform-release): drivers and CUDA
# preinstalled. Pascal/Volta/Turing GPUs stay on the CUDA 12.4 line; newer ones get 12.8.
DLVM_PROJECT = "deeplearning-platform-release"
_OLDER_GPUS = {"T4", "P4", "P100", "V100"}
IMAGE_FAMILY_NEW_GPU = "common-cu128-ubuntu-2204-nvidia-570"
IMAGE_FAMILY_OLD_GPU = "common-cu124-debian-11-py310"
CPU_IMAGE = "projects/debian-cloud/global/images/family/debian-12"


def instance_name(request_id: str, rank: int) -> str:
    """A valid GCE instance name, the same for every retry of one request (adopt, not duplicate)."""
    suffix = f"-n{rank}"
    base = re.sub(r"[^a-z0-9-]+", "-", request_id.lower()).strip("-") or "skytui"
    if not base[0].isalpha():
        base = "s-" + base
    if len(base) + len(suffix) > MAX_NAME:
        # Keep the readable start, and a digest of the whole id so two long ids stay distinct.
        digest = hashlib.sha256(request_id.encode()).hexdigest()[:8]
        base = base[:MAX_NAME - len(suffix) - len(digest) - 1].rstrip("-") + "-" + digest
    name = base + suffix
    assert _NAME_RE.match(name), name
    return name


def label_value(value: str) -> str:
    """A label value: lowercase letters, digits, '_' and '-', at most 63 characters."""
    return _LABEL_BAD.sub("-", value.lower())[:MAX_NAME]


def owner_labels(*, cluster: str, node: int, user: str, request_id: str, job_id: int | None,
                 extra: dict[str, str] | None = None, store_id: str | None = None) -> dict[str, str]:
    # The task's own labels too, where GCE can hold them (a key must start with a letter).
    labels = {label_value(k): label_value(v) for k, v in (extra or {}).items() if label_value(k)[:1].isalpha()}
    labels.update({TAG_CLUSTER: label_value(cluster), TAG_NODE: str(node), TAG_USER: label_value(user),
                   TAG_REQUEST: label_value(request_id)})
    if job_id is not None:
        labels[TAG_JOB] = str(job_id)
    if store_id:
        labels[TAG_STORE] = label_value(store_id)
    return labels


def owner_description(*, cluster: str, node: int, user: str, request_id: str, job_id: int | None,
                      instance_type: str, spot: bool, store_id: str | None = None) -> str:
    return OWNER_PREFIX + json.dumps({"cluster": cluster, "node": node, "user": user, "request": request_id,
                                      "job": job_id, "type": instance_type, "spot": spot,
                                      "store": store_id},
                                     separators=(",", ":"))


def user_filter(user: str) -> str:
    """The list filter for this user's instances (the label, quoted as the API's filter wants)."""
    return f'labels.{TAG_USER} = "{label_value(user)}"'


def carries_gpus(machine_type: str) -> bool:
    return machine_type.startswith(GPU_MACHINE_PREFIXES)


def accelerator_type(name: str) -> str:
    return ACCELERATOR_TYPES.get(name, name.lower())


def source_image(accelerator: str | None, image_id: str | None) -> str:
    """The boot image: the task's image_id, else a Deep Learning VM family for its GPU."""
    if image_id:
        if image_id.startswith(("projects/", "https://", "global/")):
            return image_id
        return f"projects/{image_id}" if "/" in image_id else f"global/images/{image_id}"
    if not accelerator:
        return CPU_IMAGE
    family = IMAGE_FAMILY_OLD_GPU if accelerator in _OLDER_GPUS else IMAGE_FAMILY_NEW_GPU
    return f"projects/{DLVM_PROJECT}/global/images/family/{family}"


def is_local_emulator(endpoint: str | None) -> bool:
    """A plain-http loopback endpoint is an emulator: it gets anonymous credentials, as Google's do."""
    if not endpoint:
        return False
    parts = urlsplit(endpoint)
    return parts.scheme == "http" and (parts.hostname or "") in ("localhost", "127.0.0.1", "::1")


def region_of(zone: str) -> str:
    """us-central1-a -> us-central1."""
    return zone.rsplit("-", 1)[0]


def last_segment(url: str) -> str:
    """zones/us-central1-a/machineTypes/n1-standard-4 (or a full URL) -> n1-standard-4."""
    return url.rstrip("/").rsplit("/", 1)[-1]
