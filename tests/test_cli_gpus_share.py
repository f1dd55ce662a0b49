"""`--gpus` takes the counts a task file takes: whole GPUs, or a share of one (T4:0.5)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from skytui.core.resources import Overrides, apply, parse_gpus
from skytui.errors import SkytuiError
from skytui.task.loader import load_task_text

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize(("spec", "name", "count"), [
    ("T4:0.5", "T4", 0.5), ("t4:.25", "T4", 0.25), ("H100:8", "H100", 8), ("A100", "A100", 1),
    ("L4:1.0", "L4", 1), ("Inferentia2:6", "Inferentia2", 6),
])
def test_gpus_flag_counts_match_the_task_file(spec: str, name: str, count: float) -> None:
    acc = parse_gpus(spec)
    assert (acc.name, acc.count) == (name, count)
    assert type(acc.count) is type(count)  # whole counts stay int, shares stay float
    yaml_count = load_task_text(f"resources:\n  accelerators: {spec}\n", "t.yaml").resources[0]
    assert yaml_count.accelerators[0] == acc


@pytest.mark.parametrize(("spec", "problem"), [
    ("T4:1.5", "GPU count 1.5 is a fraction above 1"),
    ("T4:0", "GPU count must be more than 0, got 0"),
    ("T4:-1", "GPU count must be more than 0, got -1"),
    ("T4:half", "GPU count 'half' is not a number"),
])
def test_gpus_flag_refuses_what_the_task_file_refuses(spec: str, problem: str) -> None:
    with pytest.raises(SkytuiError) as err:
        parse_gpus(spec)
    assert str(err.value).startswith(f"--gpus {spec!r}: {problem}") and "\n" not in str(err.value)


def test_a_share_overrides_every_alternative() -> None:
    task = load_task_text("resources:\n  any_of:\n    - accelerators: A100:1\n"
                          "    - accelerators: H100:1\n", "t.yaml")
    shared = apply(task, Overrides(gpus="T4:0.5"))
    assert {r.accelerators[0].count for r in shared.resources} == {0.5}


def _skytui(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skytui.cli.main", *args], capture_output=True,
                          text=True, timeout=120, env=os.environ.copy(), cwd=ROOT)


def test_launch_dry_run_plans_a_gpu_share(tmp_path: Path) -> None:
    task, in_yaml = tmp_path / "task.yaml", tmp_path / "share.yaml"
    task.write_text("run: nvidia-smi\n")
    in_yaml.write_text("resources:\n  accelerators: T4:0.5\nrun: nvidia-smi\n")
    done = _skytui("launch", "--dry-run", "--gpus", "T4:0.5", str(task))
    assert done.returncode == 0, done.stderr
    same = _skytui("launch", "--dry-run", str(in_yaml))
    assert "T4:1" in done.stdout  # a share of a GPU runs on a node with one
    assert done.stdout.splitlines()[1:] == same.stdout.splitlines()[1:]  # as the file plans it
    bad = _skytui("launch", "--dry-run", "--gpus", "T4:2.5", str(task))
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "skytui: error: --gpus 'T4:2.5': GPU count 2.5 is a fraction above 1; ask for whole GPUs "
        "above 1 (A100:2), or a share below 1 (T4:0.5)"]
