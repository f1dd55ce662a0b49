"""One-vCPU tasks on the bundled catalog: `cpus: 1` gets AWS t2.small (burstable), while
at-least requests and plain tasks keep nodes with full vCPUs (SkyPilot's airflow examples)."""

from __future__ import annotations

import pytest

from skytui.catalog import catalog
from skytui.core.planner import Plan, plan
from skytui.core.storage.attach import restrict_plan
from skytui.task.loader import load_task_text
from skytui.task.spec import Task

CLOUDS = ("aws", "gcp", "local")


def _plan(text: str) -> tuple[Task, Plan]:
    task = load_task_text(text, "t.yaml")
    return task, plan(task.resources, num_nodes=task.num_nodes, enabled_clouds=CLOUDS, limit=None)


def test_t2_small_is_in_the_bundled_catalog_with_its_source_price() -> None:
    rows = [o for o in catalog.load("aws") if o.instance_type == "t2.small"]
    assert len(rows) == 42 and {(o.vcpus, o.memory_gib, o.accelerator_name) for o in rows} == {
        (1.0, 2.0, None)}
    use1 = next(o for o in rows if o.zone == "use1-az1")
    assert (use1.region, use1.price, use1.spot_price) == ("us-east-1", 0.023, 0.0091)
    assert not [o for o in catalog.load("aws") if o.instance_type == "t2.micro"]  # 1 GiB: left out


def test_one_vcpu_task_with_an_s3_bucket_plans_on_t2_small() -> None:
    task, p = _plan("resources:\n  cpus: 1\nfile_mounts:\n  /data:\n    name: sky-demo-data\n"
                    "    store: s3\nrun: ls /data\n")
    restrict_plan(task, p)
    best = p.candidates[0]
    assert (best.cloud, best.instance_type, best.vcpus) == ("aws", "t2.small", 1.0)
    assert {c.instance_type for c in p.candidates if c.cloud == "aws"} == {"t2.small"}


@pytest.mark.parametrize("resources", ["", "resources:\n  cpus: 1+\n", "resources:\n  cpus: 0.5+\n",
                                       "resources:\n  memory: 2+\n"])
def test_at_least_and_plain_tasks_never_get_a_burstable_node(resources: str) -> None:
    _, p = _plan(resources + "run: 'true'\n")
    assert p.candidates
    assert not [c for c in p.candidates if c.instance_type.startswith("t2.")]
    best = p.candidates[0]
    assert best.vcpus >= 2 and best.instance_type == "m5.large"  # as before t2.small was added


def test_a_burstable_type_named_by_the_task_is_taken() -> None:
    _, p = _plan("resources:\n  instance_type: t2.small\n  cpus: 1+\nrun: 'true'\n")
    assert {c.instance_type for c in p.candidates} == {"t2.small"}
