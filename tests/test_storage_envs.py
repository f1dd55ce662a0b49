"""The task's envs in file_mounts and workdir (SkyPilot fills `$NAME` and `${NAME}` at parse
time), and what a file leaves open: a dry run plans and names it, a real launch refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_watcher_support import skytui_cmd

from skytui.config_model import Config
from skytui.core.context import Core
from skytui.core.launcher import make_plan
from skytui.errors import TaskError
from skytui.task.envsub import fill
from skytui.task.loader import load_task_text
from skytui.task.storage import StorageMount


def _load(text: str, **env: str):  # type: ignore[no-untyped-def]
    return load_task_text(text, "t.yaml", env_overrides=env)


def test_fill_takes_both_forms_and_leaves_undeclared_names() -> None:
    values = {"A": "x", "B_2": "y", "NONE": None}
    assert fill("$A/${B_2}/$A-2/${A}b/$Ab", values) == ("x/y/x-2/xb/$Ab", ())
    assert fill("$OTHER ${OTHER} $$A", values) == ("$OTHER ${OTHER} $x", ())
    assert fill("$NONE-${NONE}", values) == ("$NONE-${NONE}", ("NONE",))
    assert fill("no references", {}) == ("no references", ())


def test_envs_fill_name_store_source_and_paths() -> None:
    task = _load("""
envs:
  BUCKET: my-out
  STORE: s3
  ROOT: /data
  SRC: ./up
  URL: gs://weights-1/v2
  LOCAL: tmp-dir
  SIZE: 13b
workdir: ./${LOCAL}/code
file_mounts:
  /a: {name: $BUCKET, store: $STORE}
  ${ROOT}/b:
    name: ${BUCKET}-2
    source: $SRC
  /c: {source: "${URL}"}
  /d: $URL/sub
  /checkpoint/${SIZE}: ~/${LOCAL}
  /e: {name: "$BUCKET-3", source: ["~/${LOCAL}"]}
