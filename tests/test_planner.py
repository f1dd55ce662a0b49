"""The planner (where a task can run, best first) and the `show-gpus` table."""

from __future__ import annotations

import pytest

from skytui.catalog import catalog
from skytui.catalog.catalog import Offering
from skytui.core.planner import NOT_ENABLED, Candidate, Location, Plan, best_per_region, plan
from skytui.core.show_gpus import gpu_table
from skytui.errors import NoOffering
from skytui.task.spec import Accelerator, Resources

ALL = {"aws", "gcp", "local"}


def off(cloud: str, itype: str, region: str, zone: str | None, price: float,
        spot: float | None = None, acc: str | None = None, count: int = 0,
        vcpus: float = 8, mem: float = 32, acc_mem: float | None = None) -> Offering:
    return Offering(cloud, itype, vcpus, mem, acc, count, acc_mem, region, zone, price, spot)


OFFERS: dict[str, list[Offering]] = {
    "aws": [
        off("aws", "p4d.24xlarge", "us-east-1", "use1-az1", 32.0, 12.0, "A100", 8, 96, 1152, 40),
        off("aws", "p4d.24xlarge", "us-east-1", "use1-az2", 32.0, 9.0, "A100", 8, 96, 1152, 40),
        off("aws", "p4d.24xlarge", "us-west-2", "usw2-az1", 33.0, 10.0, "A100", 8, 96, 1152, 40),
        off("aws", "p5.48xlarge", "us-east-1", "use1-az1", 98.0, None, "H100", 8, 192, 2048, 80),
        off("aws", "g5.xlarge", "us-east-1", "use1-az1", 1.0, 0.4, "A10G", 1, 4, 16, 22.35),
        off("aws", "m6i.large", "us-east-1", "use1-az1", 0.096, 0.04, vcpus=2, mem=8),
        off("aws", "m6i.xlarge", "us-east-1", "use1-az1", 0.192, 0.07, vcpus=4, mem=16),
        off("aws", "c6i.large", "us-east-1", "use1-az1", 0.085, 0.03, vcpus=1, mem=4),
    ],
    "gcp": [
        off("gcp", "a2-highgpu-8g", "us-central1", "us-central1-a", 29.4, 11.0, "A100", 8, 96, 680),
        off("gcp", "a3-highgpu-8g", "us-central1", "us-central1-a", 43.0, 26.8, "H100", 8, 208,
            1872),
        off("gcp", "n1-standard-8", "us-west1", "us-west1-b", 0.73, 0.2, "T4", 1, 8, 30),
        off("gcp", "n1-standard-8", "us-west1", "us-west1-b", 2.86, 1.2, "V100", 1, 8, 30),
        off("gcp", "n1-standard-4", "us-west1", "us-west1-b", 0.19, 0.04, vcpus=4, mem=15),
    ],
    "local": [
        off("local", "local-h200x1", "local", "local-a", 7.9, 2.8, "H200", 1, 16, 128, 140),
        off("local", "local-cpu2", "local", "local-a", 0.12, 0.04, vcpus=2, mem=16),
    ],
}


def fake(cloud: str) -> list[Offering]:
    return OFFERS.get(cloud, [])


def gpus(*names: str) -> tuple[Accelerator, ...]:
    return tuple(Accelerator(n.split(":")[0], int(n.split(":")[1])) for n in names)


def run(*resources: Resources, **kw: object) -> Plan:
    kw.setdefault("enabled_clouds", ALL)
    return plan(list(resources), offerings=fake, **kw)  # type: ignore[arg-type]


def where(p: Plan) -> list[tuple[str, str | None, str]]:
    return [(c.cloud, c.zone, c.instance_type) for c in p.candidates]


# ---- choosing and ordering -----------------------------------------------------------------

