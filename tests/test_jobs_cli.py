"""`skytui jobs ID`: a job's attempts and its decision trail, through the real CLI."""

from __future__ import annotations

from pathlib import Path

from test_cli import skytui

from skytui.core.context import Core
from skytui.core.jobs import submit
from skytui.store import Attempt
from skytui.task.spec import Task


def test_job_detail_shows_attempts_and_events(sandbox: Path) -> None:
    core = Core()
    job_id = submit(core, Task(name="train", run="python train.py"))
    core.store.add_attempt(Attempt(job_id, 1, f"train-{job_id}", "r1", 1000.0, "local", "local-1", "a"))
    core.store.end_attempt(job_id, 1, "preempted")
    core.store.add_event("job", "train preempted in local-1/a at 14:02; relaunching in local-2/a", job_id=job_id)
    done = skytui("jobs", str(job_id))
    assert done.returncode == 0, done.stderr
    assert "local local-1/a" in done.stdout and "preempted" in done.stdout
    assert "relaunching in local-2/a" in done.stdout
    assert skytui("jobs", "999").returncode == 2
    bad = skytui("jobs", "frobnicate")
    assert bad.returncode == 2 and "unknown action" in bad.stderr
