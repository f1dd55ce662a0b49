"""The launch flow: plan -> provision (failing over on capacity) -> SSH -> sync -> setup -> run."""

from __future__ import annotations

import asyncio
import json
import shlex
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from skytui.core.context import Core
from skytui.core.nodeaddr import _address
from skytui.core.nodeaddr import address as address
from skytui.core.nodeaddr import ssh_user as ssh_user
from skytui.core.planner import Candidate, Location, Plan, plan
from skytui.errors import CapacityError, ProviderError, RemoteError, SkytuiError
from skytui.providers.base import Instance, LaunchSpec
from skytui.store import Cluster, Node, current_user
from skytui.task.spec import Resources, Task

SSH_READY_TIMEOUT_S = 60.0
HOST_KEY_TIMEOUT_S = 180.0  # a cloud VM's sshd may start minutes after the VM runs
WORKDIR = "sky_workdir"  # the same place SkyPilot syncs to, so task scripts don't change


@dataclass
class Provisioned:
    candidate: Candidate
    instances: list[Instance]
    nodes: list[Node]


@dataclass
class LaunchResult:
    cluster: str
    cluster_job_id: int | None = None
    exit_code: int | None = None
    candidate: Candidate | None = None
    skipped: list[str] = field(default_factory=list)


def make_plan(core: Core, task: Task, blocked: Collection[Location] = ()) -> Plan:
    from skytui.core.offerings import offerings_for

    cfg = core.config
    p = plan(task.resources, ordered=task.resources_ordered, num_nodes=task.num_nodes,
             enabled_clouds=cfg.enabled_clouds, offerings=offerings_for(cfg),
             allowed_regions=cfg.allowed_regions or None, blocked=blocked)
    if task.storage_mounts:  # only clouds that can mount every bucket
        from skytui.core.storage.attach import restrict_plan

        p = restrict_plan(task, p)
    return p


def tier_fields(res: Resources | None, cand: Candidate) -> dict[str, Any]:
    """LaunchSpec fields from the request: disk size, the region's image, disk/network tiers."""
    if res is None:
        return {}
    from skytui.core import tiers

    out: dict[str, Any] = {"disk_size_gb": res.disk_size}
    image = res.image_ids.get(cand.region) or res.image_id
    if image:
        out["image_id"] = image
    if res.disk_tier:
        vol = tiers.volume(cand.cloud, cand.instance_type, res.disk_tier, res.disk_size)
        out.update(disk_tier=vol.tier, disk_type=vol.disk_type, disk_iops=vol.iops,
                   disk_throughput_mbps=vol.throughput_mbps)
    if res.network_tier:
        net = tiers.network(cand.cloud, cand.instance_type, res.network_tier)
        out.update(network_tier=net.tier, efa=net.efa, gvnic=net.gvnic)
    return out


def node_env(cluster: str, rank: int, num_nodes: int) -> dict[str, str]:
    """What every command on a node sees, whatever job runs there."""
    env = {"SKYPILOT_NODE_RANK": str(rank), "SKYPILOT_NUM_NODES": str(num_nodes),
           "SKYPILOT_CLUSTER_NAME": cluster}
    return {**env, **{k.replace("SKYPILOT_", "SKYTUI_"): v for k, v in env.items()}}


def job_env(task: Task, task_id: str, nodes: list[Node], rank: int) -> dict[str, str]:
    ips = "\n".join(n.host or "127.0.0.1" for n in nodes)
    env = {"SKYPILOT_TASK_ID": task_id, "SKYPILOT_NODE_IPS": ips, "SKYPILOT_NODE_RANK": str(rank),
           "SKYPILOT_NUM_NODES": str(len(nodes))}
    env.update({k.replace("SKYPILOT_", "SKYTUI_"): v for k, v in list(env.items())})
    env.update({k: v for k, v in task.envs.items() if v is not None})
    env.update({k: v for k, v in task.secrets.items() if v is not None})
    return env


