"""Rows of the state store as typed records, named as the user names them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from skytui.store.job_states import TERMINAL, JobStatus

T = TypeVar("T")

CLUSTER_STATUSES = ("INIT", "UP", "STOPPED", "PREEMPTED", "TERMINATED")
# Job statuses and their moves live in job_states.py; these names stay for existing imports.
JOB_STATUSES = tuple(JobStatus)
JOB_TERMINAL = TERMINAL


def from_row(cls: type[T], row: sqlite3.Row) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: row[k] for k in row.keys() if k in names})


@dataclass
class Cluster:
    name: str
    cloud: str
    status: str
    user: str
    updated_at: float
    region: str | None = None
    zone: str | None = None
    status_reason: str | None = None
    spot: int = 0
    num_nodes: int = 1
    instance_type: str | None = None
    accelerator: str | None = None
    accelerator_count: int = 0
    vcpus: float | None = None
    memory_gib: float | None = None
    price_per_hour: float | None = None
    on_demand_price_per_hour: float | None = None
    launched_at: float | None = None
    autostop_minutes: int | None = None
    autostop_down: int = 0
    job_id: int | None = None
    request_id: str | None = None
    task_json: str | None = None
    is_dev: int = 0

    @property
    def accelerators(self) -> str | None:
        return f"{self.accelerator}:{self.accelerator_count}" if self.accelerator else None


@dataclass
class Node:
    cluster: str
    rank: int
    instance_id: str | None = None
    host: str | None = None
    port: int | None = None
    host_key: str | None = None

    @property
    def alias(self) -> str:
        """The SSH host name users type: NAME for the head, NAME-workerN for the others."""
        return self.cluster if self.rank == 0 else f"{self.cluster}-worker{self.rank}"


@dataclass
class ClusterJob:
    cluster: str
    id: int
    status: str
    submitted_at: float
    name: str | None = None
    command: str | None = None
    ended_at: float | None = None
    exit_code: int | None = None


@dataclass
class Job:
    id: int
    name: str
    status: str
    task_json: str
    submitted_at: float
    task_id: str
    user: str
    updated_at: float
    cluster: str | None = None
    cloud: str | None = None
    region: str | None = None
    zone: str | None = None
    spot: int = 0
    recoveries: int = 0
    restarts_on_errors: int = 0
    attempts: int = 0
    started_at: float | None = None
    ended_at: float | None = None
    last_event: str | None = None
    next_try_at: float | None = None


@dataclass
class Attempt:
    job_id: int
    attempt: int
    cluster: str
    request_id: str
    started_at: float
    cloud: str | None = None
    region: str | None = None
    zone: str | None = None
    ended_at: float | None = None
    end_reason: str | None = None
    exit_code: int | None = None
    notice_at: float | None = None  # the cloud's preemption notice reached the node (epoch s)


@dataclass
class Event:
    id: int
    ts: float
    kind: str
    message: str
    cluster: str | None = None
    job_id: int | None = None
    reason: str | None = None


def row_dict(row: sqlite3.Row) -> dict[str, Any]:
    return {k: row[k] for k in row.keys()}
