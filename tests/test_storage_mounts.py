"""Storage mounts without nodes: the loader's forms and refusals, the local store's path checks,
the planner's cloud filter, and the remote commands run through a real bash."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from skytui.config_model import Config
from skytui.core.context import Core
from skytui.core.jobs.taskjson import task_from_json, task_to_json
from skytui.core.launcher import make_plan
from skytui.core.storage import commands, local
from skytui.errors import NoOffering, TaskError
from skytui.task.loader import load_task_text
from skytui.task.storage import StorageMount


def _load(text: str):  # type: ignore[no-untyped-def]
    return load_task_text(text, "t.yaml")


def test_every_form_loads_with_skypilots_defaults() -> None:
    task = _load("""
file_mounts:
  /data: s3://my-bucket/some/path
  /models: gs://weights-1
  ~/ckpt:
    name: my-ckpt
    store: LOCAL
    mode: copy
    persistent: false
  ~/x:
    source: local://team/a/b/
  ~/up:
    name: up-bucket
    source: ./somewhere
  ~/sub: {name: sub-bucket, _bucket_sub_path: run-1, config: {mount_cached: {transfers: 4}}}
  ~/plain: ./local/dir
run: echo
""")
    m = task.storage_mounts
    assert task.file_mounts == {"~/plain": "./local/dir"}
    assert m["/data"] == StorageMount("/data", "my-bucket", "s3", "some/path", "COPY")  # URL string: copied
    assert (m["/models"].store, m["/models"].bucket, m["/models"].sub_path) == ("gcs", "weights-1", "")
    assert m["~/ckpt"] == StorageMount("~/ckpt", "my-ckpt", "local", "", "COPY", persistent=False, named=True)
    assert m["~/x"] == StorageMount("~/x", "team", "local", "a/b", "MOUNT")  # MOUNT is the default
    assert m["~/up"].named and m["~/up"].upload == "./somewhere" and m["~/up"].store is None
    assert m["~/sub"].sub_path == "run-1" and m["~/sub"].persistent
    assert (m["~/ckpt"].line, m["~/ckpt"].col) == (6, 5)


def test_a_list_of_local_sources_loads_and_survives_the_stored_form() -> None:
    task = _load("file_mounts:\n  /multi:\n    name: multi-src\n"
                 "    source: [~/mydir/myfile.txt, ~/datasets]\nrun: 'true'\n")
    m = task.storage_mounts["/multi"]
    assert m.named and m.upload is None and m.uploads == ("~/mydir/myfile.txt", "~/datasets")
    assert task_from_json(task_to_json(task)).storage_mounts == task.storage_mounts
    one = _load("file_mounts:\n  /one: {name: one-src, source: [./dir]}\nrun: 'true'\n")
    assert one.storage_mounts["/one"].upload == "./dir" and not one.storage_mounts["/one"].uploads


def test_a_placeholder_from_an_env_names_the_env_to_pass() -> None:
    text = ("envs:\n  MODEL_CKPT: <bucket-path-to-your-model-ckpt>\n"
            "file_mounts:\n  /ckpt:\n    source: $MODEL_CKPT\n    mode: COPY\nrun: 'true'\n")
    with pytest.raises(TaskError) as err:
        _load(text)
    assert str(err.value) == (
        "t.yaml:5:13: file_mounts./ckpt.source: '<bucket-path-to-your-model-ckpt>' (from "
        "$MODEL_CKPT) is a placeholder, not a bucket or a path; pass the real one with "
        "--env MODEL_CKPT=s3://BUCKET/path (or a local path)")
    given = load_task_text(text, "t.yaml", env_overrides={"MODEL_CKPT": "gs://ckpt-1/v"})
    assert given.storage_mounts["/ckpt"].url() == "gs://ckpt-1/v"


def test_mounts_survive_the_stored_form_of_a_managed_job() -> None:
    task = _load("file_mounts:\n  ~/c: {name: abc, store: local, mode: MOUNT_CACHED, persistent: false}\n"
                 "  /d: s3://b12/x\nrun: 'true'\n")
    assert task_from_json(task_to_json(task)).storage_mounts == task.storage_mounts


@pytest.mark.parametrize(("entry", "where", "problem"), [
    ("~/d: r2://bucket/x", "2:8: file_mounts.~/d", "r2:// is another cloud's object store (skytui runs on "
     "AWS, GCP and local); copy the data to an s3 or gcs bucket, or run this task with SkyPilot"),
    ("~/d: {source: nebius://ckpt}", "2:17: file_mounts.~/d.source", "nebius:// is another cloud's object store"),
    ("~/d: https://acct.blob.core.windows.net/c", "2:8: file_mounts.~/d", "Azure Blob Storage is another cloud's"),
    ("~/d: https://example.com/c", "2:8: file_mounts.~/d", "unknown bucket scheme 'https://'"),
    ("~/d: local://bkt/../x", "2:8: file_mounts.~/d", "the path '../x' inside a local bucket"),
    ("~/d: local://bkt/a/./b", "2:8: file_mounts.~/d", "has an empty, '.' or '..' part"),
    ("~/d: {source: local://bkt//etc/passwd}", "2:17: file_mounts.~/d.source", "inside a local bucket"),
    ("~/d: {source: 'local://bkt/a\\\\..\\\\b'}", "2:17: file_mounts.~/d.source", "backslash"),
    ("~/d: {name: bkt, _bucket_sub_path: ../up}", "2:38: file_mounts.~/d._bucket_sub_path", "'..' part"),
    ("~/d: {name: bkt, mode: SYNC}", "2:26: file_mounts.~/d.mode", "unknown mode 'SYNC'; use MOUNT, COPY or MOUNT_CACHED"),
    ("~/d: {name: bkt, store: azure}", "2:27: file_mounts.~/d.store", "store 'azure' is another cloud's object store"),
    ("~/d: {name: bkt, store: nebius}", "2:27: file_mounts.~/d.store", "store 'nebius' is another cloud's object "
     "store (skytui runs on AWS, GCP and local); copy the data to an s3 or gcs bucket, or run this task with SkyPilot"),
    ("~/d: {name: bkt, store: dropbox}", "2:27: file_mounts.~/d.store", "unknown store 'dropbox'"),
    ("~/d: {mode: MOUNT}", "2:8: file_mounts.~/d", "needs a name"),
    ("~/d: {name: Bad_Name!}", "2:15: file_mounts.~/d.name", "invalid bucket name 'Bad_Name!'"),
    ("~/d: {name: bkt, persistant: false}", "2:20: file_mounts.~/d", "unknown field 'persistant'; did you mean 'persistent'?"),
    ("~/d: {name: bkt, persistent: maybe}", "2:32: file_mounts.~/d.persistent", "expected true or false"),
    ("~/d: {name: bkt, _force_delete: true}", "2:20: file_mounts.~/d", "'_force_delete' is SkyPilot's internal field"),
    ("~/d: {name: other, source: s3://bkt/x}", "2:15: file_mounts.~/d.name", "differs from the bucket of source"),
    ("~/d: {store: gcs, source: s3://bkt/x}", "2:16: file_mounts.~/d.store", "does not match the source URL"),
    ("~/d: {source: [a, b]}", "2:17: file_mounts.~/d.source", "which needs a name"),
    ("~/d: {name: bkt, source: [a, 's3://x1y/z']}", "2:32: file_mounts.~/d.source",
     "a list of sources takes local paths only"),
    ("~/d: {name: bkt, source: [x/data, y/data/]}", "2:37: file_mounts.~/d.source",
     "would both land at 'data' in the bucket"),
    ("~/d: {name: bkt, source: [a, ..]}", "2:32: file_mounts.~/d.source", "has no name to place it under"),
    ("~/d: {source: '<path-to-your-ckpt>', mode: COPY}", "2:17: file_mounts.~/d.source",
     "'<path-to-your-ckpt>' is a placeholder, not a bucket or a path; put a bucket URL"),
    ("~alice/d: {name: bkt}", "2:13: file_mounts.~alice/d", "only '~/' (the node user's HOME)"),
    ("~/: {name: bkt}", "2:7: file_mounts.~/", "cannot mount over '~/'"),
])
def test_bad_mounts_fail_on_one_line_at_their_place(entry: str, where: str, problem: str) -> None:
    with pytest.raises(TaskError) as err:
        _load(f"file_mounts:\n  {entry}\nrun: 'true'\n")
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"t.yaml:{where}: ") and problem in text, text


def test_local_paths_cannot_leave_their_bucket(sandbox: Path) -> None:
    inside = local.resolve("okay-bucket", "a/b", create=True)
    assert inside.is_dir() and inside.parent.parent == local.bucket_dir("okay-bucket").resolve()
    (inside / "loop").symlink_to(inside)  # a symlink that stays inside is fine
    assert local.resolve("okay-bucket", "a/b/loop/c", create=True).is_dir()
    (inside / "out").symlink_to(sandbox)
    with pytest.raises(local.BucketPathError, match="leads outside its bucket"):
        local.resolve("okay-bucket", "a/b/out/x", create=True)
    assert not (sandbox / "x").exists()
    (inside / "dangling").symlink_to(sandbox / "nowhere")
    with pytest.raises(local.BucketPathError, match="dangling symlink"):
        local.resolve("okay-bucket", "a/b/dangling/x", create=True)
    (local.buckets_root() / "linked-bucket").symlink_to(sandbox)  # a bucket that is a symlink
    with pytest.raises(local.BucketPathError, match="not a plain directory"):
        local.resolve("linked-bucket")
    assert local.delete("linked-bucket") is False and sandbox.is_dir()
    with pytest.raises(ValueError):
        local.resolve("okay-bucket", "../x")


def test_a_bucket_whose_cloud_has_nothing_that_fits_says_so() -> None:
    """SkyPilot's airflow example on GCP: one vCPU (AWS t2.small and the local cloud have that,
    GCP does not) and a GCS bucket."""
    task = _load("resources:\n  cpus: 1\nfile_mounts:\n  /data: {name: demo-bkt, store: gcs}\n"
                 "run: 'true'\n")
    with pytest.raises(TaskError) as err:
        make_plan(Core(Config(clouds=("aws", "gcp", "local"))), task)
    assert str(err.value) == (
        "t.yaml:4:10: file_mounts./data: gs://demo-bkt needs GCP nodes, but no GCP offering has "
        "what the task asks (only AWS and local-cloud ones do); ask for resources that cloud offers "
        "(e.g. cpus: 2+; see `skytui show-gpus`), or use a bucket of the cloud that has them")


def test_the_planner_keeps_only_clouds_that_can_mount_every_bucket() -> None:
    core = Core(Config())
    task = _load("file_mounts:\n  ~/c: local://bkt/x\nrun: 'true'\n")
    assert {c.cloud for c in make_plan(core, task).candidates} == {"local"}
    s3 = _load("file_mounts:\n  /data: {source: s3://bkt/x, mode: MOUNT}\nrun: 'true'\n")
    p = make_plan(core, s3)  # AWS could, but it is not enabled here
    assert not p.candidates and {c.cloud for c in p.candidates_elsewhere} == {"aws"}
    with pytest.raises(NoOffering, match="only aws offers this"):
        p.require()
    both = _load("file_mounts:\n  /a: {source: s3://bkt/x, mode: MOUNT}\n"
                 "  /b: {source: gs://bkt/y, mode: MOUNT}\nrun: 'true'\n")
    with pytest.raises(TaskError, match=r"t.yaml:3:7: file_mounts./b: gs://bkt/y needs GCP nodes but /a "
                                        r"needs AWS nodes: no node can mount both"):
        make_plan(core, both)
    # A COPY of an existing bucket goes anywhere (through this host on another cloud's nodes),
    # so buckets of two clouds copied into one task plan on both clouds.
    copies = _load("file_mounts:\n  /a: s3://bkt/x\n  /b: gs://bkt/y\nrun: 'true'\n")
    assert {c.cloud for c in make_plan(core, copies).candidates_elsewhere} == {"aws", "gcp"}
    home = _load("file_mounts:\n  ~/a: s3://bkt/x\nrun: 'true'\n")
    assert {c.cloud for c in make_plan(core, home).candidates} == {"local"}
    mixed = _load("file_mounts:\n  /a: s3://bkt/x\n  /b: {source: gs://bkt/y, mode: MOUNT}\n"
                  "run: 'true'\n")
    assert {c.cloud for c in make_plan(core, mixed).candidates_elsewhere} == {"gcp"}
    named = _load("file_mounts:\n  ~/c: {name: any-store}\nrun: 'true'\n")  # the node's cloud decides
    assert "local" in {c.cloud for c in make_plan(core, named).candidates}
    upload = _load("file_mounts:\n  ~/c: {name: abc, store: local, source: ./not-here}\nrun: 'true'\n")
    assert make_plan(core, upload).candidates  # a missing source fails the launch, not the plan
    s3_upload = _load("file_mounts:\n  /c: {name: abc, store: s3, source: .}\nrun: 'true'\n")
    assert {c.cloud for c in make_plan(core, s3_upload).candidates_elsewhere} == {"aws"}


# -- the commands, through a real bash with the clouds' tools replaced by argv recorders ---------
HOSTILE = "~/it's a \"dir\" $(touch pwned) `x`"


def _fake_tools(tmp: Path, *names: str) -> dict[str, str]:
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in names:
        tool = bin_dir / name
        # Records its argv; the object probes (head-object, objects describe) answer $OBJECT.
        tool.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >> "$ARGV_LOG"\n'
                        'printf -- "--\\n" >> "$ARGV_LOG"\n'
                        'case "$2" in head-object|objects) exit "${OBJECT:-1}";; esac\n')
        tool.chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp / "home"), "ARGV_LOG": str(tmp / "argv")}


def _bash(command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    Path(env["HOME"]).mkdir(exist_ok=True)
    return subprocess.run(["bash", "-c", command], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=30, check=False)


def test_cloud_commands_pass_every_value_as_one_argument(tmp_path: Path) -> None:
    env = _fake_tools(tmp_path, "aws", "mount-s3", "gcloud", "gcsfuse")
    home = Path(env["HOME"])
    target = str(home / "it's a \"dir\" $(touch pwned) `x`")
    cases = [
        (StorageMount(HOSTILE, "bkt-1", "s3", "a b/c'd", "COPY"), "s3",
         ["s3", "sync", "--only-show-errors", "s3://bkt-1/a b/c'd", target]),
        (StorageMount(HOSTILE, "bkt-1", "s3", "", "COPY"), "s3",
         ["s3", "sync", "--only-show-errors", "s3://bkt-1", target]),
        (StorageMount(HOSTILE, "bkt-1", "s3", "p q", "MOUNT"), "s3",
         ["--allow-delete", "--allow-overwrite", "--prefix", "p q/", "bkt-1", target]),
        (StorageMount(HOSTILE, "bkt-1", "gcs", "", "MOUNT_CACHED"), "gcs",
         ["--implicit-dirs", "--cache-dir", str(home / ".cache/skytui-mounts/bkt-1"),
          "--file-cache-max-size-mb", "-1", "bkt-1", target]),
        (StorageMount(HOSTILE, "bkt-1", "gcs", "x y", "COPY"), "gcs",
         ["storage", "rsync", "--recursive", "gs://bkt-1/x y", target]),
    ]
    for m, store, argv in cases:
        log = Path(env["ARGV_LOG"])
        log.unlink(missing_ok=True)
        done = _bash(commands.cloud_command(m, store), env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert log.read_text().split("\n--\n")[-2].splitlines() == argv  # the last call
        assert Path(target).is_dir()
    # A URL naming one object is copied as that file (SkyPilot's string form allows it).
    for m, argv in [(StorageMount(HOSTILE + "-f", "bkt-1", "s3", "d/one file", "COPY"),
                     ["s3", "cp", "--only-show-errors", "s3://bkt-1/d/one file", target + "-f"]),
                    (StorageMount(HOSTILE + "-f", "bkt-1", "gcs", "one", "COPY"),
                     ["storage", "cp", "gs://bkt-1/one", target + "-f"])]:
        log.unlink()
        done = _bash(commands.cloud_command(m, m.store or ""), {**env, "OBJECT": "0"}, tmp_path)
        assert done.returncode == 0, done.stderr
        assert log.read_text().split("\n--\n")[-2].splitlines() == argv
    assert not (tmp_path / "pwned").exists() and not (home / "pwned").exists()


def test_upload_sends_the_staged_source_into_the_bucket(tmp_path: Path) -> None:
    env = _fake_tools(tmp_path, "aws", "gcloud")
    home = Path(env["HOME"])
    for store, argv in [("s3", ["s3", "sync", "--only-show-errors", f"{home}/.skytui/uploads/b-1",
                                "s3://b-1/x y"]),
                        ("gcs", ["storage", "rsync", "--recursive", f"{home}/.skytui/uploads/b-1",
                                 "gs://b-1/x y"])]:
        Path(env["ARGV_LOG"]).unlink(missing_ok=True)
        done = _bash(commands.upload_command(store, "b-1", "x y"), env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert Path(env["ARGV_LOG"]).read_text().split("\n--\n")[0].splitlines() == argv


def test_a_missing_tool_is_one_clear_line(tmp_path: Path) -> None:
    env = _fake_tools(tmp_path)  # none installed
    done = _bash(commands.cloud_command(StorageMount("~/d", "bkt", "s3", mode="MOUNT"), "s3"), env, tmp_path)
    assert done.returncode == 3
    assert done.stderr.strip() == ("skytui: mount-s3 is not installed on this node; MOUNT of s3://bkt "
                                   "needs it (see README: Storage mounts)")


def test_create_reports_only_a_bucket_it_made(tmp_path: Path) -> None:
    env = _fake_tools(tmp_path, "aws")
    done = _bash(commands.create_command("s3", "new-bkt"), env, tmp_path)  # head-bucket "finds" it
    assert done.returncode == 0 and commands.CREATED_MARK not in done.stdout
    failing = tmp_path / "bin" / "aws"
    failing.write_text('#!/bin/sh\n[ "$2" = head-bucket ] && exit 1\nexit 0\n')
    done = _bash(commands.create_command("s3", "new-bkt"), env, tmp_path)
    assert done.returncode == 0 and done.stdout.split() == [commands.CREATED_MARK]


def test_local_mount_never_replaces_what_is_on_the_node(tmp_path: Path) -> None:
    env = _fake_tools(tmp_path)
    home = Path(env["HOME"])
    home.mkdir(exist_ok=True)
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    (home / "busy").mkdir()
    (home / "busy" / "work").write_text("mine")
    done = _bash(commands.local_command(StorageMount("~/busy", "bkt", "local"), bucket), env, tmp_path)
    assert done.returncode == 3 and "is not empty on the node" in done.stderr
    assert (home / "busy" / "work").read_text() == "mine"
    (home / "file").write_text("f")
    done = _bash(commands.local_command(StorageMount("~/file", "bkt", "local"), bucket), env, tmp_path)
    assert done.returncode == 3 and (home / "file").read_text() == "f"
    for _ in range(2):  # a relaunch replaces its own earlier link
        done = _bash(commands.local_command(StorageMount("~/deep/ckpt", "bkt", "local"), bucket), env, tmp_path)
        assert done.returncode == 0, done.stderr
    assert os.readlink(home / "deep" / "ckpt") == str(bucket)


def test_mount_paths_land_where_skypilot_puts_them() -> None:
    assert commands.node_path("~/ckpt/") == '"$HOME"/ckpt'
    assert commands.node_path("/data") == "/data"
    assert commands.node_path("rel dir") == '"$HOME"/sky_workdir/\'rel dir\''  # under the workdir
    assert commands.node_path("./x") == '"$HOME"/sky_workdir/x'
