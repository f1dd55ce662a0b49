"""Seed data for the dashboard's tests and benchmarks (a support module, not a test module)."""

from __future__ import annotations

from pathlib import Path

from skytui.store import Cluster, Store

NOW = 1_780_000_000.0  # a fixed clock: snapshots must not depend on when they run
USER = "alice"


def seed_store(path: Path, *, clusters: int = 4, jobs: int = 3, now: float = NOW) -> Store:
    """Clusters in every state, managed jobs (one recovering), and an event trail."""
    store = Store(path, clock=lambda: now)
    statuses = ("UP", "STOPPED", "UP", "INIT", "PREEMPTED")
    gpus = (("A100", 8), (None, 0), ("L4", 1), ("H100", 8), (None, 0))
    for i in range(clusters):
        status = statuses[i % len(statuses)]
        acc, count = gpus[i % len(gpus)]
        name = f"c{i:04d}" if clusters > 5 else ("dev-alice", "big-train", "notebook", "sweep", "spotty")[i]
        store.create_cluster(Cluster(
            name=name, cloud="local", status=status, user=USER if i % 3 else "bob", updated_at=now,
            region="local-1" if i % 2 == 0 else "local-2", zone="a", spot=int(i % 4 == 2), num_nodes=1 + i % 2,
            instance_type="local-4x16", accelerator=acc, accelerator_count=count, vcpus=4, memory_gib=16,
            price_per_hour=round(0.5 + i * 0.25, 2), on_demand_price_per_hour=round(1.0 + i * 0.25, 2),
            launched_at=now - 3600 * (i + 1) - 60 * i, autostop_minutes=30 if i % 2 == 0 else None,
            is_dev=int(i % 2 == 0)), event=f"launching {name}")
        if status in ("UP", "STOPPED"):
            spot = i % 4 == 2
            usage = {"cluster": name, "node": 0, "job_id": None, "attempt": None, "user": USER, "cloud": "local",
                     "region": "local-1", "zone": "a", "instance_type": "local-4x16", "accelerator": acc,
                     "accelerator_count": count, "spot": int(spot), "price_per_hour": 0.5 + i * 0.25,
                     "on_demand_price_per_hour": (1.0 if spot else 0.5) + i * 0.25,
                     "estimate_source": "local:reference-estimate"}
            # A week of earlier days, a few hours each, so the daily-spend chart has a shape.
            for day in range(1, 8):
                start = now - day * 86400 - 3600 * (i + 1)
                store.open_usage(**usage, started_at=start)
                store.close_usage(name, "stopped", ended_at=start + 3600 * ((day * (i + 2)) % 7 + 1))
            store.open_usage(**usage, started_at=now - 7200)
            if status == "STOPPED":  # autostopped an hour ago: it bills nothing now
                store.close_usage(name, "autostop", ended_at=now - 3600)
    job_status = ("RUNNING", "RECOVERING", "SUCCEEDED", "FAILED", "PENDING")
    for j in range(jobs):
        job_id = store.add_job(f"train-{j}", "{}", f"task-{j}", spot=True, event=f"submitted train-{j}")
        status = job_status[j % len(job_status)]
        fields = {"cluster": f"train-{j}-{job_id}", "region": "local-1", "zone": "b",
                  "started_at": now - 600 * (j + 1), "recoveries": j % 3}
        if status in ("SUCCEEDED", "FAILED"):
            fields["ended_at"] = now - 60
        store.update_job(job_id, **fields)
        store.transition_job(job_id, ["PENDING"], status, event=f"train-{j} is {status.lower()}",
                             reason="spot-preempted" if status == "RECOVERING" else None)
    return store
