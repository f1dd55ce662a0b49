"""SkyPilot task files as they are: each feature of issue 16 on a small task file of our own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from skytui.catalog import for_cloud
from skytui.core import tiers
from skytui.core.launcher import tier_fields
from skytui.core.plan_notes import plan_notes
from skytui.core.planner import plan
from skytui.errors import TaskError, TaskErrors
from skytui.remote.gitdir import NOT_A_CHECKOUT, checkout_script
from skytui.task.loader import load_pipeline_text, load_task_text
from skytui.task.spec import Accelerator, GitWorkdir

ALL = ("aws", "gcp", "local")


def load(text: str):  # type: ignore[no-untyped-def]
    return load_task_text(text, "t.yaml")


def error(text: str) -> TaskError:
    with pytest.raises(TaskError) as info:
        load(text)
    return info.value


def plan_of(text: str):  # type: ignore[no-untyped-def]
    task = load(text)
    return task, plan(task.resources, ordered=task.resources_ordered, num_nodes=task.num_nodes,
                      enabled_clouds=ALL, offerings=for_cloud)


# ---- disk_tier ----------------------------------------------------------------------------

@pytest.mark.parametrize("tier", ["low", "medium", "high", "ultra", "best", "BEST"])
def test_disk_tier_values_load(tier: str) -> None:
    assert load(f"resources:\n  disk_tier: {tier}\n").resources[0].disk_tier == tier.lower()


def test_unknown_disk_tier_names_the_choices() -> None:
    e = error("resources:\n  disk_tier: fast\n")
    assert str(e) == ("t.yaml:2:14: resources.disk_tier: unknown disk tier 'fast'; "
                      "choose one of low, medium, high, ultra, best")


@pytest.mark.parametrize("cloud, itype, tier, disk_type", [
    ("aws", "p5.48xlarge", "low", "gp3"), ("aws", "p5.48xlarge", "high", "gp3"),
    ("aws", "p5.48xlarge", "best", "io2"), ("gcp", "n1-standard-8", "low", "pd-standard"),
    ("gcp", "n1-standard-8", "medium", "pd-balanced"), ("gcp", "n1-standard-8", "high", "pd-ssd"),
    ("gcp", "a3-highgpu-8g", "ultra", "hyperdisk-balanced"), ("gcp", "g2-standard-8", "best", "pd-ssd"),
    ("local", "local-cpu", "best", "local"),
])
def test_disk_tier_maps_to_the_clouds_volume_type(cloud: str, itype: str, tier: str,
                                                  disk_type: str) -> None:
    vol = tiers.volume(cloud, itype, tier, 512)
    assert vol.disk_type == disk_type
    assert (vol.price_per_hour > 0) == (cloud != "local")


def test_higher_disk_tiers_cost_more_per_cloud() -> None:
    for cloud, itype in (("aws", "p5.48xlarge"), ("gcp", "a3-highgpu-8g")):
        prices = [tiers.volume(cloud, itype, t, 1024).price_per_hour
                  for t in ("low", "medium", "high", "ultra")]
        assert prices == sorted(prices) and prices[0] < prices[-1], (cloud, prices)


def test_gp3_settings_stay_within_what_ebs_allows() -> None:
    small = tiers.volume("aws", "g5.xlarge", "high", 8)  # 500 IOPS per GiB at most
    assert small.iops == 4000 and small.throughput_mbps == 1000


def test_plan_prices_the_disk_tier_per_cloud() -> None:
    task, p = plan_of("resources:\n  accelerators: H100:8\n  disk_tier: best\n"
                      "  disk_size: 1TB\n")
    by_cloud = {c.cloud: c for c in reversed(p.candidates)}
    assert by_cloud["aws"].disk.startswith("1024 GiB io2")
    assert by_cloud["gcp"].disk.startswith("1024 GiB hyperdisk-balanced")
    assert by_cloud["aws"].disk_price_per_node > 0
    lines = plan_notes(task, p)
    assert any(line.startswith("disk on aws (p5.48xlarge): 1024 GiB io2") and "/h per node" in line
               for line in lines)


def test_without_a_tier_the_plan_says_nothing_of_disks() -> None:
    task, p = plan_of("resources:\n  accelerators: H100:8\n")
    assert all(c.disk == "" and c.network == "" for c in p.candidates)
    assert plan_notes(task, p) == []


# ---- accelerator sets, lists, gpus, fractions ---------------------------------------------

@pytest.mark.parametrize("form", ["{H100:1, H200:1}", "{H100: 1, H200: 1}", "'{H100:1, H200:1}'",
                                  "\n    H100: 1\n    H200: 1"])
def test_an_accelerator_set_is_any_of(form: str) -> None:
    r = load(f"resources:\n  accelerators: {form}\n").resources[0]
    assert r.accelerators == (Accelerator("H100", 1), Accelerator("H200", 1))
    assert not r.accelerators_ordered


def test_a_list_of_accelerators_is_a_preference_order() -> None:
    task, p = plan_of("resources:\n  accelerators: [H100:8, A100:8]\n")
    assert task.resources[0].accelerators_ordered
    names = [c.accelerator for c in p.candidates]
    assert names.index("A100") > max(i for i, n in enumerate(names) if n == "H100")


def test_a_set_plans_cheapest_first_across_its_members() -> None:
    _, p = plan_of("resources:\n  accelerators: {A100:8, H100:8}\n")
    assert {c.accelerator for c in p.candidates} == {"A100", "H100"}
    prices = [c.price_per_node for c in p.candidates]
    assert prices == sorted(prices)


def test_gpus_is_another_name_for_accelerators() -> None:
    assert load("resources:\n  gpus: H100:8\n").resources[0].accelerators == \
        (Accelerator("H100", 8),)
    e = error("resources:\n  gpus: H100:8\n  accelerators: A100:8\n")
    assert "both accelerators and gpus" in str(e)


@pytest.mark.parametrize("form, count", [("T4:0.5", 0.5), ("{T4: 0.25}", 0.25), ("V100:1.0", 1)])
def test_fractional_gpu_counts(form: str, count: float) -> None:
    task, p = plan_of(f"resources:\n  accelerators: {form}\n")
    acc = task.resources[0].accelerators[0]
    assert acc.count == count and acc.devices == 1
    assert p.candidates and {c.accelerator_count for c in p.candidates} == {1}


# ---- alternatives no cloud has: dropped with a note ----------------------------------------

def test_an_alternative_on_another_cloud_is_dropped_with_a_note() -> None:
    task, p = plan_of("resources:\n  accelerators: H100:8\n  any_of:\n    - infra: kubernetes\n"
                      "    - infra: azure\n    - infra: aws\n")
    assert [r.cloud for r in task.resources] == ["aws"]
    assert task.notes == (
        "t.yaml:4:14: left out this alternative: skytui does not run on Kubernetes",
        "t.yaml:5:14: left out this alternative: skytui runs on AWS, GCP and local, not azure")
    assert "note: t.yaml:4:14: left out this alternative: skytui does not run on Kubernetes" \
        in plan_notes(task, p)


def test_a_gpu_no_catalog_has_is_dropped_from_a_set() -> None:
    task = load("resources:\n  accelerators: {A10:1, A10G:1, MI300:1}\n")
    assert task.resources[0].accelerators == (Accelerator("A10G", 1),)
    assert [n.split(": ", 1)[1] for n in task.notes] == [
        "left out A10 (no cloud skytui runs on offers it)",
        "left out MI300 (no cloud skytui runs on offers it)"]


def test_only_out_of_reach_alternatives_refuse_in_one_line() -> None:
    e = error("resources:\n  any_of:\n    - infra: k8s\n    - accelerators: tpu-v4-8\n")
    assert str(e) == ("t.yaml:3:14: resources: skytui does not run on Kubernetes (and 1 other "
                      "alternative(s)); use infra: aws or gcp (or local), or run this task with "
                      "SkyPilot")


def test_an_alternative_without_offerings_is_noted_by_the_planner() -> None:
    _, p = plan_of("resources:\n  ordered:\n    - accelerators: H100:3\n"
                      "    - accelerators: H100:8\n")
    assert p.candidates and all(c.accelerator_count == 8 for c in p.candidates)
    assert p.notes == ["left out H100:3: no offering of H100:3"]


def test_trainium2_is_named_when_the_catalog_lacks_it() -> None:
    e = error("resources:\n  accelerators: Trainium2:16\n")
    assert "is not in skytui's bundled catalog" in str(e) and "\n" not in str(e)


# ---- network_tier ---------------------------------------------------------------------------

def test_network_tier_best_per_cloud() -> None:
    assert tiers.network("aws", "p5.48xlarge", "best").efa
    g6 = tiers.network("aws", "g6.xlarge", "best")
    assert not g6.efa and "has no EFA" in g6.what
    assert tiers.network("gcp", "a3-highgpu-8g", "best").what == "gVNIC with Tier_1 bandwidth"
    assert tiers.network("aws", "p5.48xlarge", "standard").what == "standard networking"
    assert "unknown network tier 'fast'" in str(error("resources:\n  network_tier: fast\n"))


def test_the_plan_and_the_launch_spec_carry_the_network_tier() -> None:
    task, p = plan_of("resources:\n  accelerators: H100:8\n  network_tier: best\n")
    aws = next(c for c in p.candidates if c.cloud == "aws")
    assert aws.network == "EFA network interfaces"
    fields = tier_fields(task.resources[0], aws)
    assert fields["efa"] is True and fields["network_tier"] == "best"


# ---- disk_size units, image_id per region, git workdir ---------------------------------------

@pytest.mark.parametrize("value, gib", [("1024", 1024), ("1024GB", 1024), ("1TB", 1024),
                                        ("512Gi", 512), ("1.5TB", 1536), ("'2 TiB'", 2048)])
def test_disk_size_with_a_unit(value: str, gib: int) -> None:
    assert load(f"resources:\n  disk_size: {value}\n").resources[0].disk_size == gib


@pytest.mark.parametrize("value", ["lots", "100MB", "12B"])
def test_bad_disk_sizes(value: str) -> None:
    assert "disk_size" in str(error(f"resources:\n  disk_size: {value}\n"))


def test_image_id_per_region_limits_the_plan_and_picks_the_image() -> None:
    task, p = plan_of("resources:\n  accelerators: H100:8\n  image_id:\n"
                      "    us-east-1: ami-east\n    us-west-2: ami-west\n")
    assert {c.region for c in p.candidates} <= {"us-east-1", "us-west-2"} and p.candidates
    c = p.candidates[0]
    assert tier_fields(task.resources[0], c)["image_id"] == \
        {"us-east-1": "ami-east", "us-west-2": "ami-west"}[c.region]


def test_git_workdir_loads() -> None:
    task = load("workdir:\n  url: https://github.com/org/repo.git\n  ref: v1.2\nrun: make\n")
    assert task.workdir is None and task.workdir_git == GitWorkdir(
        "https://github.com/org/repo.git", "v1.2")
    assert "needs its `url`" in str(error("workdir: {ref: main}\n"))
    assert "is not a git ref" in str(error("workdir: {url: x, ref: '--upload-pack=x'}\n"))


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_git_checkout_script_checks_out_the_ref_and_never_overwrites(tmp_path: Path) -> None:
    repo, home = tmp_path / "repo", tmp_path / "node-home"
    repo.mkdir()
    home.mkdir()
    _git("init", "-q", "-b", "main", cwd=repo)
    (repo / "f").write_text("one\n")
    _git("add", "f", cwd=repo)
    _git("commit", "-qm", "one", cwd=repo)
    _git("tag", "v1", cwd=repo)
    (repo / "f").write_text("two\n")
    _git("commit", "-qam", "two", cwd=repo)

    def run(ref: str | None, dest: str = "sky_workdir") -> int:
        script = checkout_script(f"file://{repo}", ref, dest)
        return subprocess.run(["sh", "-c", script], env={**os.environ, "HOME": str(home)},
                              capture_output=True, check=False).returncode

    assert run("v1") == 0
    assert (home / "sky_workdir" / "f").read_text() == "one\n"
    assert run(None) == 0  # a re-launch fetches into the same checkout
    assert (home / "sky_workdir" / "f").read_text() == "two\n"
    (home / "mine").mkdir()
    (home / "mine" / "notes.txt").write_text("keep\n")
    assert run("v1", "mine") == NOT_A_CHECKOUT
    assert (home / "mine" / "notes.txt").read_text() == "keep\n"


# ---- pipelines (several documents) -----------------------------------------------------------

PIPELINE = "name: chain\n---\nname: train\nrun: a\n---\nname: eval\nresources:\n  cpus: 2\nrun: b\n"


def test_a_multi_document_file_is_a_pipeline() -> None:
    pipe = load_pipeline_text(PIPELINE, "p.yaml")
    assert pipe.name == "chain" and [t.name for t in pipe.tasks] == ["train", "eval"]
    assert pipe.tasks[1].resources[0].cpus == 2


def test_launch_of_a_pipeline_says_how_to_run_it() -> None:
    with pytest.raises(TaskError) as info:
        load_task_text(PIPELINE, "p.yaml")
    assert str(info.value) == ("p.yaml:1:1: the file holds a pipeline of 2 tasks (train, eval); "
                               "run it as one managed job with `skytui jobs launch p.yaml`")


def test_a_job_group_is_refused_in_one_line() -> None:
    with pytest.raises(TaskError) as info:
        load_pipeline_text("name: g\nexecution: parallel\n---\nrun: a\n---\nrun: b\n", "g.yaml")
    assert str(info.value) == ("g.yaml:2:1: execution: parallel job groups are not supported; "
                               "launch each task of the group with its own `skytui jobs launch`")


# ---- out of scope: one line naming the feature -----------------------------------------------

@pytest.mark.parametrize("text, says", [
    ("service:\n  replicas: 2\nrun: x\n", "skytui runs tasks, not SkyServe services"),
    ("pool:\n  workers: 2\nrun: x\n", "skytui has no worker pools"),
    ("volumes:\n  /data: vol\nrun: x\n", "SkyPilot volumes are not supported"),
    ("inputs:\n  s3://b: 1\nrun: x\n", "legacy `inputs`/`outputs` are not supported"),
    ("resources:\n  infra: k8s/ctx\n", "skytui does not run on Kubernetes"),
    ("resources:\n  cloud: azure\n", "skytui runs on AWS, GCP and local, not azure"),
    ("resources:\n  accelerators: tpu-v5e-8\n", "TPUs are not supported"),
    ("resources:\n  accelerators: tpu-v2-8\n  accelerator_args: {runtime_version: x}\n",
     "TPUs are not supported"),
    ("file_mounts:\n  /x: 3\nresources:\n  infra: oci\n", "not oci"),
])
def test_out_of_scope_features_are_refused_in_one_line(text: str, says: str) -> None:
    msg = str(error(text))
    assert says in msg and "\n" not in msg and "unknown field" not in msg


def test_kubernetes_settings_in_config_are_noted_as_kubernetes_only() -> None:
    """SkyPilot applies `config.kubernetes` only on Kubernetes: on AWS/GCP the task runs as written."""
    task = load("resources:\n  accelerators: {H100: 1, H200: 1}\nconfig:\n  kubernetes:\n"
                "    pod_config: {spec: {containers: [{securityContext: {runAsUser: 0}}]}}\nrun: x\n")
    assert task.notes == ("t.yaml:4:3: left out config.kubernetes: it applies only on Kubernetes, "
                          "where skytui does not run tasks",)


def test_other_skypilot_settings_in_config_are_noted_not_applied() -> None:
    task = load("config:\n  docker:\n    run_options: [--ipc=host]\nrun: x\n")
    note = "t.yaml:2:3: left out config.docker: skytui does not apply SkyPilot settings given in a task"
    assert task.notes == (note,)


# ---- better errors -----------------------------------------------------------------------------

def test_every_problem_in_a_file_is_reported_at_once() -> None:
    e = error("nme: x\nnum_nodes: zero\nresources:\n  cpus: lots\n  disk_tier: fast\n")
    assert isinstance(e, TaskErrors)
    lines = str(e).splitlines()
    assert [line.split(": ")[0] for line in lines] == ["t.yaml:1:1", "t.yaml:2:12", "t.yaml:4:9",
                                                       "t.yaml:5:14"]


def test_the_number_of_problems_shown_is_capped() -> None:
    e = error("".join(f"bad{i}: 1\n" for i in range(30)) + "run: x\n")
    lines = str(e).splitlines()
    assert len(lines) == TaskErrors.MAX_SHOWN + 1
    assert lines[-1] == "... and 10 more problems in t.yaml"


@pytest.mark.parametrize("text, hint", [
    ("resources:\n  accelerators: H-100\n", "did you mean 'H100'?"),
    ("resources:\n  accelerators: a100_80gb\n", None),  # the same GPU: accepted as it is
    ("resources:\n  cloud: awss\n", "did you mean 'aws'?"),
])
def test_did_you_mean_is_for_the_same_thing_misspelled(text: str, hint: str | None) -> None:
    if hint is None:
        assert load(text).resources[0].accelerators == (Accelerator("A100-80GB", 1),)
    else:
        assert hint in str(error(text))


@pytest.mark.parametrize("text", ["resources:\n  accelerators: A10\n",
                                  "resources:\n  cloud: oci\n"])
def test_a_different_real_thing_gets_no_did_you_mean(text: str) -> None:
    msg = str(error(text))
    assert "did you mean" not in msg and "\n" not in msg
