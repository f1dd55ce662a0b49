"""The task loader: every field form, every error class, overrides, alternatives, examples."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from skytui.errors import TaskError
from skytui.task import load_task, load_task_text
from skytui.task.spec import Accelerator, Autostop, JobRecovery, Resources
from skytui.task.yamlnodes import compose

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(text: str, **kw):  # type: ignore[no-untyped-def]
    return load_task_text(text, "t.yaml", **kw)


def res(text: str, **kw) -> Resources:
    task = load("resources:\n" + "".join(f"  {line}\n" for line in text.splitlines()), **kw)
    assert len(task.resources) == 1
    return task.resources[0]


def error(text: str, **kw) -> str:
    with pytest.raises(TaskError) as info:
        load(text, **kw)
    return str(info.value)


# ---- top-level fields -------------------------------------------------------------------

def test_full_task_reads_every_top_level_field() -> None:
    task = load(
        "name: train\n"
        "workdir: ~/src/project\n"
        "num_nodes: 3\n"
        "envs:\n  MODEL: llama\n  LR: 0.001\n  DEBUG: true\n  EMPTY: ''\n"
        "secrets:\n  HF_TOKEN: null\n"
        "file_mounts:\n  /data: ~/datasets/x\n  ~/ckpt: s3://bucket/ckpt\n"
        "setup: pip install -r requirements.txt\n"
        "run: |\n  python train.py\n  echo done\n"
    )
    assert task.name == "train"
    assert task.workdir == "~/src/project"
    assert task.num_nodes == 3
    assert task.envs == {"MODEL": "llama", "LR": "0.001", "DEBUG": "true", "EMPTY": ""}
    assert task.secrets == {"HF_TOKEN": None}
    assert task.file_mounts == {"/data": "~/datasets/x"}
    assert task.storage_mounts["~/ckpt"].url() == "s3://bucket/ckpt"  # a bucket: tests/test_storage_*
    assert task.setup == "pip install -r requirements.txt"
    assert task.run == "python train.py\necho done\n"
    assert task.resources == (Resources(),)
    assert task.resources_ordered is False
    assert task.source == "t.yaml"


def test_env_values_keep_the_text_as_written() -> None:
    # YAML would turn 3.10 into 3.1 and `on` into True; an env var wants the text.
    task = load("envs:\n  PY: 3.10\n  FLAG: on\n  HEX: 0x1F\n  N: 007\n  Q: 'quoted: yes'\n")
    assert task.envs == {"PY": "3.10", "FLAG": "on", "HEX": "0x1F", "N": "007",
                         "Q": "quoted: yes"}


def test_null_env_is_missing_until_overridden() -> None:
    task = load("envs:\n  A: x\n  B: null\nsecrets:\n  TOKEN:\n")
    assert task.missing_envs() == ["B", "TOKEN"]
    task = load("envs:\n  A: x\n  B: null\nsecrets:\n  TOKEN:\n",
                env_overrides={"B": "b", "TOKEN": "s3cret", "A": "changed", "NEW": "1"})
    assert task.missing_envs() == []
    assert task.envs == {"A": "changed", "B": "b", "NEW": "1"}
    assert task.secrets == {"TOKEN": "s3cret"}
    assert task.to_dict()["secrets"] == {"TOKEN": None}


def test_env_override_with_bad_name_is_a_task_error() -> None:
    msg = error("run: echo\n", env_overrides={"1BAD": "x"})
    assert "invalid variable name '1BAD' in --env" in msg


def test_empty_sections_are_allowed() -> None:
    task = load("envs:\nsecrets:\nfile_mounts:\nresources:\nsetup:\nrun: echo hi\n")
    assert task.envs == {} and task.secrets == {} and task.file_mounts == {}
    assert task.setup is None and task.resources == (Resources(),)


# ---- resources: each field form ----------------------------------------------------------

@pytest.mark.parametrize("form, expected", [
    ("accelerators: A100:8", (Accelerator("A100", 8),)),
    ("accelerators: A100", (Accelerator("A100", 1),)),
    ("accelerators: a100-80gb:2", (Accelerator("A100-80GB", 2),)),
    ("accelerators: {A100: 8}", (Accelerator("A100", 8),)),
    ("accelerators: {l4: 1, t4: 2}", (Accelerator("L4", 1), Accelerator("T4", 2))),
    ("accelerators: {A100, H100}", (Accelerator("A100", 1), Accelerator("H100", 1))),
    ("accelerators: [A100:8, H100:8]", (Accelerator("A100", 8), Accelerator("H100", 8))),
    ("accelerators: [A100:8, {H100: 4}]", (Accelerator("A100", 8), Accelerator("H100", 4))),
    ("accelerators: [A100:8, a100:8]", (Accelerator("A100", 8),)),
    ("accelerators: null", ()),
])
def test_accelerator_forms(form: str, expected: tuple[Accelerator, ...]) -> None:
    assert res(form).accelerators == expected


def test_extra_accelerators_are_accepted() -> None:
    r = res("accelerators: tpu-v5e:4", extra_accelerators=("tpu-v5e",))
    assert r.accelerators == (Accelerator("tpu-v5e", 4),)


@pytest.mark.parametrize("form, value, at_least", [
    ("8", 8.0, False), ("8.5", 8.5, False), ("'8+'", 8.0, True), ("8+", 8.0, True),
    ("'16'", 16.0, False), ("0.5+", 0.5, True),
])
def test_cpus_and_memory_forms(form: str, value: float, at_least: bool) -> None:
    r = res(f"cpus: {form}\nmemory: {form}")
    assert (r.cpus, r.cpus_at_least) == (value, at_least)
    assert (r.memory, r.memory_at_least) == (value, at_least)


@pytest.mark.parametrize("form, expected", [
    ("8080", ("8080",)),
    ("'8080'", ("8080",)),
    ("10000-10010", ("10000-10010",)),
    ("[22, '8080', 9000-9001, 8080]", ("22", "8080", "9000-9001")),
])
def test_port_forms(form: str, expected: tuple[str, ...]) -> None:
    assert res(f"ports: {form}").ports == expected


def test_scalar_resource_fields() -> None:
    r = res("instance_type: p4d.24xlarge\nuse_spot: yes\ndisk_size: 500\n"
            "image_id: ami-0123\nlabels: {team: ml, cost-center: 42}")
    assert r.instance_type == "p4d.24xlarge"
    assert r.use_spot is True
    assert r.disk_size == 500
    assert r.image_id == "ami-0123"
    assert r.labels == {"team": "ml", "cost-center": "42"}


@pytest.mark.parametrize("form, expected", [
    ("FAILOVER", JobRecovery("FAILOVER")),
    ("eager_next_region", JobRecovery("EAGER_NEXT_REGION")),
    ("eager-next-region", JobRecovery("EAGER_NEXT_REGION")),
    ("{strategy: failover, max_restarts_on_errors: 3, recover_on_exit_codes: [33, 34]}",
     JobRecovery("FAILOVER", 3, (33, 34))),
    ("{max_restarts_on_errors: 1, recover_on_exit_codes: 7}", JobRecovery(None, 1, (7,))),
    ("null", None),
])
def test_job_recovery_forms(form: str, expected: JobRecovery | None) -> None:
    assert res(f"job_recovery: {form}").job_recovery == expected


def test_spot_recovery_is_the_old_name_of_job_recovery() -> None:
    assert res("spot_recovery: failover").job_recovery == JobRecovery("FAILOVER")


@pytest.mark.parametrize("form, expected", [
    ("10", Autostop(10)),
    ("true", Autostop(5)),
    ("false", None),
    ("30m", Autostop(30)),
    ("2h", Autostop(120)),
    ("{idle_minutes: 10, down: true}", Autostop(10, True)),
    ("{down: true}", Autostop(5, True)),
])
def test_autostop_forms(form: str, expected: Autostop | None) -> None:
    assert res(f"autostop: {form}").autostop == expected


# ---- location: cloud, region, zone, infra -----------------------------------------------

@pytest.mark.parametrize("form, expected", [
    ("cloud: AWS", ("aws", None, None)),
    ("cloud: gcp\nregion: us-central1\nzone: us-central1-a",
     ("gcp", "us-central1", "us-central1-a")),
    ("infra: aws", ("aws", None, None)),
    ("infra: GCP/us-central1", ("gcp", "us-central1", None)),
    ("infra: aws/us-east-1/us-east-1a", ("aws", "us-east-1", "us-east-1a")),
    ("infra: '*/us-east-1'", (None, "us-east-1", None)),
    ("infra: aws/*/us-east-1b", ("aws", None, "us-east-1b")),
    ("infra: local", ("local", None, None)),
    ("infra: aws/us-east-1\ncloud: aws", ("aws", "us-east-1", None)),
    ("infra: aws\nregion: us-west-2", ("aws", "us-west-2", None)),
])
def test_location_forms(form: str, expected: tuple) -> None:
    r = res(form)
    assert (r.cloud, r.region, r.zone) == expected


def test_infra_conflicting_with_cloud_is_an_error() -> None:
    msg = error("resources:\n  cloud: gcp\n  infra: aws/us-east-1\n")
    assert msg.startswith("t.yaml:3:10: resources.infra: infra 'aws/us-east-1' says cloud 'aws'")


def test_infra_conflicting_with_region_is_an_error() -> None:
    msg = error("resources:\n  infra: aws/us-east-1\n  region: us-west-2\n")
    assert msg.startswith("t.yaml:2:10: resources.infra:")
    assert "'us-west-2'" in msg


@pytest.mark.parametrize("infra", ["aws//x", "a/b/c/d", "/us-east-1"])
def test_malformed_infra_is_an_error(infra: str) -> None:
    assert "cannot read infra" in error(f"resources:\n  infra: '{infra}'\n")


def test_zone_outside_region_is_an_error() -> None:
    msg = error("resources:\n  region: us-east-1\n  zone: us-west-2a\n")
    assert msg.startswith("t.yaml:3:9: resources.zone: zone 'us-west-2a' is not in region")


def test_unknown_cloud_suggests_one() -> None:
    msg = error("resources:\n  cloud: gpc\n")
    assert msg.startswith("t.yaml:2:10: resources.cloud: unknown cloud 'gpc'; did you mean 'gcp'?")


# ---- any_of / ordered ---------------------------------------------------------------------

def test_any_of_layers_each_alternative_over_the_base() -> None:
    task = load(
        "resources:\n"
        "  accelerators: A100:8\n"
        "  use_spot: true\n"
        "  disk_size: 512\n"
        "  any_of:\n"
        "    - infra: aws/us-east-1\n"
        "    - infra: gcp\n"
        "      accelerators: H100:8\n"
        "    - use_spot: false\n"
    )
    assert task.resources_ordered is False
    a, b, c = task.resources
    assert (a.cloud, a.region, a.accelerators, a.use_spot, a.disk_size) == \
        ("aws", "us-east-1", (Accelerator("A100", 8),), True, 512)
    assert (b.cloud, b.region, b.accelerators, b.use_spot) == \
        ("gcp", None, (Accelerator("H100", 8),), True)
    assert (c.cloud, c.accelerators, c.use_spot, c.disk_size) == \
        (None, (Accelerator("A100", 8),), False, 512)


def test_ordered_keeps_preference_order() -> None:
    task = load("resources:\n  ordered:\n    - {accelerators: H100:8}\n"
                "    - {accelerators: A100-80GB:8}\n    - {accelerators: A100:8}\n")
    assert task.resources_ordered is True
    assert [r.accelerators[0].name for r in task.resources] == ["H100", "A100-80GB", "A100"]


def test_infra_in_an_alternative_replaces_the_whole_base_location() -> None:
    task = load("resources:\n  infra: aws/us-east-1/us-east-1a\n  any_of:\n"
                "    - infra: gcp/us-central1\n    - zone: us-east-1b\n")
    assert [(r.cloud, r.region, r.zone) for r in task.resources] == [
        ("gcp", "us-central1", None), ("aws", "us-east-1", "us-east-1b")]


def test_null_in_an_alternative_resets_the_field() -> None:
    task = load("resources:\n  accelerators: L4:1\n  any_of:\n    - {}\n"
                "    - accelerators: null\n")
    assert [r.accelerators for r in task.resources] == [(Accelerator("L4", 1),), ()]


def test_alternative_error_names_its_index() -> None:
    # A slip of a known name is an error at its place (a GPU no cloud has is dropped instead).
    msg = error("resources:\n  any_of:\n    - accelerators: L4\n    - accelerators: H-100\n")
    assert msg.startswith("t.yaml:4:21: resources.any_of[1].accelerators: unknown GPU 'H-100'")
    assert "did you mean 'H100'?" in msg


@pytest.mark.parametrize("text, problem", [
    ("resources:\n  any_of: []\n", "expected a non-empty list"),
    ("resources:\n  any_of: {cloud: aws}\n", "expected a non-empty list"),
    ("resources:\n  any_of: [aws]\n", "expected a mapping"),
    ("resources:\n  any_of: [{cloud: aws}]\n  ordered: [{cloud: gcp}]\n",
     "both any_of and ordered"),
    ("resources:\n  any_of:\n    - any_of: [{cloud: aws}]\n", "cannot nest"),
])
def test_bad_alternatives(text: str, problem: str) -> None:
    assert problem in error(text)


def test_yaml_anchors_and_merge_keys_share_alternatives() -> None:
    task = load("resources:\n  any_of:\n    - &big {accelerators: H100:8, use_spot: true}\n"
                "    - <<: *big\n      infra: gcp\n")
    a, b = task.resources
    assert a.accelerators == b.accelerators == (Accelerator("H100", 8),)
    assert (b.cloud, b.use_spot) == ("gcp", True)


# ---- errors: exact place and field ----------------------------------------------------------

def test_unknown_accelerator_names_the_place_and_the_fix() -> None:
    msg = error("name: x\nresources:\n  accelerators: A100x:8\n")
    assert msg.startswith("t.yaml:3:17: resources.accelerators: unknown GPU 'A100x'; "
                          "did you mean 'A100'?")
    assert "known: A100, A100-80GB" in msg


def test_unknown_accelerator_in_a_list_points_at_the_item() -> None:
    msg = error("resources:\n  accelerators:\n    - A100:8\n    - V1OO:4\n")
    assert msg.startswith("t.yaml:4:7: resources.accelerators: unknown GPU 'V1OO'")


@pytest.mark.parametrize("form", ["A100:0", "A100:-2", "{A100: 0}", "[{H100: -1}]"])
def test_zero_or_negative_gpu_count(form: str) -> None:
    assert "resources.accelerators: GPU count must be more than 0" in \
        error(f"resources:\n  accelerators: {form}\n")


@pytest.mark.parametrize("form, problem", [
    ("A100:1.5", "GPU count 1.5 is a fraction above 1"), ("A100:x", "GPU count 'x' is not a number"),
    ("{A100: [1]}", "GPU count 'a list' is not a number"), ("'A100:'", "GPU count '' is not a number"),
])
def test_bad_gpu_count(form: str, problem: str) -> None:
    assert problem in error(f"resources:\n  accelerators: {form}\n")


def test_unknown_top_level_key_suggests_the_nearest() -> None:
    assert error("nme: x\n") == "t.yaml:1:1: unknown field 'nme'; did you mean 'name'?"


def test_resource_key_at_top_level_says_where_it_belongs() -> None:
    msg = error("run: x\naccelerators: A100\n")
    assert msg == ("t.yaml:2:1: unknown field 'accelerators'; "
                   "'accelerators' belongs under resources:")


def test_unknown_resource_key() -> None:
    msg = error("resources:\n  accelerator: A100\n")
    assert msg == ("t.yaml:2:3: resources: unknown field 'accelerator'; "
                   "did you mean 'accelerators'?")


def test_skypilot_fields_we_do_not_support_say_so() -> None:
    assert "does not support 'priority'" in error("resources:\n  priority: 3\n")
    assert error("service:\n  replicas: 2\nrun: x\n") == (
        "t.yaml:1:1: service: skytui runs tasks, not SkyServe services; drop `service:` to run "
        "the task, or serve it with SkyPilot")


@pytest.mark.parametrize("text, where", [
    ("run: a\nrun: b\n", "t.yaml:2:1: 'run' is given twice (first at line 1)"),
    ("envs:\n  A: 1\n  A: 2\n", "t.yaml:3:3: envs: 'A' is given twice"),
    ("resources:\n  cpus: 1\n  cpus: 2\n", "t.yaml:3:3: resources: 'cpus' is given twice"),
])
def test_duplicate_keys(text: str, where: str) -> None:
    assert error(text).startswith(where)


def test_not_a_mapping_at_the_top() -> None:
    assert error("- run: x\n").startswith("t.yaml:1:1: a task file is a mapping of fields, got a list")
    assert "got text" in error("just words\n")
    assert "the task file is empty" in error("# only a comment\n")


def test_yaml_syntax_error_points_at_the_problem() -> None:
    msg = error("name: x\nresources:\n  cpus: [1, 2\nrun: x\n")
    assert msg.startswith("t.yaml:4:")
    assert "YAML syntax error" in msg
    msg = error("run: 'unterminated\n")
    assert msg.startswith("t.yaml:2:1: YAML syntax error")


@pytest.mark.parametrize("text, field, problem", [
    ("num_nodes: 0\n", "num_nodes", "must be at least 1"),
    ("num_nodes: -3\n", "num_nodes", "must be at least 1"),
    ("num_nodes: two\n", "num_nodes", "expected a whole number"),
    ("num_nodes: true\n", "num_nodes", "expected a whole number"),
    ("name: 123\n", "name", "expected a name, got a number"),
    ("name: [a]\n", "name", "expected a name, got a list"),
    ("run: {a: 1}\n", "run", "expected a shell script, got a mapping"),
    ("envs: [A]\n", "envs", "expected a mapping"),
    ("envs:\n  A: [1, 2]\n", "envs.A", "expected a value, got a list"),
    ("file_mounts:\n  /data: {source: r2://xyz}\n", "file_mounts./data.source", "another cloud's object store"),
    ("file_mounts:\n  /data:\n", "file_mounts./data", "expected a local path"),
    ("resources: [A100]\n", "resources", "expected a mapping"),
    ("resources:\n  cpus: -2\n", "resources.cpus", "must be more than 0"),
    ("resources:\n  cpus: 0\n", "resources.cpus", "must be more than 0"),
    ("resources:\n  cpus: many\n", "resources.cpus", "expected a number of CPUs"),
    ("resources:\n  cpus: .nan\n", "resources.cpus", "must be more than 0"),
    ("resources:\n  memory: 32GB\n", "resources.memory", "expected a number of GiB"),
    ("resources:\n  disk_size: 0\n", "resources.disk_size", "must be at least 1"),
    ("resources:\n  disk_size: -10\n", "resources.disk_size", "must be at least 1"),
    ("resources:\n  use_spot: maybe\n", "resources.use_spot", "expected true or false"),
    ("resources:\n  ports: 0\n", "resources.ports", "bad port"),
    ("resources:\n  ports: 70000\n", "resources.ports", "bad port"),
    ("resources:\n  ports: 9000-8000\n", "resources.ports", "bad port"),
    ("resources:\n  ports: http\n", "resources.ports", "cannot read port"),
    ("resources:\n  ports: [[80]]\n", "resources.ports", "cannot read port"),
    ("resources:\n  labels: [a]\n", "resources.labels", "expected a mapping"),
    ("resources:\n  job_recovery: failovr\n", "resources.job_recovery",
     "unknown recovery strategy 'failovr'; did you mean 'FAILOVER'?"),
    ("resources:\n  job_recovery: {strategy: RETRY}\n", "resources.job_recovery.strategy",
     "unknown recovery strategy"),
    ("resources:\n  job_recovery: {max_restarts_on_errors: -1}\n",
     "resources.job_recovery.max_restarts_on_errors", "must be at least 0"),
    ("resources:\n  job_recovery: {recover_on_exit_codes: [300]}\n",
     "resources.job_recovery.recover_on_exit_codes", "above 255"),
    ("resources:\n  job_recovery: {retries: 3}\n", "resources.job_recovery", "unknown field"),
    ("resources:\n  job_recovery: failover\n  spot_recovery: failover\n", "resources",
     "both job_recovery and spot_recovery"),
    ("resources:\n  autostop: soon\n", "resources.autostop", "expected idle minutes"),
    ("resources:\n  autostop: -5\n", "resources.autostop", "must be at least 0"),
    ("resources:\n  autostop: {idle: 5}\n", "resources.autostop", "unknown field 'idle'"),
    ("resources:\n  autostop: {down: 1}\n", "resources.autostop.down", "expected true or false"),
    ("resources:\n  cloud: 1\n", "resources.cloud", "expected a cloud name"),
    ("resources:\n  region: ''\n", "resources.region", "is empty"),
])
def test_wrong_types_and_impossible_values(text: str, field: str, problem: str) -> None:
    msg = error(text)
    assert f": {field}: " in msg, msg
    assert problem in msg, msg


@pytest.mark.parametrize("name", ["1ABC", "MY-VAR", "A B", "Ä"])
def test_bad_env_names(name: str) -> None:
    msg = error(f"envs:\n  '{name}': x\n")
    assert msg.startswith(f"t.yaml:2:3: envs: invalid variable name {name!r}")
    assert "secrets: invalid variable name" in error(f"secrets:\n  '{name}': x\n")


def test_same_name_in_envs_and_secrets() -> None:
    assert "A is in both envs and secrets" in error("envs: {A: 1}\nsecrets: {A: 2}\n")


# ---- hostile YAML -------------------------------------------------------------------------

def test_tags_that_build_objects_are_refused() -> None:
    msg = error("run: !!python/object/apply:os.system ['echo pwned']\n")
    assert "YAML tag '!!python/object/apply:os.system' is not supported" in msg


def test_recursive_and_unknown_aliases() -> None:
    assert "refers to a value that contains it" in error("run: &a [*a]\n")
    assert "has no matching '&anchor'" in error("run: *nothing\n")


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    bomb = "\n".join(lines) + "\n"
    assert "unknown field 'a'" in error(bomb)
    # Aliases share the anchored node instead of copying it, so 9**10 never materialises.
    root = compose(bomb, "t.yaml")
    assert root is not None
    assert root.value["j"].value[0] is root.value["i"]
    assert root.value["j"].value[8] is root.value["i"]


def test_deep_nesting_is_refused() -> None:
    assert "brackets nest deeper than 64 levels" in error("run: " + "[" * 10_000)
    assert "nest deeper than 64 levels" in error("run:\n  " + "- " * 10_000 + "x\n")


def test_too_many_values_and_too_large_files() -> None:
    assert "more than 10000 YAML values" in error("run:\n" + "  - x\n" * 15_000)
    assert "the limit is 1024 KiB" in error("run: " + "x" * (1024 * 1024 + 1))


def test_several_documents_are_a_pipeline_that_launch_refuses() -> None:
    assert error("run: a\n---\nrun: b\n").startswith(
        "t.yaml:1:1: the file holds a pipeline of 2 tasks (#1, #2); run it as one managed job")


def test_control_characters_and_huge_numbers() -> None:
    assert error("run: a\x07b\n").startswith("t.yaml:1:7: character 0x0007 is not allowed")
    assert "cannot read" in error("num_nodes: 1" + "0" * 5000 + "\n")


# ---- files ----------------------------------------------------------------------------------

def test_load_task_from_file(tmp_path: Path) -> None:
    f = tmp_path / "task.yaml"
    f.write_text("name: x\nenvs: {A: null}\nrun: echo $A\n")
    task = load_task(f, env_overrides={"A": "1"})
    assert (task.name, task.envs, task.source) == ("x", {"A": "1"}, str(f))


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match="task file not found"):
        load_task(tmp_path / "nope.yaml")
    with pytest.raises(TaskError, match="is a directory"):
        load_task(tmp_path)
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: x\nrun: caf\xe9\n")
    with pytest.raises(TaskError) as info:
        load_task(bad)
    assert str(info.value).startswith(f"{bad}:2:9: byte 0xe9 is not UTF-8 text")
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfrun: echo hi\n")
    assert load_task(bom).run == "echo hi"


def test_error_fields_are_kept_for_the_cli() -> None:
    with pytest.raises(TaskError) as info:
        load("resources:\n  disk_size: 0\n")
    e = info.value
    assert (e.file, e.line, e.col, e.field) == ("t.yaml", 2, 14, "resources.disk_size")
    assert e.fix == "use 1 or more"


# ---- examples -------------------------------------------------------------------------------

TASK_EXAMPLES = sorted(p for p in EXAMPLES.glob("*.yaml") if p.name != "config.yaml")


def test_examples_exist() -> None:
    names = {p.name for p in TASK_EXAMPLES}
    assert {"hello.yaml", "dev-gpu.yaml", "train-spot.yaml", "multinode.yaml",
            "local-hello.yaml"} <= names


@pytest.mark.parametrize("path", TASK_EXAMPLES, ids=lambda p: p.name)
def test_every_example_loads(path: Path) -> None:
    task = load_task(path)
    assert task.run and task.name


def test_example_shapes() -> None:
    dev = load_task(EXAMPLES / "dev-gpu.yaml")
    assert all(r.accelerators == (Accelerator("L4", 1),) for r in dev.resources)
    assert dev.resources[0].autostop == Autostop(30, False)
    spot = load_task(EXAMPLES / "train-spot.yaml")
    r = spot.resources[0]
    assert r.use_spot and r.job_recovery == JobRecovery("EAGER_NEXT_REGION", 2)
    assert load_task(EXAMPLES / "multinode.yaml").num_nodes == 2
    assert load_task(EXAMPLES / "local-hello.yaml").resources[0].cloud == "local"


def test_train_spot_example_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    """The example's run script really trains, checkpoints and resumes with plain python3."""
    task = load_task(EXAMPLES / "train-spot.yaml")
    env = {**os.environ, **{k: v or "" for k, v in task.envs.items()}, "HOME": str(tmp_path),
           "STEP_SECONDS": "0", "TOTAL_STEPS": "7", "SKYPILOT_TASK_ID": "sky-2024-x_1"}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    first = subprocess.run(["bash", "-c", task.run], check=False, env=env, capture_output=True, text=True,
                           timeout=60)
    assert first.returncode == 0, first.stderr
    assert "starting fresh" in first.stdout and "step 7/7" in first.stdout
    assert (tmp_path / "ckpt" / "sky-2024-x_1" / "state.json").exists()
    env["TOTAL_STEPS"] = "9"
    second = subprocess.run(["bash", "-c", task.run], check=False, env=env, capture_output=True, text=True,
                            timeout=60)
    assert second.returncode == 0, second.stderr
    assert "resuming from step 7" in second.stdout
    assert "step 8/9" in second.stdout and "step 1/9" not in second.stdout


