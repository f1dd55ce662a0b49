"""Cluster lifecycle for every entry point: launch, exec, stop, start, down, autostop, status."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from skytui.core import launcher
from skytui.core.context import Core
from skytui.core.crashpoints import crash_point
from skytui.core.planner import Candidate, Plan
from skytui.errors import NotFound, ProviderError, SkytuiError
from skytui.names import validate_name, validate_new_cluster_name
from skytui.providers.base import Instance
from skytui.store import Cluster, Node, current_user
from skytui.task.spec import Task

OutputFn = Callable[[str, str], None]


@dataclass
class LaunchOptions:
    detach_run: bool = False
    is_dev: bool = False
    autostop_minutes: int | None = None
    autostop_down: bool = False
    # Reorders the plan before provisioning (dev VMs: nearest region first); None keeps the
    # planner's order, cheapest first.
    order: Callable[[Plan], Plan] | None = None


def get_cluster(core: Core, name: str) -> Cluster:
    validate_name(name)
    c = core.store.cluster(name)
    if c is None or c.status == "TERMINATED":
        raise NotFound(f"no cluster named {name!r}", "see `skytui status`")
    return c


def open_usage(core: Core, c: Cluster, nodes: list[Node]) -> None:
    per_node = (c.price_per_hour or 0.0) / max(1, c.num_nodes)
    od = (c.on_demand_price_per_hour or 0.0) / max(1, c.num_nodes)
    source = "local:reference-estimate" if c.cloud == "local" else f"catalog:{c.cloud}"
    for n in nodes:
        core.store.open_usage(
            cluster=c.name, node=n.rank, job_id=c.job_id, attempt=None, user=c.user, cloud=c.cloud,
            region=c.region or "", zone=c.zone, instance_type=c.instance_type or "",
            accelerator=c.accelerator, accelerator_count=c.accelerator_count, spot=c.spot,
            price_per_hour=per_node, on_demand_price_per_hour=od, estimate_source=source)


async def launch(core: Core, name: str, task: Task, opts: LaunchOptions,
                 on_output: OutputFn | None = None) -> launcher.LaunchResult:
    """Launch `task` on cluster `name` (reusing it when UP) and run it."""
    validate_name(name)
    task.require_filled()
    existing = core.store.cluster(name)
    if existing is None or existing.status == "TERMINATED":
        validate_new_cluster_name(name)
        _refuse_users_host(name, task.num_nodes)
    if existing is not None and existing.status == "UP":
        core.progress("reuse", f"cluster {name} is UP: reusing it", cluster=name, record=False)
        return await run_on(core, existing, task, detach=opts.detach_run, on_output=on_output)
    if existing is not None and existing.status == "STOPPED":
        raise SkytuiError(f"cluster {name} is STOPPED", f"start it first: skytui start {name}")
    if existing is not None and existing.status == "PREEMPTED":
        raise SkytuiError(f"cluster {name} was preempted", f"remove it first: skytui down {name}")

    p = launcher.make_plan(core, task).require()
    if opts.order is not None:
        p = opts.order(p)
    cand = p.candidates[0]
    now = core.clock()
    if existing is not None and existing.status == "INIT" and existing.request_id:
        request_base = existing.request_id  # a rerun after a crash adopts what was started
        core.progress("adopt", f"resuming the interrupted launch of {name}", cluster=name)
    else:
        request_base = f"{name}-{secrets.token_hex(3)}"
        record = launcher.new_cluster_record(
            name, cand, task, request_id=request_base, job_id=None, is_dev=opts.is_dev,
            autostop_minutes=opts.autostop_minutes, autostop_down=opts.autostop_down, now=now)
        if not core.store.create_cluster(record, event=f"launching {name} on {cand.cloud} "
                                         f"{cand.region}/{cand.zone} ({cand.instance_type})"):
            raise SkytuiError(f"cluster {name} is being launched by another process",
                              "wait for it, or `skytui down` it")
    crash_point("launch-recorded", 0)
    try:
        await _bring_up(core, name, task, p, request_base)
    except Exception as exc:
        # A failed launch leaves nothing running or billing. (Ctrl-C is not an Exception: an
        # interrupted launch stays INIT, and a rerun adopts it or `skytui down` removes it.)
        await _abandon(core, name, exc)
        if isinstance(exc, SkytuiError):
            raise SkytuiError(f"launch of {name} failed: {exc.problem}",
                              "its nodes were removed; fix the cause and launch again") from None
        raise
    cluster = get_cluster(core, name)
    return await run_on(core, cluster, task, detach=opts.detach_run, on_output=on_output)


def _refuse_users_host(name: str, num_nodes: int) -> None:
    """A new cluster may not take over a Host the user already has in ~/.ssh/config."""
    from skytui.core.context import ssh_dir
    from skytui.core.sshconfig import SSHConfig
    from skytui.errors import NameError_

    cfg = SSHConfig(ssh_dir())
    mine = cfg.user_hosts()
    for alias in [name, *(f"{name}-worker{i}" for i in range(1, num_nodes))]:
        if alias in mine:
            raise NameError_(f"cluster name {name!r}: `Host {alias}` is already in {cfg.user_config()}",
                             "pick another cluster name (your own entry is kept as it is)")


async def _bring_up(core: Core, name: str, task: Task, p: Plan, request_base: str) -> None:
    """Provision, wait for SSH, pin host keys and publish SSH names; then the cluster is UP."""
    prov = await launcher.provision(core, name, task, p, request_base=request_base)
    crash_point("launch-provisioned", 0)
    c = prov.candidate
    core.store.update_cluster(
        name, cloud=c.cloud, region=c.region, zone=c.zone, instance_type=c.instance_type,
        spot=int(c.spot), accelerator=c.accelerator, accelerator_count=c.accelerator_count,
        vcpus=c.vcpus, memory_gib=c.memory_gib, price_per_hour=c.price_per_hour,
        on_demand_price_per_hour=c.on_demand_price_per_node * task.num_nodes)
    core.store.set_nodes(name, prov.nodes)
    cluster = get_cluster(core, name)
    open_usage(core, cluster, prov.nodes)
    core.progress("boot", f"waiting for {len(prov.nodes)} node(s) to accept SSH", cluster=name, record=False)
    nodes = await launcher.wait_ready(core, prov)
    core.store.set_nodes(name, nodes)
    launcher.pin_and_publish(core, name, c.cloud, nodes)
    await launcher.wait_ssh(core, cluster, nodes)
    core.store.transition_cluster(name, ["INIT"], "UP", event=f"{name} is UP in {c.cloud} {c.region}/{c.zone}",
                                  reason="launched")


async def _abandon(core: Core, name: str, exc: Exception) -> None:
    core.progress("failed", f"launch of {name} failed: {exc}; removing what was started", cluster=name,
                  reason="launch-failed")
    try:
        await down(core, name, reason="launch-failed")
    except Exception as cleanup:  # noqa: BLE001 - report both; the first error is the one the user acts on
        core.progress("failed", f"cleaning up {name} also failed: {cleanup}; run `skytui down {name}`",
                      cluster=name, reason="cleanup-failed")


async def run_on(core: Core, cluster: Cluster, task: Task, *, detach: bool,
                 on_output: OutputFn | None = None) -> launcher.LaunchResult:
    """Sync, set up and run `task` on an UP cluster as a new cluster job."""
    nodes = core.store.nodes(cluster.name)
    result = launcher.LaunchResult(cluster.name)
    await launcher.sync(core, cluster, nodes, task)
    task_id = f"skytui-{cluster.name}-{secrets.token_hex(4)}"
    await launcher.run_setup(core, cluster, nodes, task, task_id, on_output)
    if not task.run:
        return result
    job_id = core.store.add_cluster_job(cluster.name, task.name, task.run)
    result.cluster_job_id = job_id
    core.progress("run", f"job {job_id} started on {cluster.name}", cluster=cluster.name)
    await launcher.start_run(core, cluster, nodes, task, task_id, str(job_id))
    if detach:
        return result
    result.exit_code = await follow_job(core, cluster, job_id, on_output)
    return result


async def follow_job(core: Core, cluster: Cluster, job_id: int, on_output: OutputFn | None) -> int | None:
    """Stream the head node's log until the job ends; record its exit code."""
    from skytui.remote.tail import tail

    nodes = core.store.nodes(cluster.name)
    head = launcher.address(core, cluster, nodes[0])
    async for ev in tail(core.ssh, head, str(job_id), offset=0, follow=True):
        if on_output is not None:
            data = getattr(ev, "data", None)
            if data:
                on_output(data.decode(errors="replace") if isinstance(data, bytes) else data, "stdout")
            elif getattr(ev, "kind", "") in ("disconnected", "resumed"):
                on_output(f"[skytui] connection {ev.kind}\n", "stderr")
    return await refresh_cluster_job(core, cluster, job_id)


