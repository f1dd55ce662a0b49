"""Command-line overrides of a task's resources (--cloud, --gpus, --spot, ...)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from skytui.catalog.accelerators import canonical, closest
from skytui.errors import SkytuiError
from skytui.task.resources import gpu_count
from skytui.task.spec import Accelerator, Task


@dataclass(frozen=True)
class Overrides:
    cloud: str | None = None
    region: str | None = None
    zone: str | None = None
    gpus: str | None = None
    cpus: str | None = None
    spot: bool | None = None
    num_nodes: int | None = None
    instance_type: str | None = None


def parse_gpus(spec: str, extra: tuple[str, ...] = ()) -> Accelerator:
    """`H100:8`, `H100` or `T4:0.5` -> Accelerator, with a did-you-mean for typos.

    The count follows the task file's rule (skytui.task.resources.gpu_count): a whole count
    of 1 or more, or a share of one GPU below 1.
    """
    name, _, count_text = spec.partition(":")
    try:
        count = gpu_count(count_text) if count_text else 1
    except ValueError as e:
        problem, _, fix = str(e).partition("; ")
        raise SkytuiError(f"--gpus {spec!r}: {problem}", fix) from None
    known = canonical(name, extra)
    if known is None:
        hint = closest(name, extra)
        raise SkytuiError(f"--gpus {spec!r}: unknown GPU {name!r}",
                          f"did you mean {hint!r}?" if hint else "see `skytui show-gpus`")
    return Accelerator(known, count)


def apply(task: Task, o: Overrides, extra_gpus: tuple[str, ...] = ()) -> Task:
    """A copy of `task` with the overrides applied to every resource alternative."""
    changes: dict[str, object] = {}
    if o.cloud is not None:
        changes.update(cloud=o.cloud.lower())
    if o.region is not None:
        changes["region"] = o.region
    if o.zone is not None:
        changes["zone"] = o.zone
    if o.gpus is not None:
        changes["accelerators"] = (parse_gpus(o.gpus, extra_gpus),)
    if o.cpus is not None:
        text = o.cpus.strip()
        at_least = text.endswith("+")
        try:
            value = float(text.rstrip("+"))
        except ValueError:
            value = -1
        if value <= 0:
            raise SkytuiError(f"--cpus {o.cpus!r} is not a positive number", "e.g. --cpus 4 or --cpus 4+")
        changes.update(cpus=value, cpus_at_least=at_least)
    if o.spot is not None:
        changes["use_spot"] = o.spot
    if o.instance_type is not None:
        changes["instance_type"] = o.instance_type
    resources = tuple(dataclasses.replace(r, **changes) for r in task.resources)  # type: ignore[arg-type]
    out = dataclasses.replace(task, resources=resources)
    if o.num_nodes is not None:
        if o.num_nodes < 1:
            raise SkytuiError("--num-nodes must be at least 1")
        out.num_nodes = o.num_nodes
    return out
