"""Property tests: no input makes the task loader fail with anything but a positioned TaskError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from skytui.catalog.accelerators import KNOWN
from skytui.errors import TaskError
from skytui.task import load_task, load_task_text
from skytui.task.loader import TASK_FIELDS
from skytui.task.resources import RESOURCE_FIELDS
from skytui.task.spec import Accelerator, Task

FAST = settings(deadline=None, max_examples=200)


def outcome(text: str) -> Task | TaskError:
    """Load `text`; a TaskError is a fine answer, anything else fails the property."""
    try:
        task = load_task_text(text, "p.yaml")
    except TaskError as e:
        assert "internal error" not in str(e), str(e)
        assert str(e).startswith("p.yaml:")
        assert e.line >= 1 and e.col >= 1
        return e
    assert isinstance(task, Task)
    return task


# Pieces that steer random text into YAML's and our corners.
TOKENS = st.sampled_from([
    ":", ": ", "- ", "[", "]", "{", "}", ",", "\n", "  ", "    ", "&a ", "*a", "<<: ", "!!str ",
    "!!python/object ", "? ", "|\n", ">-\n", "'", '"', "#", "~", "null", "true", "0", "-1",
    "8+", "A100:8", "H100", "aws/us-east-1", "*/", "10000-10010", "---\n", "...\n", "\t",
    *TASK_FIELDS, *RESOURCE_FIELDS, "idle_minutes", "strategy", "FAILOVER", "max_restarts_on_errors",
])


@FAST
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    outcome(text)


@FAST
@given(st.lists(TOKENS, max_size=60).map("".join))
def test_yaml_shaped_text(text: str) -> None:
    outcome(text)


@FAST
@given(st.binary(max_size=400))
def test_random_bytes_from_a_file(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "p.yaml"
        path.write_bytes(data)
        try:
            load_task(path)
        except TaskError as e:
            assert "internal error" not in str(e), str(e)
            assert str(e).startswith(str(path))
    outcome(data.decode("latin-1"))


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 70000), st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["A100:8", "a100", "H100:0", "L4:1", "8+", "aws", "gcp", "local",
                     "aws/us-east-1/us-east-1a", "*/us-west-2", "FAILOVER", "eager_next_region",
                     "10000-10010", "2h", "us-east-1", "us-east-1a"]),
)
KEYS = st.one_of(
    st.sampled_from(TASK_FIELDS + RESOURCE_FIELDS + (
        "strategy", "max_restarts_on_errors", "recover_on_exit_codes", "idle_minutes", "down",
        "A100", "H100", "FOO", "1BAD")),
    st.text(max_size=10),
)
STRUCTURES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=10,
)
RESOURCES = st.dictionaries(st.sampled_from(RESOURCE_FIELDS), STRUCTURES, max_size=6)
TASKS = st.fixed_dictionaries({}, optional={
    "name": STRUCTURES, "num_nodes": STRUCTURES, "envs": STRUCTURES, "secrets": STRUCTURES,
    "file_mounts": STRUCTURES, "run": STRUCTURES, "workdir": STRUCTURES,
    "resources": st.one_of(RESOURCES, STRUCTURES),
})


@FAST
@given(TASKS)
def test_random_task_structures(data: dict) -> None:
    outcome(yaml.safe_dump(data, default_flow_style=False, allow_unicode=True))


@FAST
@given(st.dictionaries(KEYS, STRUCTURES, max_size=6))
def test_random_mappings_in_flow_style(data: dict) -> None:
    outcome(yaml.safe_dump(data, default_flow_style=True))


@FAST
@given(
    st.lists(st.tuples(st.sampled_from(KNOWN), st.integers(1, 64)), min_size=1, max_size=4,
             unique_by=lambda p: p[0]),
    st.sampled_from(["list", "mapping", "one"]),
)
def test_valid_accelerators_round_trip(pairs: list[tuple[str, int]], form: str) -> None:
    if form == "one":
        pairs = pairs[:1]
        value: object = f"{pairs[0][0].lower()}:{pairs[0][1]}"
    elif form == "list":
        value = [f"{n}:{c}" for n, c in pairs]
    else:
        value = {n: c for n, c in pairs}
    task = outcome(yaml.safe_dump({"resources": {"accelerators": value}}, sort_keys=False))
    assert isinstance(task, Task)
    assert task.resources[0].accelerators == tuple(Accelerator(n, c) for n, c in pairs)


@FAST
@given(st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True),
                       st.one_of(st.none(), st.text(max_size=30), st.integers()), max_size=8))
def test_valid_envs_round_trip(envs: dict) -> None:
    task = outcome(yaml.safe_dump({"envs": envs, "run": "env"}, sort_keys=False))
    assert isinstance(task, Task)
    expected = {k: (None if v is None else str(v)) for k, v in envs.items()}
    assert task.envs == expected
    assert task.missing_envs() == [k for k, v in envs.items() if v is None]
