"""What of SkyPilot's task dialect skytui leaves out on purpose, and the one line saying so.

A task that uses one of these features is refused before anything else is checked, in one
line naming the feature and what to do, never as an "unknown field". An alternative
(`any_of` / `ordered` entry, accelerator set member) that only such a place could meet is
dropped with a note instead, and the task is refused only when no alternative is left.
"""

from __future__ import annotations

# Real accelerators the bundled catalog does not carry: defined beside the catalog (whose
# "did you mean" hints need them), named here too for the task checks.
from skytui.catalog.accelerators import OTHER_ACCELERATORS as OTHER_ACCELERATORS

# Clouds SkyPilot knows that skytui does not run on (folded); 'k8s' is Kubernetes' short name.
OTHER_CLOUDS = frozenset((
    "azure", "oci", "lambda", "runpod", "nebius", "ibm", "scp", "vsphere", "cudo",
    "fluidstack", "paperspace", "do", "digitalocean", "vast", "hyperbolic", "seeweb",
    "primeintellect", "shadeform", "slurm", "ssh", "coreweave", "together", "cloudflare",
    "r2", "lambdalabs", "kubernetes", "k8s",
))
KUBERNETES = frozenset(("kubernetes", "k8s"))

# AWS Neuron chips the bundled catalog has no rows for (its source has no on-demand price
# for trn2); Inferentia, Inferentia2 and Trainium are in it.
NEURON = frozenset(("trainium2",))

# Top-level fields of features skytui leaves out: field -> (feature, what to do).
TOP_LEVEL = {
    "service": ("skytui runs tasks, not SkyServe services",
                "drop `service:` to run the task, or serve it with SkyPilot"),
    "pool": ("skytui has no worker pools (SkyPilot `pool:`)",
             "drop `pool:` and launch the task as a managed job with `skytui jobs launch`"),
    "volumes": ("SkyPilot volumes are not supported",
                "drop `volumes:` and use `file_mounts` with a bucket, or a larger `disk_size`"),
    "inputs": ("legacy `inputs`/`outputs` are not supported",
               "drop them; use `file_mounts` to bring data to the node"),
    "outputs": ("legacy `inputs`/`outputs` are not supported",
                "drop them; use `file_mounts` to bring data to the node"),
}
# The header keys of a SkyPilot job group (several tasks run side by side).
JOB_GROUP_KEYS = ("execution", "primary_tasks", "termination_delay")


def cloud_refusal(cloud: str) -> tuple[str, str]:
    """(problem, fix) for a cloud skytui does not run on."""
    if cloud in KUBERNETES:
        return ("skytui does not run on Kubernetes",
                "use infra: aws or gcp (or local), or run this task with SkyPilot")
    return (f"skytui runs on AWS, GCP and local, not {cloud}",
            "use infra: aws or gcp (or local), or run this task with SkyPilot")


def is_tpu(name: str) -> bool:
    return name.strip().lower().startswith("tpu")


TPU_REFUSAL = ("TPUs are not supported: skytui runs GPUs on AWS and GCP VMs",
               "ask for GPUs (e.g. accelerators: A100:8), or run this task with SkyPilot")
JOB_GROUP_REFUSAL = ("parallel job groups are not supported",
                     "launch each task of the group with its own `skytui jobs launch`")
