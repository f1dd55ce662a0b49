"""Sample every UP node's GPUs in rounds: one SSH command per node, a slow node never holds the rest."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from skytui.core.telemetry.parse import STATUS_TEXT, GpuSample, NodeSample, parse_probe_output
from skytui.core.telemetry.probe import MARK, TOOL_TIMEOUT_S, probe_command
from skytui.core.telemetry.ring import FleetHistory, GpuHistory, MinuteRollup, Reading
from skytui.errors import SkytuiError

if TYPE_CHECKING:
    from skytui.core.context import Core
    from skytui.store import Cluster, Node, Store

# The probe calls nvidia-smi twice, each capped on the node; past this the node is unreachable.
PROBE_TIMEOUT_S = 2 * TOOL_TIMEOUT_S + 5.0
# The dashboard's idea of waste: a GPU under this utilisation for this long while it bills.
IDLE_THRESHOLD_PCT = 5.0
IDLE_MINUTES = 15.0
# Probes in flight at once: a cap on open channels and file descriptors, not a pacing device.
MAX_PARALLEL = 256

# What a node's row says when it has no GPU readings, beyond the probe's own statuses.
NOTES = {
    **STATUS_TEXT,
    "unreachable": "unreachable",
    "waiting": "waiting for a slow node",
    "no-gpus": "no GPUs given to this node",
}

# `(cluster, node, command, timeout) -> stdout`; raises SkytuiError when the node can't answer.
Transport = Callable[["Cluster", "Node", str, float], Awaitable[str]]


@dataclass(frozen=True)
class NodeSnapshot:
    """What one round knows about one node: its latest sample, or why there is none."""

    cluster: str
    node: int  # rank: 0 is the head
    alias: str
    status: str  # a key of NOTES
    sample: NodeSample | None = None
    detail: str = ""
    fresh: bool = True  # False when `sample` is from an earlier round (the node is slow)

    @property
    def gpus(self) -> tuple[GpuSample, ...]:
        return self.sample.gpus if self.sample is not None else ()

    @property
    def note(self) -> str:
        """One line for the node's row: empty when its GPUs are read normally."""
        if self.status == "ok":
            return ""
        text = NOTES.get(self.status, self.status)
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class IdleGpu:
    """A GPU that stayed under the idle threshold for the whole window while its cluster bills."""

    cluster: str
    node: int
    index: int
    uuid: str
    name: str


def ssh_transport(core: Core) -> Transport:
    """Run the probe over the node's pooled SSH connection."""
    from skytui.core.nodeaddr import address
    from skytui.remote.exec import run
    from skytui.remote.marks import as_probe

    async def go(cluster: Cluster, node: Node, command: str, timeout: float) -> str:
        done = await run(core.ssh, address(core, cluster, node), as_probe(command), timeout=timeout)
        return done.stdout

    return go


def node_command(cloud: str) -> str:
    """The probe line for a node; local nodes also say which host GPUs they were given."""
    if cloud != "local":
        return probe_command()
    # nvidia-smi ignores CUDA_VISIBLE_DEVICES and lists every host GPU; "=" marks it as set.
    return ('echo "' + MARK + ' visible ${CUDA_VISIBLE_DEVICES+=}${CUDA_VISIBLE_DEVICES-}"; '
            + probe_command())


def _visible(text: str) -> set[str] | None:
    """The GPUs named by the `visible` line (indices or uuids), or None when all are visible."""
    head = text[:200].partition("\n")[0]
    prefix = MARK + " visible "
    if not head.startswith(prefix):
        return None
    value = head[len(prefix):].strip()
    if not value.startswith("="):
        return None
    return {v.strip() for v in value[1:].split(",") if v.strip()}


def only_given(sample: NodeSample, visible: set[str] | None) -> NodeSample:
    """Keep the GPUs a node was given (by index or uuid, as CUDA_VISIBLE_DEVICES names them)."""
    if visible is None or sample.status != "ok":
        return sample
    kept = tuple(g for g in sample.gpus if str(g.index) in visible or g.uuid in visible)
    return sample if len(kept) == len(sample.gpus) else replace(sample, gpus=kept)


def snapshot_of(cluster: str, node: Node, sample: NodeSample) -> NodeSnapshot:
    """Turn a parsed sample into a node's snapshot, naming a GPU-less node's state."""
    status = sample.status
    if status == "ok" and not sample.gpus:
        status = "no-gpus"
    return NodeSnapshot(cluster, node.rank, node.alias, status, sample, sample.detail)


# -- the per-minute history in the store ------------------------------------------------------

MinuteRow = tuple[str, int, int, MinuteRollup]  # cluster, node, GPU index, averages


def write_minutes(store: Store, rows: Iterable[MinuteRow]) -> int:
    """Upsert per-minute GPU averages in one transaction; returns how many rows were written."""
    values = [(cluster, node, index, int(r.minute), r.utilization_gpu, r.memory_used_mib,
               r.power_w) for cluster, node, index, r in rows]
    if not values:
        return 0
    with store.db.transaction() as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO gpu_minutes(cluster, node, gpu_index, minute, utilization,"
            " memory_used_mib, power_w) VALUES (?,?,?,?,?,?,?)", values)
    return len(values)