def test_cheapest_first_across_clouds() -> None:
    p = run(Resources(accelerators=gpus("A100:8")))
    assert where(p) == [("gcp", "us-central1-a", "a2-highgpu-8g"),
                        ("aws", "use1-az1", "p4d.24xlarge"), ("aws", "use1-az2", "p4d.24xlarge"),
                        ("aws", "usw2-az1", "p4d.24xlarge")]
    assert [c.price_per_node for c in p.candidates] == [29.4, 32.0, 32.0, 33.0]
    assert p.not_enabled == {} and p.candidates_elsewhere == []
    c = p.candidates[0]
    assert (c.accelerator, c.accelerator_count, c.vcpus, c.spot) == ("A100", 8, 96, False)


def test_spot_uses_spot_prices_and_skips_offerings_without_one() -> None:
    p = run(Resources(accelerators=gpus("A100:8", "H100:8"), use_spot=True))
    assert [(c.zone, c.price_per_node) for c in p.candidates] == [
        ("use1-az2", 9.0), ("usw2-az1", 10.0), ("us-central1-a", 11.0), ("use1-az1", 12.0),
        ("us-central1-a", 26.8)]  # the p5 has no spot price
    assert all(c.spot for c in p.candidates)
    assert p.candidates[0].on_demand_price_per_node == 32.0


def test_any_of_is_by_price_but_ordered_keeps_the_users_order() -> None:
    h100 = Resources(accelerators=gpus("H100:8"), cloud="gcp")
    a100 = Resources(accelerators=gpus("A100:8"), cloud="gcp")
    assert [c.accelerator for c in run(h100, a100).candidates] == ["A100", "H100"]
    p = run(h100, a100, ordered=True)
    assert [c.accelerator for c in p.candidates] == ["H100", "A100"]
    assert [c.resources_index for c in p.candidates] == [0, 1]


def test_pins_on_cloud_region_zone_and_instance_type() -> None:
    a100 = gpus("A100:8")
    assert {c.cloud for c in run(Resources(accelerators=a100, cloud="aws")).candidates} == {"aws"}
    assert where(run(Resources(accelerators=a100, region="us-west-2"))) == [
        ("aws", "usw2-az1", "p4d.24xlarge")]
    assert where(run(Resources(accelerators=a100, zone="use1-az2"))) == [
        ("aws", "use1-az2", "p4d.24xlarge")]
    assert where(run(Resources(instance_type="g5.xlarge"))) == [("aws", "use1-az1", "g5.xlarge")]
    assert where(run(Resources(instance_type="n1-standard-8", accelerators=gpus("V100:1")))) == [
        ("gcp", "us-west1-b", "n1-standard-8")]


def test_gpu_names_match_case_insensitively_but_counts_exactly() -> None:
    assert len(run(Resources(accelerators=gpus("a100:8"))).candidates) == 4
    with pytest.raises(NoOffering, match=r"no offering of A100:4.*A100 comes as A100:8"):
        run(Resources(accelerators=gpus("A100:4")))


def test_a_cpu_task_gets_a_cpu_only_node_with_two_or_more_vcpus() -> None:
    p = run(Resources())
    assert where(p)[0] == ("aws", "use1-az1", "m6i.large")  # c6i.large has 1 vCPU
    assert all(c.accelerator is None and c.vcpus >= 2 for c in p.candidates)
    assert "c6i.large" not in {c.instance_type for c in p.candidates}


def test_cpus_and_memory_exact_or_at_least() -> None:
    exact = run(Resources(cpus=4))
    assert {c.instance_type for c in exact.candidates} == {"m6i.xlarge", "n1-standard-4"}
    at_least = run(Resources(cpus=4, cpus_at_least=True, memory=16, memory_at_least=True))
    assert {c.instance_type for c in at_least.candidates} == {"m6i.xlarge"}  # n1: 15 GiB
    assert {c.instance_type for c in run(Resources(memory=15)).candidates} == {"n1-standard-4"}


def test_allowed_regions_limit_each_cloud_named() -> None:
    p = run(Resources(accelerators=gpus("A100:8")), allowed_regions={"aws": ["us-west-2"]})
    assert where(p) == [("gcp", "us-central1-a", "a2-highgpu-8g"),
                        ("aws", "usw2-az1", "p4d.24xlarge")]


