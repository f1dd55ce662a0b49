"""Storage mounts on the local cloud, end to end: real nodes, real SSH, real store.

MOUNT writes land in the bucket at once, COPY copies at launch, `persistent: false` buckets
skytui made go with `down`, a user's bucket never does, and a preempted managed spot job
resumes from the checkpoint it kept in a local:// bucket.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from test_watcher_support import (
    REPO,
    make_core,
    preempt_job,
    skytui_cmd,
    wait_status,
    wait_until,
    watching,
)

from skytui.core import clusters
from skytui.core.jobs import attempt_log_path, submit
from skytui.core.storage import local, records
from skytui.remote.exec import run
from skytui.task.loader import load_task, load_task_text

pytestmark = pytest.mark.slow


async def _sh(core, name: str, command: str, node: int = 0) -> str:  # type: ignore[no-untyped-def]
    from skytui.core.launcher import address

    c = core.store.cluster(name)
    done = await run(core.ssh, address(core, c, core.store.nodes(name)[node]), command, timeout=30)
    assert done.ok, done.stderr
    return done.stdout


async def test_mount_is_live_copy_is_a_snapshot_and_down_keeps_persistent_buckets() -> None:
    core = make_core()
    seed = local.resolve("team-data", "inputs", create=True)
    (seed / "a.txt").write_text("from the bucket\n")
    task = load_task_text("""
file_mounts:
  ~/ckpt:
    name: scratch-ckpt
    store: local
    mode: MOUNT
    persistent: false
  ~/kept:
    name: kept-ckpt
    mode: MOUNT_CACHED
  ~/inputs:
    source: local://team-data/inputs
    mode: COPY
  ~/live: local://team-data/inputs
  ~/one.txt: local://team-data/inputs/a.txt
run: echo hi
resources: {cloud: local}
""", "mounts.yaml")
    try:
        await clusters.launch(core, "mnt", task, clusters.LaunchOptions(detach_run=True))
        # MOUNT: a write on the node is in the bucket immediately, and the other way round.
        await _sh(core, "mnt", "echo step-7 > ckpt/state && echo k > kept/k")
        assert (local.bucket_dir("scratch-ckpt") / "state").read_text() == "step-7\n"
        assert (local.bucket_dir("kept-ckpt") / "k").read_text() == "k\n"
        (local.bucket_dir("scratch-ckpt") / "from-host").write_text("x")
        assert (await _sh(core, "mnt", "cat ckpt/from-host")) == "x"
        # COPY: the node got the bucket's contents at launch, and its own copy stays its own.
        assert (await _sh(core, "mnt", "cat inputs/a.txt")) == "from the bucket\n"
        await _sh(core, "mnt", "echo node-only > inputs/b.txt")
        assert not (seed / "b.txt").exists()
        # The plain URL string form is SkyPilot's copy too.
        assert (await _sh(core, "mnt", "cat live/a.txt")) == "from the bucket\n"
        assert (await _sh(core, "mnt", "cat one.txt")) == "from the bucket\n"  # one file
        # Ownership: only the named buckets skytui made are recorded; the user's URL is not.
        assert records.created(core.store, "local", "scratch-ckpt") is not None
        assert records.created(core.store, "local", "kept-ckpt") is not None
        assert records.created(core.store, "local", "team-data") is None
    finally:
        await clusters.down(core, "mnt")
    assert not local.bucket_dir("scratch-ckpt").exists()  # persistent: false, skytui's: deleted
    assert (local.bucket_dir("kept-ckpt") / "k").exists()  # persistent by default: kept
    assert (seed / "a.txt").exists()  # the user's bucket: never touched
    messages = [e.message for e in core.store.events(cluster="mnt")]
    assert any("deleted bucket local://scratch-ckpt" in m for m in messages)


async def test_a_bucket_the_user_made_is_never_deleted_even_when_the_task_says_so() -> None:
    core = make_core()
    mine = local.resolve("users-own", create=True)
    (mine / "precious").write_text("keep me")
    task = load_task_text("""