# ---- without libyaml ------------------------------------------------------------------------

SAMPLES = [
    "name: x\nresources:\n  accelerators: {A100: 8}\n  any_of: [{infra: aws}, {infra: gcp}]\n",
    "run: a\nrun: b\n",
    "run: a\x07b\n",
    "name: x\nresources:\n  cpus: [1, 2\nrun: x\n",
    "run: 'unterminated\n",
    "envs:\n\tA: 1\n",
    "a: &a {b: 1}\n<<: *a\n",
    "run: *a\n",
    "name: caf\u00e9 \u2603\nrun: x\n",
    "run: " + "[" * 100,
    "run:\n  " + "- " * 100 + "x\n",
    "? [a]\n: b\n",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_pure_python_parser_gives_the_same_answers(text: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Source installs of PyYAML may lack libyaml; the answers must not change."""
    import yaml

    from skytui.task import yamlnodes

    def answer() -> object:
        try:
            return load(text)
        except TaskError as e:
            assert "internal error" not in str(e)
            return (e.line, e.col, e.field, e.problem.split(":")[0])

    with_libyaml = answer()
    monkeypatch.setattr(yamlnodes, "_PARSER", yaml.SafeLoader)
    assert answer() == with_libyaml


def test_merge_keys_and_odd_keys() -> None:
    task = load("resources:\n  any_of:\n    - &a {cloud: aws, use_spot: true}\n"
                "    - <<: [*a]\n      cloud: gcp\n")
    assert [(r.cloud, r.use_spot) for r in task.resources] == [("aws", True), ("gcp", True)]
    assert "'<<' merges mappings, not a number" in error("<<: 5\nrun: x\n")
    assert "unknown field '<<'" in error("'<<': {run: x}\n")
    assert "a mapping key must be plain text" in error("? [a]\n: b\n")
    assert "unknown field '~'" in error("~: x\n")