async def provision(core: Core, cluster: str, task: Task, p: Plan, *, request_base: str,
                    job_id: int | None = None, max_tries: int | None = None,
                    on_skip: Callable[[Candidate, str], None] | None = None) -> Provisioned:
    """Ask clouds for nodes along the plan, failing over past zones without capacity."""
    _, public_key = core.user_key
    tried: set[tuple[str, str, str | None]] = set()
    last_error: Exception | None = None
    for cand in p.candidates:
        where = (cand.cloud, cand.region, cand.zone)
        if where in tried:
            continue
        if max_tries is not None and len(tried) >= max_tries:
            break
        tried.add(where)
        res = task.resources[cand.resources_index] if cand.resources_index < len(task.resources) \
            else None
        spec = LaunchSpec(
            request_id=f"{request_base}-{cand.cloud}-{cand.region}-{cand.zone}".replace("/", "-"),
            cluster=cluster, num_nodes=task.num_nodes, region=cand.region, zone=cand.zone or "",
            instance_type=cand.instance_type, spot=cand.spot, user=current_user(),
            ssh_public_key=public_key, job_id=job_id, accelerator=cand.accelerator,
            accelerator_count=cand.accelerator_count, store_id=core.store.store_id,
            node_env=tuple(node_env(cluster, r, task.num_nodes) for r in range(task.num_nodes)),
            labels=dict(res.labels) if res is not None else {},
            **tier_fields(res, cand))
        core.progress("provision", f"asking {cand.cloud} for {task.num_nodes} x {cand.instance_type}"
                      f"{' (spot)' if cand.spot else ''} in {cand.region}/{cand.zone}",
                      cluster=cluster, job_id=job_id, record=False)
        try:
            instances = await core.provider(cand.cloud).launch(spec)
        except CapacityError as exc:
            last_error = exc
            core.progress("capacity", f"{exc}; trying the next candidate", cluster=cluster,
                          job_id=job_id, reason="no-capacity")
            if on_skip:
                on_skip(cand, str(exc))
            continue
        nodes = [Node(cluster=cluster, rank=i.node, instance_id=i.id, host=i.host,
                      port=i.ssh_port, host_key=i.host_key) for i in sorted(instances, key=lambda i: i.node)]
        return Provisioned(cand, instances, nodes)
    if isinstance(last_error, CapacityError):
        raise CapacityError(f"no capacity anywhere in the plan (last: {last_error})",
                            cloud=last_error.cloud, region=last_error.region, zone=last_error.zone)
    raise CapacityError("no candidate left to try", cloud="", region="")


async def wait_ready(core: Core, prov: Provisioned, *, timeout: float = SSH_READY_TIMEOUT_S) -> list[Node]:
    """Wait until the provider reports every node running with an SSH port, then pin keys."""
    provider = core.provider(prov.candidate.cloud)
    ids = {i.id for i in prov.instances}
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        listed = {i.id: i for i in await provider.list_instances(prov.candidate.region) if i.id in ids}
        gone = [i for i in listed.values() if i.state == "terminated"] + \
               [i for i in prov.instances if i.id not in listed]
        if gone:
            raise ProviderError(f"node {gone[0].id} of cluster {prov.nodes[0].cluster} went away while "
                                f"booting ({getattr(gone[0], 'reason', None) or 'gone'})")
        if all(i.state == "running" and i.ssh_port for i in listed.values()):
            break
        if time.monotonic() > deadline:
            raise ProviderError(f"nodes of {prov.nodes[0].cluster} did not come up within {timeout:.0f}s")
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.5)
    nodes = []
    keys = await host_keys(core, prov, list(listed.values()))
    for n in prov.nodes:
        inst = listed[n.instance_id]  # type: ignore[index]
        nodes.append(Node(cluster=n.cluster, rank=n.rank, instance_id=inst.id, host=inst.host,
                          port=inst.ssh_port, host_key=keys.get(inst.id) or inst.host_key))
    return nodes


async def host_keys(core: Core, prov: Provisioned, instances: list[Instance],
                    timeout: float = HOST_KEY_TIMEOUT_S) -> dict[str, str]:
    """Keys for nodes the provider reported none for: the cloud's word, else trust on first use."""
    missing = [i for i in instances if not i.host_key]
    if not missing:
        return {}
    cloud, cluster = prov.candidate.cloud, prov.nodes[0].cluster
    keys = await core.provider(cloud).host_keys(missing)
    from skytui.core.context import ssh_dir
    from skytui.remote import tofu

    async def first_use(inst: Instance) -> None:
        addr = _address(core, cloud, inst.region, inst.host or "127.0.0.1", inst.ssh_port or 22,
                        "", f"{cluster}-{inst.node}")
        deadline = time.monotonic() + timeout
        while True:  # sshd starts a while after the VM reports running
            try:
                line = await tofu.first_use_key(addr)
                break
            except RemoteError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1.0)
        keys[inst.id] = tofu.record(cloud, inst.id, line)
        core.progress("hostkey", f"WARNING: {cloud} did not report the host key of {inst.id} "
                      f"({inst.host}); trusted the key it showed on first use and pinned it in "
                      f"{ssh_dir() / 'known_hosts'}", cluster=cluster, reason="host-key-tofu")

    await asyncio.gather(*(first_use(i) for i in missing if i.id not in keys))
    return keys


def pin_and_publish(core: Core, cluster: str, cloud: str, nodes: list[Node]) -> None:
    """Write the cluster's known_hosts from the keys the provider reported, then its Host blocks."""
    from skytui.core.context import ssh_dir
    from skytui.core.sshconfig import HostEntry, SSHConfig
    from skytui.remote.hostkeys import write_known_hosts

    d = ssh_dir()
    known = d / f"known_hosts-{cluster}"
    write_known_hosts(known, [(n.alias, n.host or "127.0.0.1", n.port or 22, n.host_key or "")
                              for n in nodes])
    key_path, _ = core.user_key
    user = ssh_user(core, cloud)
    c = core.store.cluster(cluster)
    proxy = core.config.ssh_proxy_for(cloud, c.region or "") if c is not None else None
    notes = SSHConfig(d).set_cluster(cluster, [
        HostEntry(alias=n.alias, host=n.host or "127.0.0.1", port=n.port or 22, user=user,
                  key_path=key_path, known_hosts=str(known),
                  proxy_jump=proxy.jump if proxy else None, proxy_command=proxy.command if proxy else None)
        for n in nodes])
    for note in notes:
        core.progress("ssh", note, cluster=cluster, reason="ssh-config")