file_mounts:
  ~/data: {name: users-own, store: local, persistent: false}
run: "true"
resources: {cloud: local}
""", "own.yaml")
    await clusters.launch(core, "own", task, clusters.LaunchOptions(detach_run=True))
    assert (await _sh(core, "own", "cat data/precious")) == "keep me"
    await clusters.down(core, "own")
    assert (mine / "precious").read_text() == "keep me"
    assert records.created(core.store, "local", "users-own") is None


async def test_a_symlink_out_of_a_bucket_is_refused_before_anything_launches(sandbox: Path) -> None:
    core = make_core()
    bucket = local.resolve("sneaky", create=True)
    (bucket / "out").symlink_to(sandbox)
    path = sandbox / "sneaky.yaml"
    path.write_text("file_mounts:\n  ~/x: local://sneaky/out/home\nrun: 'true'\n")
    with pytest.raises(Exception) as err:
        await clusters.launch(core, "sneaky", load_task(path), clusters.LaunchOptions())
    assert re.match(rf"{re.escape(str(path))}:2:8: file_mounts.~/x: local://sneaky/out/home leads "
                    r"outside its bucket", str(err.value))
    assert core.store.cluster("sneaky") is None


def test_cli_refuses_bad_mounts_in_one_line_with_exit_2(sandbox: Path) -> None:
    bad = {
        "scheme": ("file_mounts:\n  ~/d: azure://bucket/x\nrun: 'true'\n", ":2:8: file_mounts.~/d: unknown bucket scheme"),
        "escape": ("file_mounts:\n  ~/d:\n    source: local://b1b/../../etc\nrun: 'true'\n", ":3:13: file_mounts.~/d.source:"),
        "mode": ("file_mounts:\n  ~/d: {name: abc, mode: SYNCED}\nrun: 'true'\n", ":2:26: file_mounts.~/d.mode: unknown mode 'SYNCED'"),
        "s3-on-local": ("file_mounts:\n  ~/d: {source: s3://bucket/x, mode: MOUNT}\nresources: {cloud: local}\n"
                        "run: 'true'\n",
                        ":2:8: file_mounts.~/d: s3://bucket/x is an S3 bucket, which skytui mounts on AWS nodes only"),
        "absolute-on-local": ("file_mounts:\n  /data: local://bkt/x\nrun: 'true'\n",
                              ":2:10: file_mounts./data: local-cloud nodes share this host's filesystem"),
    }
    for what, (text, expected) in bad.items():
        path = sandbox / f"{what}.yaml"
        path.write_text(text)
        done = skytui_cmd("launch", "--dry-run", str(path))
        assert done.returncode == 2, (what, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0] and "Traceback" not in done.stderr, (what, lines)


async def test_a_preempted_spot_job_resumes_from_its_checkpoint_in_a_local_bucket() -> None:
    """examples/train-spot.yaml as shipped: the checkpoint outlives the VM it was written on."""
    core = make_core()
    task = load_task(REPO / "examples" / "train-spot.yaml",
                     env_overrides={"TOTAL_STEPS": "100000", "STEP_SECONDS": "0.05", "CKPT_EVERY": "5"})
    job_id = submit(core, task, name="train-spot")
    async with watching(core):
        await wait_status(core, job_id, "RUNNING")
        log1 = attempt_log_path(job_id, 1)
        job = core.store.job(job_id)
        ckpt = local.bucket_dir("train-spot-ckpt") / job.task_id.replace("/", "_") / "state.json"  # type: ignore[union-attr]
        await wait_until(lambda: _step(ckpt) >= 10, 30, "a checkpoint at step 10 or more in the bucket")
        saved = _step(ckpt)
        preempt_job(core, job_id)
        await wait_until(lambda: core.store.job(job_id).attempts == 2  # type: ignore[union-attr]
                         and core.store.job(job_id).status == "RUNNING", 60, "attempt 2 running")  # type: ignore[union-attr]
        log2 = attempt_log_path(job_id, 2)
        await wait_until(lambda: log2.exists() and "resuming from step" in log2.read_text(), 30,
                         "attempt 2 resuming")
    first = re.search(r"resuming from step (\d+)", log2.read_text())
    assert first is not None and int(first.group(1)) >= saved > 0
    assert "starting fresh" not in log2.read_text()
    assert log1.exists()


def _step(ckpt: Path) -> int:
    import json

    try:
        return int(json.loads(ckpt.read_text())["step"])
    except (OSError, ValueError, KeyError):
        return 0


async def test_the_demo_spot_job_resumes_from_its_checkpoint_after_a_preemption() -> None:
    """`skytui --demo` then `skytui local preempt demo-train-job1`: not back to step 0."""
    from skytui.core.demo import CKPT_BUCKET, demo_task

    core = make_core()
    task = demo_task()
    task.envs.update(STEP_SECONDS="0.05", CKPT_EVERY="5")
    job_id = submit(core, task, name=task.name or "demo-train")
    async with watching(core):
        await wait_status(core, job_id, "RUNNING")
        job = core.store.job(job_id)
        assert job is not None
        step_file = local.bucket_dir(CKPT_BUCKET) / job.task_id / "step"
        await wait_until(lambda: step_file.exists() and int(step_file.read_text() or 0) >= 10, 30,
                         "a demo checkpoint at step 10 or more")
        done = skytui_cmd("local", "preempt", job.cluster or "")
        assert done.returncode == 0, done.stderr
        await wait_until(lambda: core.store.job(job_id).attempts == 2  # type: ignore[union-attr]
                         and core.store.job(job_id).status == "RUNNING", 60, "attempt 2 running")  # type: ignore[union-attr]
        log2 = attempt_log_path(job_id, 2)
        await wait_until(lambda: log2.exists() and "resuming at step" in log2.read_text(), 30,
                         "attempt 2 resuming")
    resumed = re.search(r"resuming at step (\d+)", log2.read_text())
    assert resumed is not None and int(resumed.group(1)) >= 10
    # The notice (SIGTERM, ahead of the kill) made attempt 1 save the very step it reached.
    saved = re.search(r"preemption notice: checkpoint saved at step (\d+)",
                      attempt_log_path(job_id, 1).read_text())
    assert saved is not None and saved.group(1) == resumed.group(1)


async def test_a_managed_jobs_scratch_bucket_outlives_recoveries_and_goes_when_the_job_ends() -> None:
    from skytui.core.jobs.service import request_cancel

    core = make_core()
    task = load_task_text("""
