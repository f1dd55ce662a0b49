"""The hooks: the planner keeps only clouds that can honour every mount, the launch flow
attaches the buckets to each node, and `down` / a managed job's end delete what skytui
created with `persistent: false`."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from skytui.core.storage import commands, local, records
from skytui.errors import RemoteError, SkytuiError, TaskError
from skytui.task.spec import Task
from skytui.task.storage import StorageMount

if TYPE_CHECKING:
    from skytui.core.context import Core
    from skytui.core.planner import Plan
    from skytui.store import Cluster, Node

log = logging.getLogger("skytui.storage")

STORE_OF_CLOUD = {"local": "local", "aws": "s3", "gcp": "gcs"}
CLOUD_OF_STORE = {v: k for k, v in STORE_OF_CLOUD.items()}
_STORE_WORDS = {"local": "a local:// bucket", "s3": "an S3 bucket", "gcs": "a GCS bucket"}
_STORE_CLOUD_WORDS = {"local": "the local cloud", "s3": "AWS", "gcs": "GCP"}


def _fail(task: Task, m: StorageMount, problem: str, fix: str) -> TaskError:
    return TaskError(problem, fix, file=task.source or "<task>", line=m.line or 1, col=m.col or 1,
                     field=f"file_mounts.{m.path}")


def relayed(m: StorageMount) -> bool:
    """A COPY of an existing s3/gcs bucket: any cloud's nodes get it, through this host when
    the node is not on the bucket's cloud (see commands.fetch_command)."""
    return m.mode == "COPY" and not m.named and m.store in ("s3", "gcs")


def clouds_for(m: StorageMount) -> set[str]:
    """The clouds whose nodes can mount `m` (a store's buckets mount on that store's cloud, a
    COPY of an existing bucket goes anywhere; absolute paths on the local cloud would land in
    this host's own filesystem)."""
    clouds = {CLOUD_OF_STORE[m.store]} if m.store and not relayed(m) else set(CLOUD_OF_STORE.values())
    if m.path.startswith("/"):
        clouds.discard("local")
    return clouds


def _needs(m: StorageMount) -> str:
    words = {"local": "local-cloud", "aws": "AWS", "gcp": "GCP"}
    return " or ".join(words[c] for c in sorted(clouds_for(m)))


def _why_not(m: StorageMount, cloud: str) -> tuple[str, str]:
    if m.path.startswith("/") and cloud == "local" and m.store in (None, "local"):
        problem = ("local-cloud nodes share this host's filesystem, so a bucket mounts under the "
                   "node's HOME only")
        return problem, f"mount it at ~{m.path} (and use that path in the task)"
    assert m.store is not None
    where = _STORE_CLOUD_WORDS[m.store]
    fix = {"local": "run it on the local cloud (cloud: local), or use an s3:// or gs:// bucket",
           "s3": "run it on AWS (cloud: aws), or use a bucket of the cloud it runs on",
           "gcs": "run it on GCP (cloud: gcp), or use a bucket of the cloud it runs on"}[m.store]
    problem = f"{m.url()} is {_STORE_WORDS[m.store]}, which skytui mounts on {where} nodes only (not {cloud})"
    return problem, fix