def read_minutes(store: Store, *, cluster: str | None = None,
                 since: float | None = None) -> list[tuple[str, int, int, MinuteRollup]]:
    """Per-minute rows, oldest first (samples is 0: the store keeps only the averages)."""
    sql = ("SELECT cluster, node, gpu_index, minute, utilization, memory_used_mib, power_w"
           " FROM gpu_minutes WHERE 1=1")
    args: list[object] = []
    if cluster is not None:
        sql += " AND cluster = ?"
        args.append(cluster)
    if since is not None:
        sql += " AND minute >= ?"
        args.append(int(since))
    rows = store.db.conn.execute(sql + " ORDER BY minute, cluster, node, gpu_index", args)
    return [(r[0], int(r[1]), int(r[2]), MinuteRollup(float(r[3]), r[4], r[5], r[6], 0))
            for r in rows]


def _minute(t: float) -> float:
    return math.floor(t / 60.0) * 60.0


def _rollups_between(hist: GpuHistory, start: float, end: float) -> list[MinuteRollup]:
    """Per-minute averages of readings in [start, end), reading the ring from its new end."""
    picked: list[Reading] = []
    for r in reversed(hist.readings):
        if r.t < start:
            break
        if r.t < end:
            picked.append(r)
    part = GpuHistory(hist.interval_s, span_s=max(len(picked), 1) * hist.interval_s)
    part.readings.extend(reversed(picked))
    return part.minute_rollup()


# -- idle GPUs --------------------------------------------------------------------------------


def idle_gpus(history: FleetHistory, snapshots: Iterable[NodeSnapshot], billing: Collection[str],
              *, now: float | None = None, threshold: float = IDLE_THRESHOLD_PCT,
              minutes: float = IDLE_MINUTES) -> list[IdleGpu]:
    """GPUs under `threshold`% for the last `minutes` on clusters in `billing` (those that bill)."""
    out = []
    for snap in snapshots:
        if snap.cluster not in billing:
            continue
        for g in snap.gpus:
            hist = history.get(snap.cluster, snap.node, g)
            if hist is not None and hist.idle_for(minutes * 60.0, threshold, now=now):
                out.append(IdleGpu(snap.cluster, snap.node, g.index, g.uuid, g.name))
    return out


# -- the sampler -------------------------------------------------------------------------------


