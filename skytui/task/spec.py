"""The typed form of a task file (SkyPilot's dialect plus skytui's `autostop`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skytui.task.storage import StorageMount

RECOVERY_STRATEGIES = ("FAILOVER", "EAGER_NEXT_REGION")


@dataclass(frozen=True)
class Accelerator:
    """One accelerator demand, e.g. A100 x 8; a count below 1 (T4: 0.5) shares one GPU."""

    name: str
    count: int | float  # whole counts stay int; a fraction means jobs share one GPU

    def __str__(self) -> str:
        return f"{self.name}:{self.count:g}"

    @property
    def devices(self) -> int:
        """Whole GPUs the node needs: a fraction rounds up (two 0.5 jobs share one)."""
        return max(1, math.ceil(self.count))


@dataclass(frozen=True)
class GitWorkdir:
    """`workdir: {url, ref}`: a git checkout made on the node instead of an upload."""

    url: str
    ref: str | None = None  # branch, tag or commit; None: the remote's default branch


@dataclass(frozen=True)
class JobRecovery:
    strategy: str | None = None  # None: the watcher picks by whether the job is pinned
    max_restarts_on_errors: int = 0
    recover_on_exit_codes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Autostop:
    idle_minutes: int
    down: bool = False


@dataclass(frozen=True)
class Resources:
    """One concrete resource request; alternatives are separate Resources objects."""

    cloud: str | None = None
    region: str | None = None
    zone: str | None = None
    accelerators: tuple[Accelerator, ...] = ()  # alternatives; () means no accelerator
    accelerators_ordered: bool = False  # a list: the first that has an offering wins
    cpus: float | None = None
    cpus_at_least: bool = False  # "8+" form
    memory: float | None = None  # GiB
    memory_at_least: bool = False
    instance_type: str | None = None
    use_spot: bool = False
    disk_size: int = 256  # GiB
    ports: tuple[str, ...] = ()
    image_id: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    job_recovery: JobRecovery | None = None
    autostop: Autostop | None = None
    disk_tier: str | None = None  # low|medium|high|ultra|best; None: the cloud's default
    network_tier: str | None = None  # standard|best; None: standard
    image_ids: dict[str, str] = field(default_factory=dict)  # region -> image (a per-region map)

    def __hash__(self) -> int:  # labels is a dict; identity of the rest is enough
        return hash((self.cloud, self.region, self.zone, self.accelerators, self.cpus,
                     self.memory, self.instance_type, self.use_spot))


@dataclass
class Task:
    """A task file, loaded and validated."""

    name: str | None = None
    workdir: str | None = None
    num_nodes: int = 1
    envs: dict[str, str | None] = field(default_factory=dict)  # None: must come from --env
    secrets: dict[str, str | None] = field(default_factory=dict)
    file_mounts: dict[str, str] = field(default_factory=dict)  # remote path -> local path
    setup: str | None = None
    run: str | None = None
    resources: tuple[Resources, ...] = (Resources(),)  # candidates (any_of / ordered)
    resources_ordered: bool = False  # True when `ordered:` gave a preference order
    source: str | None = None  # the file it came from, for messages
    workdir_git: GitWorkdir | None = None  # `workdir: {url, ref}`; then `workdir` is None
    notes: tuple[str, ...] = ()  # what the loader left out (alternatives no cloud has), for the plan
    storage_mounts: dict[str, StorageMount] = field(default_factory=dict)  # remote path -> bucket

    def missing_envs(self) -> list[str]:
        return [k for k, v in {**self.envs, **self.secrets}.items() if v is None]

    def unfilled_fields(self) -> list[str]:
        """Fields the file leaves to fill in (a bucket's `name:` left empty), e.g.
        'file_mounts./checkpoint.name': a dry run plans without them, a launch cannot."""
        return [p for m in self.storage_mounts.values()
                for p in m.pending.split(", ") if p.startswith("file_mounts.")]

    def require_filled(self, where: str | None = None) -> None:
        """Refuse, in one line, a task that leaves envs or fields open (a real launch or job)."""
        from skytui.errors import SkytuiError

        where = where or self.source or "task"
        missing = self.missing_envs()
        if missing:
            raise SkytuiError(f"{where}: envs {', '.join(missing)} have no value",
                              "give them with --env NAME=VALUE")
        unfilled = self.unfilled_fields()  # e.g. a bucket `name:` the file leaves to fill in
        if unfilled:
            raise SkytuiError(f"{where}: {', '.join(unfilled)} is left empty",
                              "fill it in (a bucket name) before launching; --dry-run plans without it")

    def before_launch(self) -> list[str]:
        """What must be given before a real launch, one item each (for the plan)."""
        return [f"--env {k}=..." for k in self.missing_envs()] + [
            f"{f} (fill it in, in {self.source or 'the task file'})" for f in self.unfilled_fields()]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form for the store (secrets are never written)."""
        from dataclasses import asdict

        d = asdict(self)
        d["secrets"] = dict.fromkeys(self.secrets)
        return d
