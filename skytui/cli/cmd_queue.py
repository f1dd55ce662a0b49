"""`skytui queue CLUSTER`: the jobs a cluster ran, its own (`exec`) and a managed job's attempts."""

from __future__ import annotations

import argparse
import json
from typing import Any


def queue_rows(name: str) -> list[dict[str, Any]]:
    """One row per job on the cluster, oldest first; a managed job's attempts on it included."""
    from skytui.core.clusters import get_cluster
    from skytui.core.context import Core

    core = Core()
    c = get_cluster(core, name)
    rows: list[dict[str, Any]] = [
        {"id": j.id, "name": j.name, "kind": "exec", "status": j.status, "submitted_at": j.submitted_at,
         "ended_at": j.ended_at, "exit_code": j.exit_code, "managed_job_id": None,
         "logs": f"skytui logs {c.name} {j.id}"}
        for j in core.store.cluster_jobs(c.name)]
    if c.job_id is not None:
        job = core.store.job(c.job_id)
        for a in core.store.attempts(c.job_id):
            if a.cluster != c.name:
                continue
            running = a.ended_at is None and job is not None and job.status == "RUNNING" \
                and a.attempt == job.attempts
            status = "RUNNING" if running else ("STARTING" if a.ended_at is None else _ended(a.end_reason))
            rows.append({"id": a.attempt, "name": job.name if job else None, "kind": "managed",
                         "status": status, "submitted_at": a.started_at, "ended_at": a.ended_at,
                         "exit_code": a.exit_code, "managed_job_id": c.job_id,
                         "logs": f"skytui jobs logs {c.job_id}"})
        rows.sort(key=lambda r: r["submitted_at"])
    return rows


def _ended(reason: str | None) -> str:
    r = reason or ""
    if r.startswith("exit-code 0"):
        return "SUCCEEDED"
    if r.startswith("exit-code"):
        return "FAILED"
    return {"preempted": "PREEMPTED", "cancelled": "CANCELLED"}.get(r, r.upper().replace("-", "_") or "ENDED")


def run(args: argparse.Namespace) -> int:
    from datetime import datetime

    from skytui.cli.output import table

    rows = queue_rows(args.name)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"{args.name} has run no job yet. Run one: skytui exec {args.name} -- CMD")
        return 0

    def when(ts: float | None) -> str:
        return datetime.fromtimestamp(ts).strftime("%m-%d %H:%M:%S") if ts else "-"

    print(table(["ID", "NAME", "KIND", "SUBMITTED", "ENDED", "STATUS", "EXIT", "LOGS"],
                [(r["id"], r["name"] or "-", r["kind"] if r["managed_job_id"] is None
                  else f"managed job {r['managed_job_id']}", when(r["submitted_at"]), when(r["ended_at"]),
                  r["status"], "-" if r["exit_code"] is None else r["exit_code"], r["logs"]) for r in rows]))
    return 0