run: echo $BUCKET
""")
    m = task.storage_mounts
    assert (m["/a"].bucket, m["/a"].store, m["/a"].named) == ("my-out", "s3", True)
    assert (m["/data/b"].bucket, m["/data/b"].upload) == ("my-out-2", "./up")
    assert (m["/c"].bucket, m["/c"].store, m["/c"].sub_path) == ("weights-1", "gcs", "v2")
    assert (m["/d"].bucket, m["/d"].sub_path, m["/d"].mode) == ("weights-1", "v2/sub", "COPY")
    assert (m["/e"].bucket, m["/e"].upload) == ("my-out-3", "~/tmp-dir")  # a list of one source
    assert task.file_mounts == {"/checkpoint/13b": "~/tmp-dir"}
    assert task.workdir == "./tmp-dir/code"
    assert task.run == "echo $BUCKET"  # the shell expands run: on the node, not skytui
    assert not any(x.pending for x in m.values()) and task.before_launch() == []


def test_env_override_wins_and_fills_a_git_workdir() -> None:
    text = ("envs: {BUCKET: default-b, REF: main}\nworkdir: {url: https://e.com/r.git, ref: $REF}\n"
            "file_mounts:\n  /a: {name: $BUCKET}\nrun: 'true'\n")
    task = _load(text, BUCKET="from-cli", REF="v1.2")
    assert task.storage_mounts["/a"].bucket == "from-cli"
    assert task.workdir_git is not None and task.workdir_git.ref == "v1.2"
    new = _load("file_mounts:\n  /a: {name: $NEW_B}\nrun: 'true'\n", NEW_B="new-bucket")
    assert new.storage_mounts["/a"].bucket == "new-bucket"  # --env adds an env, as SkyPilot


def test_secrets_are_never_filled_into_bucket_names_or_paths() -> None:
    """A bucket name or path shows in plans, Events and the store: a secret must not."""
    with pytest.raises(TaskError) as err:
        _load("secrets: {B: sec-bucket}\nfile_mounts:\n  /a: {name: $B-2}\nrun: 'true'\n")
    assert str(err.value) == (
        "t.yaml:3:14: file_mounts./a.name: $B is a secret, and skytui fills only envs into "
        "file_mounts (bucket names and paths show in plans and the state); declare B under envs "
        "instead (then --env can give it)")
    with pytest.raises(TaskError, match=r"\$B is a secret"):
        _load("secrets: {B: null}\nfile_mounts:\n  /a: {name: $B-2}\nrun: 'true'\n", B="given")
    for entry, where in (("/b: {name: ok-bkt, source: [~/x, '~/${B}']}", "3:36: file_mounts./b.source"),
                         ("/c/$B: ~/x", "3:3: file_mounts"), ("/d: ~/${B}", "3:7: file_mounts./d")):
        with pytest.raises(TaskError) as err:
            _load(f"secrets: {{B: s}}\nfile_mounts:\n  {entry}\nrun: 'true'\n")
        assert str(err.value).startswith(f"t.yaml:{where}: $B is a secret"), str(err.value)


def test_an_undeclared_name_is_left_as_written_and_refused_at_its_place() -> None:
    with pytest.raises(TaskError) as err:
        _load("envs: {A: x}\nfile_mounts:\n  /a:\n    name: ${NOT_DECLARED}\nrun: 'true'\n")
    assert str(err.value).startswith("t.yaml:4:11: file_mounts./a.name: invalid bucket name "
                                     "'${NOT_DECLARED}'")


def test_two_paths_that_become_one_are_refused() -> None:
    with pytest.raises(TaskError, match=r"t.yaml:4:3: file_mounts: two entries are both '/data'"):
        _load("envs: {ROOT: /data}\nfile_mounts:\n  /data: ./x\n  $ROOT: ./y\nrun: 'true'\n")


def test_an_env_without_a_value_leaves_name_and_store_open() -> None:
    task = _load("envs: {B: null, S: null}\nfile_mounts:\n  /a: {name: $B, store: $S}\nrun: 'true'\n")
    m = task.storage_mounts["/a"]
    assert (m.bucket, m.store, m.pending) == ("$B", None, "--env B=..., --env S=...")
    assert task.before_launch() == ["--env B=...", "--env S=..."]
    assert task.unfilled_fields() == []  # missing_envs refuses these at launch
    filled = _load("envs: {B: null, S: null}\nfile_mounts:\n  /a: {name: $B, store: $S}\nrun: 'true'\n",
                   B="bkt-1", S="gcs")
    assert filled.storage_mounts["/a"] == StorageMount("/a", "bkt-1", "gcs", named=True)


def test_an_empty_name_is_a_placeholder_a_missing_one_is_refused() -> None:
    task = _load("file_mounts:\n  /ckpt:\n    name:  # fill in\n    source: ./code\nrun: 'true'\n")
    m = task.storage_mounts["/ckpt"]
    assert (m.bucket, m.named, m.upload, m.pending) == ("", True, "./code", "file_mounts./ckpt.name")
    assert task.unfilled_fields() == ["file_mounts./ckpt.name"]
    with pytest.raises(TaskError, match="needs a name"):
        _load("file_mounts:\n  /ckpt: {mode: MOUNT}\nrun: 'true'\n")


def test_open_mounts_still_plan_on_the_clouds_their_store_allows() -> None:
    core = Core(Config())
    task = _load("envs: {B: null}\nfile_mounts:\n  /a: {name: $B, store: gcs}\n  ~/b: {name: null}\nrun: 'true'\n")
    p = make_plan(core, task)
    assert {c.cloud for c in p.candidates + p.candidates_elsewhere} == {"gcp"}
    local = _load("envs: {B: null}\nfile_mounts:\n  ~/a: {name: $B, store: local}\nrun: 'true'\n")
    assert {c.cloud for c in make_plan(core, local).candidates} == {"local"}


def test_dry_run_names_what_a_launch_needs_and_a_launch_refuses(sandbox: Path) -> None:
    path = sandbox / "t.yaml"
    path.write_text("envs:\n  OUT:\nresources: {cloud: local}\nfile_mounts:\n  ~/out: {name: $OUT}\n"
                    "  ~/ckpt:\n    name:\nrun: 'true'\n")
    dry = skytui_cmd("launch", "--dry-run", str(path))
    assert dry.returncode == 0, dry.stderr
    assert "before a real launch, give: --env OUT=...\n" in dry.stdout
    assert f"before a real launch, give: file_mounts.~/ckpt.name (fill it in, in {path})" in dry.stdout
    assert "~/ckpt <- a bucket named by file_mounts.~/ckpt.name: mounted" in dry.stdout
    real = skytui_cmd("launch", "-c", "envs-1", str(path))
    assert real.returncode == 2 and real.stderr.strip().count("\n") == 0, real.stderr
    assert "envs OUT have no value; give them with --env NAME=VALUE" in real.stderr
    real = skytui_cmd("launch", "-c", "envs-1", "--env", "OUT=out-bkt", str(path))
    assert real.returncode == 2 and real.stderr.strip().count("\n") == 0, real.stderr
    assert "file_mounts.~/ckpt.name is left empty" in real.stderr
    assert Core(Config()).store.clusters(include_terminated=True) == []  # nothing was created


def test_a_managed_job_with_an_empty_bucket_name_is_refused_at_submit() -> None:
    """Refused before anything is queued, as a real launch is (not after the job's nodes are up)."""
    from test_watcher_support import make_core

    from skytui.core.jobs.service import submit
    from skytui.errors import SkytuiError

    task = _load("file_mounts:\n  /ckpt: {name: , mode: MOUNT}\nresources: {cloud: local}\nrun: 'true'\n")
    core = make_core()
    with pytest.raises(SkytuiError) as err:
        submit(core, task)
    assert "file_mounts./ckpt.name is left empty" in str(err.value)
    assert core.store.jobs() == []
