"""A task as JSON for the store, and back: the watcher relaunches from exactly what was submitted."""

from __future__ import annotations

import json
from typing import Any

from skytui.task.spec import Accelerator, Autostop, GitWorkdir, JobRecovery, Resources, Task
from skytui.task.storage import mounts_from_dicts


def task_to_json(task: Task) -> str:
    """The task without its secret values (those live in the job's 0600 secrets file)."""
    return json.dumps(task.to_dict(), sort_keys=True)


def _resources_from_dict(d: dict[str, Any]) -> Resources:
    rec = d.get("job_recovery")
    auto = d.get("autostop")
    return Resources(
        cloud=d.get("cloud"), region=d.get("region"), zone=d.get("zone"),
        accelerators=tuple(Accelerator(a["name"], _count(a["count"])) for a in d.get("accelerators") or ()),
        accelerators_ordered=bool(d.get("accelerators_ordered")),
        disk_tier=d.get("disk_tier"), network_tier=d.get("network_tier"),
        image_ids=dict(d.get("image_ids") or {}),
        cpus=d.get("cpus"), cpus_at_least=bool(d.get("cpus_at_least")), memory=d.get("memory"),
        memory_at_least=bool(d.get("memory_at_least")), instance_type=d.get("instance_type"),
        use_spot=bool(d.get("use_spot")), disk_size=int(d.get("disk_size") or 256),
        ports=tuple(d.get("ports") or ()), image_id=d.get("image_id"), labels=dict(d.get("labels") or {}),
        job_recovery=JobRecovery(
            strategy=rec.get("strategy"), max_restarts_on_errors=int(rec.get("max_restarts_on_errors") or 0),
            recover_on_exit_codes=tuple(int(c) for c in rec.get("recover_on_exit_codes") or ()),
        ) if rec else None,
        autostop=Autostop(int(auto["idle_minutes"]), bool(auto.get("down"))) if auto else None,
    )


def task_from_dict(d: dict[str, Any]) -> Task:
    """Rebuild a Task from `Task.to_dict()` output (tuples and nested records included)."""
    return Task(
        name=d.get("name"), workdir=d.get("workdir"), num_nodes=int(d.get("num_nodes") or 1),
        envs=dict(d.get("envs") or {}), secrets=dict(d.get("secrets") or {}),
        file_mounts=dict(d.get("file_mounts") or {}), setup=d.get("setup"), run=d.get("run"),
        resources=tuple(_resources_from_dict(r) for r in d.get("resources") or ()) or (Resources(),),
        resources_ordered=bool(d.get("resources_ordered")), source=d.get("source"),
        workdir_git=GitWorkdir(d["workdir_git"]["url"], d["workdir_git"].get("ref"))
        if d.get("workdir_git") else None,
        notes=tuple(d.get("notes") or ()),
        storage_mounts=mounts_from_dicts(d.get("storage_mounts")),
    )


def _count(value: Any) -> int | float:
    """A GPU count as stored: whole counts stay int, a share (0.5) stays a fraction."""
    f = float(value)
    return int(f) if f.is_integer() else f


def task_from_json(text: str, secrets: dict[str, str] | None = None) -> Task:
    """The stored task, with secret values filled back in from the secrets file."""
    task = task_from_dict(json.loads(text))
    if secrets:
        task.secrets = {k: secrets.get(k, v) for k, v in task.secrets.items()}
    return task