name: scratchy
file_mounts:
  ~/scratch: {name: job-scratch, store: local, persistent: false}
  ~/keep: {name: job-keep, store: local}
resources: {cloud: local, use_spot: true}
run: echo "$SKYPILOT_TASK_ID" >> scratch/seen; touch keep/k; sleep 60
""", "scratchy.yaml")
    job_id = submit(core, task, name="scratchy")
    seen = local.bucket_dir("job-scratch") / "seen"
    async with watching(core):
        await wait_status(core, job_id, "RUNNING")
        await wait_until(seen.exists, 20, "attempt 1 wrote to the bucket")
        preempt_job(core, job_id)
        await wait_until(lambda: core.store.job(job_id).attempts == 2  # type: ignore[union-attr]
                         and core.store.job(job_id).status == "RUNNING", 60, "attempt 2 running")  # type: ignore[union-attr]
        await wait_until(lambda: len(seen.read_text().splitlines()) == 2, 20, "attempt 2 wrote to the bucket")
        rec = records.created(core.store, "local", "job-scratch")
        assert rec is not None and rec.job_id == job_id and not rec.persistent  # one owner: the job
        assert request_cancel(core, job_id).status == "CANCELLING"
        await wait_status(core, job_id, "CANCELLED")
    assert not local.bucket_dir("job-scratch").exists()
    assert (local.bucket_dir("job-keep") / "k").exists()
    assert records.created(core.store, "local", "job-scratch") is None


async def test_a_local_source_is_uploaded_into_a_named_bucket_and_a_missing_one_is_one_line(
        sandbox: Path) -> None:
    core = make_core()
    src = sandbox / "code"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "train.py").write_text("print('hi')\n")
    task = load_task_text(f"""