class Sampler:
    """Samples the fleet round after round, keeping GPU history in memory and minutes in the store."""

    def __init__(self, core: Core, *, interval: float | None = None,
                 transport: Transport | None = None, probe_timeout: float = PROBE_TIMEOUT_S,
                 record_minutes: bool = True, max_parallel: int = MAX_PARALLEL) -> None:
        self.core = core
        self.interval = float(interval or core.config.telemetry_interval_seconds)
        self.transport = transport or ssh_transport(core)
        self.probe_timeout = probe_timeout
        self.record_minutes = record_minutes
        self.history = FleetHistory(self.interval)
        self.latest: dict[tuple[str, int], NodeSnapshot] = {}
        self._inflight: dict[tuple[str, int], asyncio.Task[NodeSnapshot]] = {}
        self._said: dict[tuple[str, int], str] = {}  # the last note told for each node
        self._open_minute: dict[tuple[str, int, int], float] = {}
        self._gate = asyncio.Semaphore(max_parallel)

    def _targets(self) -> list[tuple[Cluster, Node]]:
        store = self.core.store
        up = {c.name: c for c in store.clusters() if c.status == "UP"}
        return [(up[n.cluster], n) for n in store.all_nodes() if n.cluster in up]

    async def _probe(self, cluster: Cluster, node: Node) -> NodeSnapshot:
        try:
            async with self._gate:
                text = await self.transport(cluster, node, node_command(cluster.cloud),
                                            self.probe_timeout)
        except SkytuiError as exc:
            return NodeSnapshot(cluster.name, node.rank, node.alias, "unreachable",
                                detail=exc.problem.partition("\n")[0])
        except Exception as exc:  # noqa: BLE001  # one node's odd failure must not end the loop
            return NodeSnapshot(cluster.name, node.rank, node.alias, "unreachable",
                                detail=f"{type(exc).__name__}: {exc}"[:200])
        sample = only_given(parse_probe_output(text, self.core.clock()), _visible(text))
        return snapshot_of(cluster.name, node, sample)

    async def round(self, wait: float | None = None) -> list[NodeSnapshot]:
        """Sample every UP node once, waiting at most `wait` s (default: the interval).

        A node still answering then is shown with its previous sample and keeps its one probe
        in flight; the next round takes its answer instead of starting another.
        """
        wait = self.interval if wait is None else wait
        targets = self._targets()
        keys = {(c.name, n.rank) for c, n in targets}
        self._forget_gone(keys)
        for c, n in targets:
            key = (c.name, n.rank)
            if key not in self._inflight:
                self._inflight[key] = asyncio.ensure_future(self._probe(c, n))
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=wait)
        snaps: list[NodeSnapshot] = []
        for c, n in targets:
            key = (c.name, n.rank)
            task = self._inflight[key]
            if task.done():
                del self._inflight[key]
                snap = task.result()
                if snap.sample is not None:
                    self.history.record(c.name, n.rank, snap.sample)
            else:
                last = self.latest.get(key)
                snap = NodeSnapshot(c.name, n.rank, n.alias, "waiting",
                                    last.sample if last else None, fresh=False)
            self.latest[key] = snap
            self._tell(key, snap)
            snaps.append(snap)
        if self.record_minutes:
            write_minutes(self.core.store, self._completed_minutes(snaps))
        return snaps

    def _tell(self, key: tuple[str, int], snap: NodeSnapshot) -> None:
        """Say a node's note once when it changes, not every round (no error storms)."""
        note = NOTES.get(snap.status, snap.status) if snap.status not in ("ok", "waiting") else ""
        if snap.status == "waiting" or note == self._said.get(key, ""):
            return
        self._said[key] = note
        message = f"{snap.alias}: {snap.note}" if note else f"{snap.alias}: GPU telemetry back"
        self.core.progress("telemetry", message, cluster=snap.cluster, record=False)

    def _completed_minutes(self, snaps: Iterable[NodeSnapshot], *,
                           flush: bool = False) -> list[MinuteRow]:
        """Rows for minutes that ended since the last write (all open minutes with `flush`)."""
        rows: list[MinuteRow] = []
        for snap in snaps:
            for g in snap.gpus:
                hist = self.history.get(snap.cluster, snap.node, g)
                if hist is None or not hist.readings:
                    continue
                key = (snap.cluster, snap.node, g.index)
                newest = _minute(hist.readings[-1].t)
                opened = self._open_minute.setdefault(key, _minute(hist.readings[0].t))
                end = math.inf if flush else newest
                if end > opened:
                    rows.extend((snap.cluster, snap.node, g.index, r)
                                for r in _rollups_between(hist, opened, end))
                    self._open_minute[key] = newest
        return rows

    def flush_minutes(self) -> int:
        """Write the minutes still filling (on stop), so a short watch leaves its history."""
        rows = self._completed_minutes(self.latest.values(), flush=True)
        return write_minutes(self.core.store, rows) if self.record_minutes else 0

    def _forget_gone(self, keys: set[tuple[str, int]]) -> None:
        """Drop nodes no longer UP, writing their last minutes before their history goes."""
        gone = [k for k in {*self.latest, *self._inflight} if k not in keys]
        if not gone:
            return
        if self.record_minutes:
            ended = [self.latest[k] for k in gone if k in self.latest]
            write_minutes(self.core.store, self._completed_minutes(ended, flush=True))
        for key in gone:
            self.latest.pop(key, None)
            self._said.pop(key, None)
            task = self._inflight.pop(key, None)
            if task is not None:
                task.cancel()
        for cluster in {c for c, _ in gone} - {c for c, _ in keys}:
            self.history.forget(cluster)
        for k in [k for k in self._open_minute if (k[0], k[1]) not in keys]:
            del self._open_minute[k]

    def idle(self, *, now: float | None = None) -> list[IdleGpu]:
        """GPUs idle for the dashboard's window on clusters that are UP (billing)."""
        billing = {c.name for c in self.core.store.clusters() if c.status == "UP"}
        return idle_gpus(self.history, self.latest.values(), billing,
                         now=self.core.clock() if now is None else now)

    async def run(self, stop: asyncio.Event,
                  on_round: Callable[[list[NodeSnapshot]], object] | None = None) -> None:
        """Sample every `interval` s until `stop` is set; a round ends by the next tick at the latest."""
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                started = loop.time()
                snaps = await self.round()
                if on_round is not None:
                    on_round(snaps)
                # The next tick is scheduled only after this round ended, so rounds never overlap.
                delay = max(0.0, self.interval - (loop.time() - started))
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                except asyncio.TimeoutError:
                    pass
        finally:
            self.close()
            if self.record_minutes:
                self.flush_minutes()

    def close(self) -> None:
        """Cancel probes still in flight."""
        for task in self._inflight.values():
            task.cancel()
        self._inflight.clear()


async def sample_fleet(core: Core, *, wait: float = PROBE_TIMEOUT_S,
                       transport: Transport | None = None) -> list[NodeSnapshot]:
    """One round over every UP cluster's nodes, for a one-shot view such as `skytui gpus`."""
    sampler = Sampler(core, transport=transport, record_minutes=False)
    try:
        return await sampler.round(wait=wait)
    finally:
        sampler.close()


async def run_sampler(core: Core, stop_event: asyncio.Event,
                      on_round: Callable[[list[NodeSnapshot]], object] | None = None,
                      *, interval: float | None = None,
                      transport: Transport | None = None) -> Sampler:
    """Sample the fleet until `stop_event` is set (the app or the daemon runs this)."""
    sampler = Sampler(core, interval=interval, transport=transport)
    await sampler.run(stop_event, on_round)
    return sampler