async def wait_ssh(core: Core, cluster: Cluster | str, nodes: list[Node], timeout: float = 30.0) -> None:
    """The node process writes its port once listening, but make sure SSH answers."""
    from skytui.remote.exec import run
    from skytui.remote.marks import as_probe

    async def one(n: Node) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                await run(core.ssh, address(core, cluster, n), as_probe("true"), timeout=10)
                return
            except RemoteError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    await asyncio.gather(*(one(n) for n in nodes))


def with_workdir(task: Task, command: str) -> str:
    if task.workdir or task.workdir_git:
        return f"cd ~/{WORKDIR} && {command}"
    return command


async def sync(core: Core, cluster: Cluster, nodes: list[Node], task: Task) -> None:
    from pathlib import Path

    from skytui.remote.sync import sync_up

    if task.storage_mounts:
        from skytui.core.storage.attach import attach

        await attach(core, cluster, nodes, task)
    if not task.workdir and not task.file_mounts and not task.workdir_git:
        return
    core.progress("sync", f"syncing files to {len(nodes)} node(s)", cluster=cluster.name, record=False)

    async def one(n: Node) -> None:
        addr = address(core, cluster, n)
        if task.workdir:
            await sync_up(core.ssh, addr, Path(task.workdir).expanduser(), WORKDIR, contents=True)
        elif task.workdir_git:
            from skytui.remote.gitdir import git_checkout

            await git_checkout(core.ssh, addr, task.workdir_git.url, task.workdir_git.ref, WORKDIR)
        for remote, local in task.file_mounts.items():
            target = remote[2:] if remote.startswith("~/") else remote
            await sync_up(core.ssh, addr, Path(local).expanduser(), target,
                          contents=Path(local).expanduser().is_dir())

    await asyncio.gather(*(one(n) for n in nodes))


async def run_setup(core: Core, cluster: Cluster, nodes: list[Node], task: Task, task_id: str,
                    on_output: Callable[[str, str], None] | None = None) -> None:
    """Run `setup` on every node; the first failure stops the launch with its exit code."""
    from skytui.remote.exec import run

    if not task.setup:
        return
    core.progress("setup", f"running setup on {len(nodes)} node(s)", cluster=cluster.name, record=False)

    async def one(n: Node) -> None:
        env = job_env(task, task_id, nodes, n.rank)
        done = await run(core.ssh, address(core, cluster, n), with_workdir(task, _bash(task.setup or "")),
                         env=env, on_output=(lambda text, stream: on_output(text, stream)) if on_output and n.rank == 0 else None)
        if done.exit_status != 0:
            raise SkytuiError(f"setup failed on {n.alias} with exit code {done.exit_status}",
                              f"fix the task's `setup`, then `skytui launch` again (cluster {cluster.name} is kept)")

    await asyncio.gather(*(one(n) for n in nodes))


def _bash(script: str) -> str:
    return "bash -c " + shlex.quote(script)


async def start_run(core: Core, cluster: Cluster, nodes: list[Node], task: Task, task_id: str,
                    remote_job: str) -> None:
    """Start `run` detached on every node: it survives SSH drops and the CLI exiting."""
    from skytui.remote.jobs import start_detached

    if not task.run:
        return
    await asyncio.gather(*(
        start_detached(core.ssh, address(core, cluster, n), remote_job, with_workdir(task, task.run or ""),
                       job_env(task, task_id, nodes, n.rank))
        for n in nodes))


def new_cluster_record(name: str, cand: Candidate, task: Task, *, request_id: str, job_id: int | None,
                       is_dev: bool, autostop_minutes: int | None, autostop_down: bool, now: float) -> Cluster:
    return Cluster(
        name=name, cloud=cand.cloud, region=cand.region, zone=cand.zone, status="INIT",
        user=current_user(), updated_at=now, spot=int(cand.spot), num_nodes=task.num_nodes,
        instance_type=cand.instance_type, accelerator=cand.accelerator,
        accelerator_count=cand.accelerator_count, vcpus=cand.vcpus, memory_gib=cand.memory_gib,
        price_per_hour=cand.price_per_node * task.num_nodes,
        on_demand_price_per_hour=cand.on_demand_price_per_node * task.num_nodes,
        launched_at=now, autostop_minutes=autostop_minutes, autostop_down=int(autostop_down),
        job_id=job_id, request_id=request_id, task_json=json.dumps(task.to_dict()), is_dev=int(is_dev))