async def refresh_cluster_job(core: Core, cluster: Cluster, job_id: int) -> int | None:
    """Read the job's state on every node; the job failed if any node's run failed."""
    from skytui.remote.jobs import job_state

    nodes = core.store.nodes(cluster.name)
    states = await asyncio.gather(*(job_state(core.ssh, launcher.address(core, cluster, n), str(job_id))
                                    for n in nodes))
    if any(s.status == "running" for s in states):
        return None
    codes = [s.exit_code if s.exit_code is not None else 255 for s in states]
    code = next((c for c in codes if c != 0), 0)
    core.store.finish_cluster_job(cluster.name, job_id, "SUCCEEDED" if code == 0 else "FAILED", code)
    return code


async def exec_on(core: Core, name: str, task: Task, *, detach: bool,
                  on_output: OutputFn | None = None) -> launcher.LaunchResult:
    cluster = get_cluster(core, name)
    if cluster.status != "UP":
        hint = f"start it first: skytui start {name}" if cluster.status == "STOPPED" else \
            f"launch it again: skytui launch -c {name}"
        raise SkytuiError(f"cluster {name} is {cluster.status}", hint)
    task.setup = None  # exec runs only the command, as SkyPilot's exec does
    return await run_on(core, cluster, task, detach=detach, on_output=on_output)


