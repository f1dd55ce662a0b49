"""Cluster status as users read it (`skytui status`, its JSON, the dashboard)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from typing import Any


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cluster_dict(r: sqlite3.Row | Any) -> dict[str, Any]:
    """One cluster in the documented `status --json` shape."""
    acc = r["accelerator"]
    return {
        "name": r["name"],
        "cloud": r["cloud"],
        "region": r["region"],
        "zone": r["zone"],
        "status": r["status"],
        "spot": bool(r["spot"]),
        "num_nodes": r["num_nodes"],
        "instance_type": r["instance_type"],
        "accelerators": f"{acc}:{r['accelerator_count']}" if acc else None,
        "price_per_hour": round(r["price_per_hour"], 6) if r["price_per_hour"] is not None else None,
        "launched_at": iso(r["launched_at"]),
        "autostop_minutes": r["autostop_minutes"],
        "job_id": r["job_id"],
    }
