"""Compatibility features through a real launch on the local cloud (real nodes, real SSH)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from skytui.config_model import Config, LocalSettings
from skytui.core import clusters
from skytui.core.context import Core
from skytui.task.loader import load_task_text

pytestmark = pytest.mark.slow


def _git(*args: str, cwd: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


async def test_git_workdir_and_tiers_reach_the_node(sandbox: Path) -> None:
    repo = sandbox / "repo"
    repo.mkdir()
    _git("init", "-q", "-b", "main", cwd=repo)
    (repo / "model.txt").write_text("v1\n")
    _git("add", "model.txt", cwd=repo)
    _git("commit", "-qm", "v1", cwd=repo)
    _git("tag", "v1", cwd=repo)
    (repo / "model.txt").write_text("v2\n")
    _git("commit", "-qam", "v2", cwd=repo)
    task = load_task_text(
        f"workdir:\n  url: file://{repo}\n  ref: v1\n"
        "resources:\n  cloud: local\n  disk_tier: best\n  network_tier: best\n"
        "run: cat model.txt; echo disk=$SKYTUI_DISK_TIER net=$SKYTUI_NETWORK_TIER\n", "t.yaml")
    core = Core(config=Config(local=LocalSettings()))
    out: list[str] = []
    try:
        res = await clusters.launch(core, "gitwd", task, clusters.LaunchOptions(),
                                    on_output=lambda text, _: out.append(text))
        assert res.exit_code == 0, "".join(out)
        assert "".join(out) == "v1\ndisk=best net=best\n"  # checked out at the tag, in the workdir
    finally:
        await clusters.down(core, "gitwd")