async def _instances_of(core: Core, c: Cluster) -> list[Instance]:
    """Every instance of the cluster: recorded, or carrying its tag and this store's (an
    interrupted launch). A same-named cluster of another store (a state file started afresh,
    a colleague's sandbox) is never included."""
    provider = core.provider(c.cloud)
    regions = [c.region] if c.region else provider.regions()
    recorded = {n.instance_id for n in core.store.nodes(c.name) if n.instance_id}
    found: list[Instance] = []
    for region in regions:
        found += [i for i in await provider.list_instances(region)
                  if i.cluster == c.name and i.state != "terminated"
                  and (i.id in recorded or i.owned_by(core.store.store_id))]
    return found


async def stop(core: Core, name: str) -> None:
    c = get_cluster(core, name)
    if c.status == "STOPPED":
        return
    if c.spot:
        raise SkytuiError(f"cluster {name} runs on spot instances, which cannot be stopped",
                          f"tear it down instead: skytui down {name}")
    if c.status not in ("UP", "INIT"):
        raise SkytuiError(f"cluster {name} is {c.status} and cannot be stopped", f"skytui down {name}")
    insts = await _instances_of(core, c)
    await core.provider(c.cloud).stop([i.id for i in insts])
    core.store.close_usage(name, "stopped")
    core.store.transition_cluster(name, ["UP", "INIT"], "STOPPED", reason="user-stopped",
                                  event=f"{name} stopped (disks kept)")