file_mounts:
  ~/code: {{name: code-bkt, store: local, source: {src}, mode: COPY}}
run: "true"
resources: {{cloud: local}}
""", "up.yaml")
    await clusters.launch(core, "up", task, clusters.LaunchOptions(detach_run=True))
    assert (await _sh(core, "up", "cat code/pkg/train.py")) == "print('hi')\n"
    assert (local.bucket_dir("code-bkt") / "pkg" / "train.py").exists()
    missing = load_task_text("file_mounts:\n  ~/c: {name: code-bkt, source: ./nowhere}\nrun: 'true'\n", "m.yaml")
    with pytest.raises(Exception, match=r"^m.yaml:2:8: file_mounts.~/c: source './nowhere' does not "
                                        r"exist on this machine"):
        await clusters.launch(core, "up", missing, clusters.LaunchOptions(detach_run=True))
    await clusters.down(core, "up")


async def test_a_list_of_sources_lands_in_one_bucket_each_by_its_name(sandbox: Path) -> None:
    """SkyPilot's `source: [file, dir]`: a directory under its own name, a file at the top."""
    core = make_core()
    data, note = sandbox / "datasets", sandbox / "mydir" / "myfile.txt"
    (data / "train").mkdir(parents=True)
    (data / "train" / "part-0").write_text("rows\n")
    note.parent.mkdir()
    note.write_text("hello\n")
    task = load_task_text(f"""
file_mounts:
  ~/multi: {{name: multi-bkt, store: local, source: [{note}, {data}], mode: COPY}}
run: "true"
resources: {{cloud: local}}
""", "multi.yaml")
    await clusters.launch(core, "multi", task, clusters.LaunchOptions(detach_run=True))
    assert (await _sh(core, "multi", "cat multi/myfile.txt multi/datasets/train/part-0")) == \
        "hello\nrows\n"
    assert sorted(p.name for p in local.bucket_dir("multi-bkt").iterdir()) == ["datasets", "myfile.txt"]
    missing = load_task_text(f"file_mounts:\n  ~/c: {{name: multi-bkt, source: [{note}, ./gone]}}\n"
                             "run: 'true'\n", "m.yaml")
    with pytest.raises(Exception, match=r"^m.yaml:2:8: file_mounts.~/c: source './gone' does not "
                                        r"exist on this machine"):
        await clusters.launch(core, "multi", missing, clusters.LaunchOptions(detach_run=True))
    await clusters.down(core, "multi")