def restrict_plan(task: Task, p: Plan) -> Plan:
    """Drop the candidates on clouds that cannot honour a mount; refuse in one line if none is left."""
    if not task.storage_mounts:
        return p
    mounts = list(task.storage_mounts.values())
    for m in mounts:
        _check_plan_time(task, m)
    allowed = set(CLOUD_OF_STORE.values())
    for i, m in enumerate(mounts):
        if not clouds_for(m):  # e.g. a local:// bucket at an absolute path
            problem, fix = _why_not(m, "local")
            raise _fail(task, m, problem, fix)
        if not allowed & clouds_for(m):
            other = next((o for o in mounts[:i] if not clouds_for(o) & clouds_for(m)), mounts[0])
            raise _fail(task, m, f"{m.url()} needs {_needs(m)} nodes but {other.path} needs "
                        f"{_needs(other)} nodes: no node can mount both",
                        "keep the buckets of one cloud in a task")
        allowed &= clouds_for(m)
    keep = [c for c in p.candidates if c.cloud in allowed]
    elsewhere = [c for c in p.candidates_elsewhere if c.cloud in allowed]
    if not keep and not elsewhere:
        offered = sorted({c.cloud for c in (*p.candidates, *p.candidates_elsewhere)})
        cloud = offered[0] if offered else "local"
        bad = next((m for m in mounts if cloud not in clouds_for(m)), mounts[0])
        pinned = any(r.cloud for r in task.resources)  # then the cloud asked is the reason
        if bad.store and offered and not clouds_for(bad) & set(offered) and not pinned:
            # its cloud has nothing that fits (other clouds do)
            words = {"local": "local-cloud", "aws": "AWS", "gcp": "GCP"}
            only = " and ".join(words.get(c, c) for c in offered)
            raise _fail(task, bad, f"{bad.url()} needs {_needs(bad)} nodes, but no {_needs(bad)} "
                        f"offering has what the task asks (only {only} ones do)",
                        "ask for resources that cloud offers (e.g. cpus: 2+; see `skytui "
                        "show-gpus`), or use a bucket of the cloud that has them")
        problem, fix = _why_not(bad, cloud)
        raise _fail(task, bad, problem, fix)
    return dataclasses.replace(p, candidates=keep, candidates_elsewhere=elsewhere)


def _check_plan_time(task: Task, m: StorageMount) -> None:
    if m.store == "local" and not m.pending:
        try:
            local.resolve(m.bucket, m.sub_path)
        except ValueError as e:
            problem, _, fix = str(e).partition("; ")
            raise _fail(task, m, problem, fix or "fix the path") from None


def describe_mounts(task: Task) -> list[str]:
    """One line per bucket for the plan: where it goes, how, and whether `down` deletes it."""
    out = ["Buckets:"]
    for m in task.storage_mounts.values():
        how = {"COPY": "copied at launch", "MOUNT": "mounted",
               "MOUNT_CACHED": "mounted (cached)"}[m.mode]
        url = m.url() if m.store else f"{m.bucket} (the store of the cloud it runs on)"
        if m.pending:  # the name is not known yet: say what gives it, not a made-up URL
            url = f"a bucket named by {m.pending}" + (f" ({m.store})" if m.store else "")
        if not m.named:
            life = "yours: never deleted"
        elif m.persistent:
            life = "created if missing, kept"
        else:
            life = "created if missing; deleted on down if skytui created it (persistent: false)"
        if m.uploads:
            life += f"; uploads {len(m.uploads)} local paths first"
        if relayed(m):
            how += " (through this host on another cloud's nodes)"
        out.append(f"  {m.path} <- {url}: {how}; {life}")
    return out


# -- launch -------------------------------------------------------------------------------------
async def attach(core: Core, cluster: Cluster, nodes: list[Node], task: Task) -> None:
    """Create what is missing, then mount or copy every bucket on every node (head first, so a
    bucket the head creates exists before the others mount it)."""
    if not task.storage_mounts:
        return
    core.progress("storage", f"attaching {len(task.storage_mounts)} bucket(s) on {len(nodes)} node(s)",
                  cluster=cluster.name, record=False)
    for m in task.storage_mounts.values():  # launch() refuses these first; never mount a guess
        if m.pending:
            raise _fail(task, m, f"{m.pending} must be given first", "fill it in, then launch")
    for m in task.storage_mounts.values():  # checked here, not in the plan: a dry run may be
        for src in _sources(m):  # run elsewhere
            if not Path(src).expanduser().exists():
                raise _fail(task, m, f"source {src!r} does not exist on this machine",
                            "give an existing directory, or a bucket URL")
    for m in task.storage_mounts.values():
        store = m.store or STORE_OF_CLOUD.get(cluster.cloud)
        if store is None or cluster.cloud not in clouds_for(dataclasses.replace(m, store=store)):
            problem, fix = _why_not(dataclasses.replace(m, store=store or "local"), cluster.cloud)
            raise _fail(task, m, problem, fix)
        if store != "local" and CLOUD_OF_STORE[store] != cluster.cloud:  # relayed(m) holds
            await _relay(core, cluster, nodes, m, store)
            core.progress("storage", f"{m.url(store)} copied to {m.path} through this host",
                          cluster=cluster.name, record=False)
            continue
        if store == "local":
            command = commands.local_command(m, await _local_bucket(core, cluster, task, m))
        else:
            if m.named:
                await _ensure_cloud_bucket(core, cluster, nodes[0], m, store)
            if _sources(m):
                await _upload_via_head(core, cluster, nodes[0], m, store)
            command = commands.cloud_command(m, store)
        await _run_everywhere(core, cluster, nodes, command, m, store)
        core.progress("storage", f"{m.url(store)} {'copied to' if m.mode == 'COPY' else 'mounted at'} "
                      f"{m.path}", cluster=cluster.name, record=False)