async def start(core: Core, name: str) -> None:
    c = get_cluster(core, name)
    if c.status == "UP":
        return
    if c.status != "STOPPED":
        raise SkytuiError(f"cluster {name} is {c.status} and cannot be started",
                          f"skytui down {name}, then launch again")
    provider = core.provider(c.cloud)
    nodes = core.store.nodes(name)
    await provider.start([n.instance_id for n in nodes if n.instance_id])
    insts = {i.id: i for i in await provider.list_instances(c.region or "")}
    prov = launcher.Provisioned(
        candidate=_candidate_of(c), instances=[insts[n.instance_id] for n in nodes if n.instance_id in insts],
        nodes=nodes)
    fresh = await launcher.wait_ready(core, prov)
    core.store.set_nodes(name, fresh)
    launcher.pin_and_publish(core, name, c.cloud, fresh)
    await launcher.wait_ssh(core, c, fresh)
    open_usage(core, c, fresh)
    core.store.transition_cluster(name, ["STOPPED"], "UP", reason="user-started", event=f"{name} started")


def _candidate_of(c: Cluster) -> Candidate:
    return Candidate(c.cloud, c.region or "", c.zone, c.instance_type or "", bool(c.spot),
                              (c.price_per_hour or 0) / max(1, c.num_nodes), c.num_nodes, c.accelerator,
                              c.accelerator_count, c.vcpus or 0, c.memory_gib or 0,
                              (c.on_demand_price_per_hour or 0) / max(1, c.num_nodes))


async def down(core: Core, name: str, *, reason: str = "user-terminated", purge: bool = False) -> str | None:
    """Terminate every node of the cluster (recorded or only tagged) and forget its SSH entries.

    When its cloud cannot be reached, nothing is forgotten unless `purge`: then the record goes
    and the returned line says which instances may still be running (and billing) there.
    """
    c = get_cluster(core, name)
    recorded = sorted({n.instance_id for n in core.store.nodes(name) if n.instance_id})
    try:
        try:
            insts = await _instances_of(core, c)
        except ProviderError:
            insts = []
        ids = {i.id for i in insts} | set(recorded)
        from skytui.core.storage.attach import release_cluster_buckets

        await release_cluster_buckets(core, c)  # persistent: false; before the nodes go (s3/gcs use them)
        await core.provider(c.cloud).terminate(sorted(ids))
    except Exception as exc:  # noqa: BLE001 - any failure of the cloud: its instances are in an unknown state
        where = f"{c.cloud} {c.region or ''}".strip()
        left = ", ".join(recorded) or "none recorded; the launch may have started some"
        if not purge:
            raise SkytuiError(
                f"cannot reach {where} to tear down {name} ({_one_line(exc)}); nothing was changed",
                f"fix the cloud's access and retry, or `skytui down --purge {name}` to forget it "
                f"(instances: {left})") from None
        warning = (f"{name}: forgot the record without reaching {where} ({_one_line(exc)}); these "
                   f"instances may still run and bill there, check its console: {left}")
        _forget(core, c, reason="purged", event=warning)
        return warning
    for n in core.store.nodes(name):
        await core.ssh.drop(launcher.address(core, c, n))
    _forget(core, c, reason=reason, event=f"{name} torn down")
    return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _forget(core: Core, c: Cluster, *, reason: str, event: str) -> None:
    from skytui.core.context import ssh_dir
    from skytui.core.sshconfig import SSHConfig

    name = c.name
    core.store.close_usage(name, "down")
    SSHConfig(ssh_dir()).remove_cluster(name)
    (ssh_dir() / f"known_hosts-{name}").unlink(missing_ok=True)
    core.store.transition_cluster(name, ["INIT", "UP", "STOPPED", "PREEMPTED"], "TERMINATED",
                                  reason=reason, event=event)


def set_autostop(core: Core, name: str, minutes: int | None, down_after: bool) -> None:
    c = get_cluster(core, name)
    if minutes is not None and minutes < 0:
        raise SkytuiError("autostop minutes must be >= 0", "use -i 0 to turn it off")
    core.store.update_cluster(c.name, autostop_minutes=minutes or None, autostop_down=int(down_after))
    what = "off" if not minutes else f"{'down' if down_after else 'stop'} after {minutes} idle minutes"
    core.store.add_event("autostop", f"autostop for {name}: {what}", cluster=name)


def owner_is_me(c: Cluster) -> bool:
    return c.user == current_user()
