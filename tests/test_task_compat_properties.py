"""Property tests: any valid accelerator set and any any_of/ordered list round-trips the loader."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from skytui.catalog.accelerators import KNOWN
from skytui.errors import TaskError
from skytui.task import load_task_text
from skytui.task.spec import Accelerator, Resources

FAST = settings(deadline=None, max_examples=150)

COUNTS = st.one_of(st.integers(1, 16), st.sampled_from([0.25, 0.5, 0.75]))
SETS = st.lists(st.tuples(st.sampled_from(KNOWN), COUNTS), min_size=1, max_size=5,
                unique_by=lambda p: p[0])
FORMS = st.sampled_from(["flow string", "mapping", "list of strings", "list of mappings"])


def _spec(name: str, count: float) -> str:
    return f"{name}:{count:g}"


@FAST
@given(SETS, FORMS)
def test_accelerator_sets_round_trip(pairs: list[tuple[str, int | float]], form: str) -> None:
    value: Any
    if form == "flow string":
        value = "{" + ", ".join(_spec(n, c) for n, c in pairs) + "}"
    elif form == "mapping":
        value = dict(pairs)
    elif form == "list of strings":
        value = [_spec(n, c) for n, c in pairs]
    else:
        value = [{n: c} for n, c in pairs]
    task = load_task_text(yaml.safe_dump({"resources": {"accelerators": value}}, sort_keys=False),
                          "p.yaml")
    (r,) = task.resources
    assert r.accelerators == tuple(Accelerator(n, c) for n, c in pairs)
    assert r.accelerators_ordered == (form.startswith("list") and len(pairs) > 1)
    assert task.notes == ()


IN_REACH = st.fixed_dictionaries({}, optional={
    "cloud": st.sampled_from(["aws", "gcp", "local"]),
    "accelerators": st.tuples(st.sampled_from(KNOWN), COUNTS).map(lambda p: _spec(*p)),
    "use_spot": st.booleans(),
    "disk_tier": st.sampled_from(["low", "medium", "high", "ultra", "best"]),
    "network_tier": st.sampled_from(["standard", "best"]),
    "disk_size": st.integers(1, 4096),
})
OUT_OF_REACH = st.sampled_from([{"infra": "kubernetes"}, {"cloud": "azure"}, {"infra": "oci/x"},
                                {"accelerators": "tpu-v4-8"}, {"accelerators": "MI300:8"}])
ALTERNATIVES = st.lists(st.one_of(IN_REACH.map(lambda d: ("in", d)),
                                  OUT_OF_REACH.map(lambda d: ("out", d))), min_size=1, max_size=6)


def _expected(alt: dict[str, Any]) -> Resources:
    acc = ()
    if "accelerators" in alt:
        name, _, count = alt["accelerators"].partition(":")
        acc = (Accelerator(name, float(count) if "." in count else int(count)),)
    return Resources(cloud=alt.get("cloud"), accelerators=acc, use_spot=alt.get("use_spot", False),
                     disk_tier=alt.get("disk_tier"), network_tier=alt.get("network_tier"),
                     disk_size=alt.get("disk_size", 256))


@FAST
@given(ALTERNATIVES, st.sampled_from(["any_of", "ordered"]))
def test_any_of_and_ordered_round_trip(alts: list[tuple[str, dict[str, Any]]], key: str) -> None:
    text = yaml.safe_dump({"resources": {key: [a for _, a in alts]}, "run": "x"}, sort_keys=False)
    kept = [a for kind, a in alts if kind == "in"]
    try:
        task = load_task_text(text, "p.yaml")
    except TaskError as e:
        assert not kept, str(e)  # refused only when no alternative is left
        assert "\n" not in str(e) and str(e).startswith("p.yaml:")
        return
    assert kept
    assert list(task.resources) == [_expected(a) for a in kept]
    assert task.resources_ordered == (key == "ordered")
    dropped = len(alts) - len(kept)
    assert len(task.notes) == (dropped if len(alts) > 1 else 0)
    assert all(n.startswith("p.yaml:") and "left out" in n for n in task.notes)
