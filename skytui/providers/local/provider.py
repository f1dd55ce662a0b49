"""The embedded local cloud: regions and zones on one host, nodes as detached SSH servers."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import random
import secrets
import shutil
import time
from pathlib import Path

from skytui.config_model import LocalSettings
from skytui.errors import CapacityError, ProviderError
from skytui.providers.base import SPOT_PREEMPTED, Instance, LaunchSpec, Provider
from skytui.providers.local import process
from skytui.providers.local.registry import Record, Registry

# How long terminated instances stay visible in the console view, as clouds do.
TERMINATED_VISIBLE_S = 3600.0
# A node recorded but not yet spawned is booting for at most this long.
log = logging.getLogger(__name__)
BOOT_GRACE_S = 60.0
# In a node's directory: "GIVEN DEADLINE" (epoch seconds) once a preemption notice is out.
NOTICE_FILE = "preemption-notice"


class LocalCloud(Provider):
    """A cloud whose VMs are processes on this host; behaves like EC2/GCE where it matters."""

    name = "local"

    def __init__(self, settings: LocalSettings | None = None, root: Path | None = None,
                 rng: random.Random | None = None) -> None:
        from skytui.paths import local_cloud_dir

        self.settings = settings or LocalSettings()
        self.root = root or local_cloud_dir()
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.registry = Registry(self.root / "registry.db")
        self.rng = rng or random.Random()
        self._last_preemption_check: float | None = None

    # -- geography -------------------------------------------------------------
    def regions(self) -> list[str]:
        return list(self.settings.regions)

    def zones(self, region: str) -> list[str]:
        return list(self.settings.regions.get(region, ()))

    def node_dir(self, instance_id: str) -> Path:
        return self.root / "nodes" / instance_id

    def disk_dir(self, instance_id: str) -> Path:
        return self.root / "disks" / instance_id

    # -- lifecycle -------------------------------------------------------------
    async def launch(self, spec: LaunchSpec) -> list[Instance]:
        return await asyncio.to_thread(self._launch, spec)

    def _launch(self, spec: LaunchSpec) -> list[Instance]:
        if spec.region not in self.settings.regions or spec.zone not in self.settings.regions[spec.region]:
            raise ProviderError(f"local cloud has no zone {spec.region}/{spec.zone}",
                                f"use one of {', '.join(self._all_zones())}")
        created: list[Record] = []
        with self.registry.tx() as conn:
            existing = {r.node: r for r in self.registry.rows(
                "request_id = ? AND state != 'terminated'", (spec.request_id,))}
            missing = [rank for rank in range(spec.num_nodes) if rank not in existing]
            if missing:
                self._check_capacity(spec, len(missing))
                gpus = self._allocate_gpus(spec, len(missing))
            now = time.time()
            for i, rank in enumerate(missing):
                iid = f"local-{secrets.token_hex(6)}"
                conn.execute(
                    "INSERT INTO instances(id, request_id, node, cluster, job_id, user, region, zone,"
                    " instance_type, spot, state, gpus, created_at, updated_at, store_id)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (iid, spec.request_id, rank, spec.cluster, spec.job_id, spec.user, spec.region,
                     spec.zone, spec.instance_type, int(spec.spot), "pending", gpus[i], now, now,
                     spec.store_id))
        for rank in missing:
            rec = self.registry.rows("request_id = ? AND node = ? AND state = 'pending'",
                                     (spec.request_id, rank))[0]
            env = dict(spec.node_env[rank]) if rank < len(spec.node_env) else {}
            # The local cloud has one kind of disk and network: it records the tiers asked for.
            env.update({k: v for k, v in (("SKYTUI_DISK_TIER", spec.disk_tier),
                                          ("SKYTUI_NETWORK_TIER", spec.network_tier)) if v})
            self._boot(rec, spec.ssh_public_key, env)
            created.append(rec)
        return [self._instance(r) for r in self.registry.rows(
            "request_id = ? AND state != 'terminated'", (spec.request_id,))]

    def _all_zones(self) -> list[str]:
        return [f"{r}/{z}" for r, zs in self.settings.regions.items() for z in zs]

    def _check_capacity(self, spec: LaunchSpec, wanted: int) -> None:
        cap = self.settings.zone_capacity(spec.region, spec.zone)
        limit = cap.spot if spec.spot else cap.on_demand
        if limit is None:
            return
        in_use = self.registry.conn.execute(
            "SELECT COUNT(*) FROM instances WHERE region = ? AND zone = ? AND spot = ?"
            " AND state IN ('pending', 'running')", (spec.region, spec.zone, int(spec.spot))).fetchone()[0]
        if in_use + wanted > limit:
            kind = "spot" if spec.spot else "on-demand"
            raise CapacityError(
                f"local cloud: no {kind} capacity in {spec.region}/{spec.zone} "
                f"({in_use} of {limit} in use, {wanted} more asked)",
                cloud="local", region=spec.region, zone=spec.zone)

    def _allocate_gpus(self, spec: LaunchSpec, nodes: int) -> list[str]:
        """Give each node its own host GPUs (CUDA_VISIBLE_DEVICES), never shared."""
        if not spec.accelerator or spec.accelerator_count <= 0:
            return [""] * nodes
        from skytui.catalog.local import host_gpus

        matching = [g.index for g in host_gpus() if g.name == spec.accelerator]
        taken: set[int] = set()
        for row in self.registry.rows("state IN ('pending', 'running') AND gpus != ''"):
            taken.update(int(i) for i in row.gpus.split(","))
        free = [i for i in matching if i not in taken]
        need = spec.accelerator_count * nodes
        if len(free) < need:
            raise CapacityError(
                f"local cloud: {need} x {spec.accelerator} needed, {len(free)} free on this host "
                f"({len(matching)} in all)", cloud="local", region=spec.region, zone=spec.zone)
        k = spec.accelerator_count
        return [",".join(str(i) for i in free[n * k:(n + 1) * k]) for n in range(nodes)]

    def _boot(self, rec: Record, public_key: str, env: dict[str, str]) -> None:
        from skytui.remote.keys import generate_host_key

        node_dir, disk = self.node_dir(rec.id), self.disk_dir(rec.id)
        node_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        disk.mkdir(parents=True, exist_ok=True, mode=0o700)
        host_key = generate_host_key(node_dir / "host_key")
        _write_private(node_dir / "authorized_keys", public_key.strip() + "\n")
        node_env = {**env, "SKYTUI_INSTANCE_ID": rec.id, "CUDA_VISIBLE_DEVICES": rec.gpus}
        _write_private(node_dir / "env.json", json.dumps(node_env))
        pid = process.spawn_node(node_dir, disk, None)
        with self.registry.tx() as conn:
            conn.execute("UPDATE instances SET pid = ?, host_key = ?, updated_at = ? WHERE id = ?",
                         (pid, host_key, time.time(), rec.id))
        rec.pid, rec.host_key = pid, host_key

    async def list_instances(self, region: str) -> list[Instance]:
        return await asyncio.to_thread(self._list, region)

    def _list(self, region: str | None) -> list[Instance]:
        self._maybe_preempt()
        now = time.time()
        where = "(state != 'terminated' OR updated_at > ?)"
        args: tuple[object, ...] = (now - TERMINATED_VISIBLE_S,)
        if region is not None:
            where, args = where + " AND region = ?", (*args, region)
        out = []
        for rec in self.registry.rows(where, args):
            self._refresh(rec)
            out.append(self._instance(rec))
        return out

    def change_token(self) -> object:
        # data_version moves when another process commits; total_changes counts our own.
        with self.registry.lock:
            version = self.registry.conn.execute("PRAGMA data_version").fetchone()[0]
            return (version, self.registry.conn.total_changes)

    def list_all(self) -> list[Instance]:
        """Every region at once: the console view (`skytui local ls`)."""
        return self._list(None)

    def _refresh(self, rec: Record) -> None:
        """Bring a pending/running record up to date with its process."""
        if rec.state not in ("pending", "running"):
            return
        if rec.spot and self._notice(rec.id)[1] <= time.time():
            self.preempt(rec.id)  # its notice ran out while nobody was looking
            return
        if rec.state == "pending" and rec.pid is None and time.time() - rec.created_at < BOOT_GRACE_S:
            return  # recorded, its process not spawned yet: still booting, not lost
        node_dir = self.node_dir(rec.id)
        if process.is_alive(rec.pid, node_dir):
            port = process.read_port(node_dir)
            if port and (rec.state != "running" or rec.port != port):
                self._set(rec, "running", None, port=port)
            return
        # The process is gone and nobody asked: the VM failed under us. Its own last words go to
        # the log (the node's folder goes when the launch is abandoned).
        log.warning("local node %s (pid %s) is gone%s; its log ends: %s", rec.id, rec.pid,
                    f" ({ended})" if (ended := process.how_it_ended(rec.pid)) else "",
                    process.log_tail(node_dir))
        process.kill_tree_by_marker(rec.id)
        self._set(rec, "terminated", rec.reason or "node-lost")

    def _set(self, rec: Record, state: str, reason: str | None, **extra: object) -> None:
        cols = ", ".join(f"{k} = ?" for k in ("state", "reason", "updated_at", *extra))
        with self.registry.tx() as conn:
            conn.execute(f"UPDATE instances SET {cols} WHERE id = ?",
                         (state, reason, time.time(), *extra.values(), rec.id))
        rec.state, rec.reason = state, reason
        for k, v in extra.items():
            setattr(rec, k, v)

    def _maybe_preempt(self) -> None:
        """Random spot preemptions at `spot_preemptions_per_hour`, applied when someone looks."""
        rate = self.settings.spot_preemptions_per_hour
        now = time.time()
        last, self._last_preemption_check = self._last_preemption_check, now
        if rate <= 0 or last is None:
            return
        p = 1.0 - math.exp(-rate * (now - last) / 3600.0)
        for rec in self.registry.rows("spot = 1 AND state = 'running'"):
            if self.rng.random() < p:
                self.start_preemption(rec.id, self.settings.preemption_notice_seconds)

    def _notice(self, instance_id: str) -> tuple[float | None, float]:
        """(when the notice was given, when the node goes), or (None, inf) without a notice."""
        try:
            given, deadline = (self.node_dir(instance_id) / NOTICE_FILE).read_text().split()
            return float(given), float(deadline)
        except (OSError, ValueError):
            return None, math.inf

    def start_preemption(self, instance_id: str, notice_seconds: float) -> float:
        """Announce that a spot node goes in `notice_seconds`, as a cloud's notice does.

        The notice appears where the node's notice watcher looks (a file on its disk, the
        local stand-in for the metadata server) and in this cloud's listing; the node is
        killed by `preempt` once the time is up (the caller's, or the next listing's).
        Returns the deadline (epoch seconds).
        """
        from skytui.remote.notice import LOCAL_NOTICE_FILE

        if notice_seconds < 0:
            raise ValueError("the notice length must be 0 or more seconds")
        rec = self.registry.get(instance_id)
        now = time.time()
        if rec is None or rec.state == "terminated":
            return now
        given, deadline = self._notice(instance_id)
        if given is not None:
            return deadline  # already announced: a second notice does not move the moment
        deadline = now + notice_seconds
        _write_private(self.node_dir(instance_id) / NOTICE_FILE, f"{now} {deadline}\n")
        flag = self.disk_dir(instance_id) / LOCAL_NOTICE_FILE
        flag.parent.mkdir(parents=True, exist_ok=True)
        _write_private(flag, f"{deadline}\n")
        with self.registry.tx() as conn:  # moves the change token: watchers look now
            conn.execute("UPDATE instances SET updated_at = ? WHERE id = ?", (now, instance_id))
        return deadline

    def preempt(self, instance_id: str) -> None:
        """Kill a spot node abruptly (SIGKILL, no clean-up), as a cloud reclaiming it would."""
        rec = self.registry.get(instance_id)
        if rec is None or rec.state == "terminated":
            return
        pid = rec.pid
        # Record the reason first: a listing between the kill and the record must not say "lost".
        self._set(rec, "terminated", SPOT_PREEMPTED)
        process.kill_node(pid, self.node_dir(rec.id), hard=True)
        process.kill_tree_by_marker(rec.id)

    async def stop(self, instance_ids: list[str]) -> None:
        await asyncio.to_thread(self._stop, instance_ids)

    def _stop(self, instance_ids: list[str]) -> None:
        for iid in instance_ids:
            rec = self.registry.get(iid)
            if rec is None or rec.state in ("stopped", "terminated"):
                continue
            process.kill_node(rec.pid, self.node_dir(iid), hard=False)
            process.kill_tree_by_marker(iid)
            self._set(rec, "stopped", "user-stopped", pid=None)

    async def start(self, instance_ids: list[str]) -> list[Instance]:
        return await asyncio.to_thread(self._start, instance_ids)

    def _start(self, instance_ids: list[str]) -> list[Instance]:
        out = []
        for iid in instance_ids:
            rec = self.registry.get(iid)
            if rec is None:
                raise ProviderError(f"local cloud has no instance {iid}")
            if rec.state == "stopped":
                pid = process.spawn_node(self.node_dir(iid), self.disk_dir(iid), rec.port)
                self._set(rec, "pending", None, pid=pid)
            elif rec.state == "terminated":
                raise ProviderError(f"instance {iid} is terminated and cannot be started")
            out.append(self._instance(rec))
        return out

    async def terminate(self, instance_ids: list[str]) -> None:
        await asyncio.to_thread(self._terminate, instance_ids)

    def _terminate(self, instance_ids: list[str]) -> None:
        for iid in instance_ids:
            rec = self.registry.get(iid)
            if rec is None:
                continue
            if rec.state != "terminated":
                process.kill_node(rec.pid, self.node_dir(iid), hard=False)
                process.kill_tree_by_marker(iid)
                self._set(rec, "terminated", rec.reason if rec.reason == SPOT_PREEMPTED else "user-terminated",
                          pid=None)
            shutil.rmtree(self.node_dir(iid), ignore_errors=True)
            shutil.rmtree(self.disk_dir(iid), ignore_errors=True)

    def _instance(self, rec: Record) -> Instance:
        return Instance(
            id=rec.id, cloud="local", cluster=rec.cluster, node=rec.node, region=rec.region,
            zone=rec.zone, state=rec.state, spot=bool(rec.spot), instance_type=rec.instance_type,
            user=rec.user, request_id=rec.request_id, job_id=rec.job_id, reason=rec.reason,
            host="127.0.0.1", ssh_port=rec.port or process.read_port(self.node_dir(rec.id)),
            host_key=rec.host_key, store_id=rec.store_id,
            notice_at=self._notice(rec.id)[0] if rec.spot and rec.state in ("pending", "running") else None)

    def close(self) -> None:
        self.registry.close()


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