async def _local_bucket(core: Core, cluster: Cluster, task: Task, m: StorageMount) -> Path:
    try:
        fresh = not local.exists(m.bucket)
        path = local.resolve(m.bucket, m.sub_path, create=True)
    except ValueError as e:
        problem, _, fix = str(e).partition("; ")
        raise _fail(task, m, problem, fix or "fix the path") from None
    if fresh and m.named:
        # Only a bucket given by `name:` and made here is ours; a local:// URL names the
        # user's bucket, which we create empty when missing but never claim.
        records.record_created(core.store, "local", m.bucket, cluster=cluster.name,
                               job_id=cluster.job_id, persistent=m.persistent)
        core.store.add_event("storage", f"created bucket {m.url('local')}"
                             f"{'' if m.persistent else ' (deleted on down: persistent: false)'}",
                             cluster=cluster.name, job_id=cluster.job_id)
    if m.upload is not None:
        await asyncio.to_thread(local.upload, Path(m.upload).expanduser(), path)
    for src in m.uploads:  # a list: each directory under its own name, files at the top
        p = Path(src).expanduser()
        await asyncio.to_thread(local.upload, p, path / p.name if p.is_dir() else path)
    return path


def _sources(m: StorageMount) -> tuple[str, ...]:
    """The local paths a mount uploads: its one `source:` directory, or its list."""
    return (m.upload,) if m.upload is not None else m.uploads


async def _ensure_cloud_bucket(core: Core, cluster: Cluster, head: Node, m: StorageMount,
                               store: str) -> None:
    from skytui.core.nodeaddr import address
    from skytui.remote.exec import run

    if records.created(core.store, store, m.bucket) is not None:
        return
    done = await run(core.ssh, address(core, cluster, head), commands.create_command(store, m.bucket),
                     timeout=300)
    if not done.ok:
        raise SkytuiError(f"cannot create {m.url(store)}: {_tail(done.stderr or done.stdout)}",
                          "check the node's cloud credentials (README: Storage mounts)")
    if commands.CREATED_MARK in done.stdout.split():
        records.record_created(core.store, store, m.bucket, cluster=cluster.name,
                               job_id=cluster.job_id, persistent=m.persistent)
        core.store.add_event("storage", f"created bucket {m.url(store)}", cluster=cluster.name,
                             job_id=cluster.job_id)


async def _upload_via_head(core: Core, cluster: Cluster, head: Node, m: StorageMount,
                           store: str) -> None:
    """`name:` + a local `source:` on s3/gcs: send the directory to the head node, then let the
    cloud's CLI there copy it into the bucket (the node holds the credentials, not this host)."""
    from skytui.core.nodeaddr import address
    from skytui.remote.exec import run
    from skytui.remote.sync import sync_up

    addr = address(core, cluster, head)
    staging = commands.upload_staging(m.bucket)
    for one in _sources(m):
        src = Path(one).expanduser()
        # One source directory: its contents; a list: each directory under its own name.
        await sync_up(core.ssh, addr, src, staging + "/", contents=src.is_dir() and not m.uploads)
    done = await run(core.ssh, addr, commands.upload_command(store, m.bucket, m.sub_path), timeout=3600)
    if not done.ok:
        what = m.upload or ", ".join(m.uploads)
        raise SkytuiError(f"cannot upload {what} into {m.url(store)}: {_tail(done.stderr or done.stdout)}",
                          "check the node's cloud credentials (README: Storage mounts)")