async def test_a_bucket_of_another_cloud_is_copied_through_this_host(
        sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A COPY of s3:// onto nodes that are not on AWS (here the local cloud): this host runs
    the `aws` CLI (a stand-in keeping "buckets" as directories; the real one needs AWS), then
    each node gets the result over SSH at its mount path: a prefix as a tree, an object as a
    file. A failing CLI is one line naming the bucket and what to do."""
    fake_s3, bin_dir = sandbox / "fake-s3", sandbox / "bin"
    (fake_s3 / "pub" / "runs" / "r1").mkdir(parents=True)
    (fake_s3 / "pub" / "runs" / "r1" / "frame0.xtc").write_text("frames\n")
    (fake_s3 / "pub" / "runs" / "notes.txt").write_text("notes\n")
    bin_dir.mkdir()
    aws = bin_dir / "aws"
    aws.write_text('#!/bin/sh\nset -e\ncase "$1 $2" in\n'
                   '  "s3api head-object") [ -f "$FAKE_S3/$4/$6" ] ;;\n'
                   '  "s3 cp") src="${4#s3://}"; cp "$FAKE_S3/$src" "$5" ;;\n'
                   '  "s3 sync") src="${4#s3://}"; [ -d "$FAKE_S3/$src" ] || { echo "no such bucket" >&2; exit 1; }; '
                   'cp -R "$FAKE_S3/$src/." "$5/" ;;\n'
                   '  *) exit 2 ;;\nesac\n')
    aws.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_S3", str(fake_s3))
    core = make_core()
    task = load_task_text("""
file_mounts:
  ~/runs: s3://pub/runs
  ~/one/frame0.xtc: s3://pub/runs/r1/frame0.xtc
resources: {cloud: local}
num_nodes: 2
run: "true"
""", "relay.yaml")
    await clusters.launch(core, "relay", task, clusters.LaunchOptions(detach_run=True))
    for rank in (0, 1):
        out = await _sh(core, "relay", "cat runs/notes.txt runs/r1/frame0.xtc one/frame0.xtc; "
                        "ls -A .skytui/relay", node=rank)
        assert out == "notes\nframes\nframes\n", out  # the staging copies are gone
    assert not any((Path(os.environ["XDG_CACHE_HOME"]) / "skytui").glob("relay-*"))
    gone = load_task_text("file_mounts:\n  ~/x: s3://missing-bkt/p\nresources: {cloud: local}\n"
                          "run: 'true'\n", "gone.yaml")
    with pytest.raises(Exception, match=r"^cannot copy s3://missing-bkt/p through this host for "
                                        r"local nodes: no such bucket; install and sign in the aws CLI"):
        await clusters.launch(core, "relay", gone, clusters.LaunchOptions(detach_run=True))
    await clusters.down(core, "relay")


async def test_cloud_buckets_are_claimed_only_when_the_nodes_create_command_made_them(
        sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The s3 path through a real node and bash: the planner sends s3:// only to AWS, which has
    no adapter here, so a local node runs the create and delete steps with an `aws` stand-in
    that keeps "buckets" as directories (the real CLI cannot run without AWS)."""
    from skytui.core.storage import attach
    from skytui.task.spec import Task
    from skytui.task.storage import StorageMount

    fake_s3, bin_dir = sandbox / "fake-s3", sandbox / "bin"
    fake_s3.mkdir()
    bin_dir.mkdir()
    aws = bin_dir / "aws"
    aws.write_text('#!/bin/sh\ncase "$1 $2" in\n'
                   '  "s3api head-bucket") [ -d "$FAKE_S3/$4" ] ;;\n'
                   '  "s3 mb") mkdir "$FAKE_S3/${3#s3://}" ;;\n'
                   '  "s3 rb") rm -rf "$FAKE_S3/${4#s3://}" ;;\n'
                   '  *) exit 2 ;;\nesac\n')
    aws.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_S3", str(fake_s3))
    (fake_s3 / "theirs").mkdir()
    core = make_core()
    await clusters.launch(core, "s3c", Task(name="s3c"), clusters.LaunchOptions(detach_run=True))
    c, nodes = core.store.cluster("s3c"), core.store.nodes("s3c")
    for name in ("made-here", "theirs"):
        m = StorageMount(f"~/{name}", name, "s3", named=True, persistent=False)
        await attach._ensure_cloud_bucket(core, c, nodes[0], m, "s3")  # type: ignore[arg-type]
    assert (fake_s3 / "made-here").is_dir()
    assert records.created(core.store, "s3", "made-here") is not None
    assert records.created(core.store, "s3", "theirs") is None  # it was there: not ours
    await clusters.down(core, "s3c")
    assert not (fake_s3 / "made-here").exists()  # ours, persistent: false: deleted through the node
    assert (fake_s3 / "theirs").is_dir()  # never ours: never deleted
    assert records.created(core.store, "s3", "made-here") is None