def test_a_blocked_zone_spares_its_region_but_a_blocked_region_does_not() -> None:
    a100 = Resources(accelerators=gpus("A100:8"), cloud="aws")
    p = run(a100, blocked=[Location("aws", "us-east-1", "use1-az1")])
    assert [c.zone for c in p.candidates] == ["use1-az2", "usw2-az1"]
    p = run(a100, blocked=[Location("aws", "us-east-1")])
    assert [c.zone for c in p.candidates] == ["usw2-az1"]
    p = run(a100, blocked=[Location("gcp", "us-east-1")])  # another cloud's region
    assert len(p.candidates) == 3


def test_duplicates_are_dropped_but_gpu_attachments_are_not() -> None:
    a100 = Resources(accelerators=gpus("A100:8"))
    assert len(run(a100, a100).candidates) == 4
    p = run(Resources(instance_type="n1-standard-8"))
    assert [c.accelerator for c in p.candidates] == ["T4", "V100"]


def test_nodes_limit_and_best_per_region() -> None:
    p = run(Resources(accelerators=gpus("A100:8")), num_nodes=3)
    assert p.candidates[0].price_per_hour == pytest.approx(3 * 29.4)
    assert all(c.num_nodes == 3 for c in p.candidates)
    assert len(run(Resources(accelerators=gpus("A100:8")), limit=2).candidates) == 2
    assert [(c.cloud, c.region, c.zone) for c in best_per_region(p)] == [
        ("gcp", "us-central1", "us-central1-a"), ("aws", "us-east-1", "use1-az1"),
        ("aws", "us-west-2", "usw2-az1")]


def test_clouds_not_enabled_are_reported_with_their_best_offers() -> None:
    p = run(Resources(accelerators=gpus("A100:8")), enabled_clouds={"aws"})
    assert {c.cloud for c in p.candidates} == {"aws"}
    assert p.not_enabled == {"gcp": NOT_ENABLED, "local": NOT_ENABLED}
    assert [c.instance_type for c in p.candidates_elsewhere] == ["a2-highgpu-8g"]
    assert p.require() is p

    only_gcp = run(Resources(accelerators=gpus("H100:8"), cloud="gcp"), enabled_clouds={"aws"})
    assert only_gcp.candidates == [] and only_gcp.not_enabled == {"gcp": NOT_ENABLED}
    assert only_gcp.candidates_elsewhere[0].cloud == "gcp"
    with pytest.raises(NoOffering, match=r"only gcp offers this.*skytui check"):
        only_gcp.require()


# ---- saying why nothing fits ----------------------------------------------------------------

def test_unknown_gpu_names_the_known_ones_including_local_gpus() -> None:
    with pytest.raises(NoOffering) as e:
        run(Resources(accelerators=gpus("Z9000:1")))
    assert str(e.value).startswith(
        "no offering has Z9000 GPUs; known: A100, A10G, H100, H200, T4, V100")
    with pytest.raises(NoOffering, match=r"did you mean 'H100'\?"):
        run(Resources(accelerators=gpus("H1000:8")))


def test_spot_region_allowed_and_blocked_failures_say_which() -> None:
    with pytest.raises(NoOffering, match=r"^no spot offering of H100:8 on aws; drop `use_spot`"):
        run(Resources(accelerators=gpus("H100:8"), cloud="aws", use_spot=True))
    with pytest.raises(NoOffering, match=r"no offering of A100:8 in region xyz; it is offered in "
                                         r"aws:us-east-1, aws:us-west-2, gcp:us-central1"):
        run(Resources(accelerators=gpus("A100:8"), region="xyz"))
    with pytest.raises(NoOffering, match=r"in the allowed regions \(aws: eu-west-1; gcp: "
                                         r"europe-west4\)"):
        run(Resources(accelerators=gpus("A100:8")),
            allowed_regions={"aws": ["eu-west-1"], "gcp": ["europe-west4"]})
    everywhere = [Location("aws", "us-east-1"), Location("aws", "us-west-2"),
                  Location("gcp", "us-central1", "us-central1-a")]
    with pytest.raises(NoOffering, match=r"all 4 zones that offer it are blocked"):
        run(Resources(accelerators=gpus("A100:8")), blocked=everywhere)