async def _relay(core: Core, cluster: Cluster, nodes: list[Node], m: StorageMount,
                 store: str) -> None:
    """COPY a bucket of another cloud: fetch it on this host, send it to every node over SSH,
    and let each node put it at the mount path. The download lives in a temporary directory
    under skytui's cache, removed whatever happens."""
    import tempfile

    from skytui.core.nodeaddr import address
    from skytui.paths import cache_dir
    from skytui.remote.exec import run
    from skytui.remote.sync import sync_up

    tool = {"s3": "aws", "gcs": "gcloud"}[store]
    with tempfile.TemporaryDirectory(prefix="relay-", dir=cache_dir()) as tmp:
        target = Path(tmp) / "data"
        proc = await asyncio.create_subprocess_exec(
            "bash", "-c", commands.fetch_command(m, store, target),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        if proc.returncode != 0 or not target.exists():
            raise SkytuiError(
                f"cannot copy {m.url(store)} through this host for {cluster.cloud} nodes: "
                f"{_tail(err.decode(errors='replace') or out.decode(errors='replace'))}",
                f"install and sign in the {tool} CLI here, or run the task on "
                f"{_STORE_CLOUD_WORDS[store]}")
        staged = commands.relay_staging(m.bucket)

        async def one(n: Node) -> None:
            addr = address(core, cluster, n)
            await sync_up(core.ssh, addr, target, staged + ("/" if target.is_dir() else ""),
                          contents=target.is_dir())
            done = await run(core.ssh, addr, commands.staged_copy_command(m, staged), timeout=600)
            if not done.ok:
                raise SkytuiError(f"{n.alias}: cannot copy {m.url(store)} to {m.path}: "
                                  f"{_tail(done.stderr or done.stdout)}",
                                  "see README: Storage mounts for what the node needs")

        await asyncio.gather(*(one(n) for n in nodes))


async def _run_everywhere(core: Core, cluster: Cluster, nodes: list[Node], command: str,
                          m: StorageMount, store: str) -> None:
    from skytui.core.nodeaddr import address
    from skytui.remote.exec import run

    async def one(n: Node) -> None:
        done = await run(core.ssh, address(core, cluster, n), command, timeout=600)
        if not done.ok:
            raise SkytuiError(f"{n.alias}: cannot {'copy' if m.mode == 'COPY' else 'mount'} "
                              f"{m.url(store)} at {m.path}: {_tail(done.stderr or done.stdout)}",
                              "see README: Storage mounts for what the node needs")

    await asyncio.gather(*(one(n) for n in nodes))


def _tail(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "no output"


# -- teardown -----------------------------------------------------------------------------------
async def release_cluster_buckets(core: Core, cluster: Cluster) -> None:
    """On `down`: delete the non-persistent buckets this cluster's launches created."""
    await _release(core, cluster, records.doomed(core.store, cluster=cluster.name))


async def release_job_buckets(core: Core, job_id: int, cluster: Cluster | None = None) -> None:
    """At a managed job's end: delete the non-persistent buckets its attempts created."""
    await _release(core, cluster, records.doomed(core.store, job_id=job_id))


async def _release(core: Core, cluster: Cluster | None, doomed: list[records.BucketRecord]) -> None:
    for rec in doomed:
        url = commands.cloud_url(rec.store, rec.name) if rec.store != "local" else f"local://{rec.name}"
        try:
            if rec.store == "local":
                await asyncio.to_thread(local.delete, rec.name)
            else:
                await _delete_cloud_bucket(core, cluster, rec)
        except (SkytuiError, OSError) as e:
            core.store.add_event("storage", f"bucket {url} was not deleted ({e}); delete it yourself",
                                 cluster=rec.cluster, job_id=rec.job_id, reason="bucket-kept")
            continue
        records.forget(core.store, rec.store, rec.name)
        core.store.add_event("storage", f"deleted bucket {url} (persistent: false)",
                             cluster=rec.cluster, job_id=rec.job_id, reason="bucket-deleted")


async def _delete_cloud_bucket(core: Core, cluster: Cluster | None, rec: records.BucketRecord) -> None:
    """Through a node of the cluster (its credentials made the bucket), while it is still up."""
    from skytui.core.nodeaddr import address
    from skytui.remote.exec import run

    nodes = core.store.nodes(cluster.name) if cluster is not None else []
    if cluster is None or cluster.status != "UP" or not nodes:
        raise RemoteError("no running node of its cluster can reach the cloud")
    done = await run(core.ssh, address(core, cluster, nodes[0]),
                     commands.delete_command(rec.store, rec.name), timeout=600)
    if not done.ok:
        raise RemoteError(_tail(done.stderr or done.stdout))