def test_other_failures_are_typed_messages() -> None:
    with pytest.raises(NoOffering, match=r"unknown cloud 'azure'"):
        run(Resources(cloud="azure"))
    with pytest.raises(NoOffering, match=r"no instance type p5.48xlage on aws; did you mean "
                                         r"'p5.48xlarge'"):
        run(Resources(instance_type="p5.48xlage", cloud="aws"))
    with pytest.raises(NoOffering, match=r"no offering of 1000 vCPUs"):
        run(Resources(cpus=1000))
    with pytest.raises(NoOffering, match=r"^none of the resource choices fits: \(1\) no spot "
                                         r"offering of H100:8 on aws; \(2\) no offering has Q1"):
        run(Resources(accelerators=gpus("H100:8"), cloud="aws", use_spot=True),
            Resources(accelerators=gpus("Q1:1")))


def test_the_real_catalog_plans_a100_spot() -> None:
    p = plan([Resources(accelerators=gpus("A100:8"), use_spot=True)], enabled_clouds={"aws", "gcp"})
    assert p.candidates
    prices = [c.price_per_node for c in p.candidates]
    assert prices == sorted(prices)
    assert all(c.spot and c.accelerator == "A100" and c.accelerator_count == 8
               for c in p.candidates)
    assert {c.cloud for c in p.candidates} == {"aws", "gcp"}
    assert isinstance(p.candidates[0], Candidate)


# ---- show-gpus --------------------------------------------------------------------------------

def test_gpu_table_cheapest_region_per_type() -> None:
    rows = gpu_table("a100", False, [o for c in OFFERS for o in OFFERS[c]])
    assert [(r["cloud"], r["instance_type"], r["region"], r["price"], r["spot_price"])
            for r in rows] == [("gcp", "a2-highgpu-8g", "us-central1", 29.4, 11.0),
                               ("aws", "p4d.24xlarge", "us-east-1", 32.0, 9.0)]
    assert rows[1]["accelerator_memory_gib"] == 40


def test_gpu_table_all_regions_and_everything() -> None:
    everything = [o for c in OFFERS for o in OFFERS[c]]
    rows = gpu_table("A100:8", True, everything)
    assert [(r["instance_type"], r["region"]) for r in rows] == [
        ("a2-highgpu-8g", "us-central1"), ("p4d.24xlarge", "us-east-1"),
        ("p4d.24xlarge", "us-west-2")]
    names = [(r["accelerator"], r["count"], r["instance_type"])
             for r in gpu_table(None, False, everything)]
    assert names == [("A100", 8, "a2-highgpu-8g"), ("A100", 8, "p4d.24xlarge"),
                     ("A10G", 1, "g5.xlarge"), ("H100", 8, "a3-highgpu-8g"),
                     ("H100", 8, "p5.48xlarge"), ("H200", 1, "local-h200x1"),
                     ("T4", 1, "n1-standard-8"), ("V100", 1, "n1-standard-8")]


def test_gpu_table_refuses_unknown_names_with_a_suggestion() -> None:
    offers = catalog.offerings(["aws", "gcp"])
    with pytest.raises(NoOffering, match=r"no offering has H10 GPUs.*did you mean 'H100'"):
        gpu_table("H10", False, offers)
    with pytest.raises(NoOffering, match=r"no offering of A100:3; A100 comes as A100:1, A100:2"):
        gpu_table("A100:3", False, offers)
    with pytest.raises(NoOffering, match=r"bad GPU count"):
        gpu_table("A100:x", False, offers)
    rows = gpu_table("H100:8", False, offers)
    assert {r["cloud"] for r in rows} == {"aws", "gcp"}
