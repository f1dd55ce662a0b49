"""Managed-job submission, the queue's JSON shape, secrets kept out of the store, cancel without a watcher."""

from __future__ import annotations

import json
import os
import stat

import pytest
from test_watcher_support import job_task, make_core

from skytui.cli.main import main
from skytui.core.jobs import load_secrets, queue_rows, submit, task_from_json, task_to_json
from skytui.core.jobs.secrets import secrets_path
from skytui.errors import NameError_, SkytuiError
from skytui.task.spec import Accelerator, Autostop, JobRecovery, Resources, Task

QUEUE_KEYS = ["id", "name", "status", "cluster", "cloud", "region", "zone", "spot", "recoveries", "attempts",
              "submitted_at", "started_at", "ended_at", "duration_s", "last_event"]


def test_task_json_round_trip_keeps_nested_resources() -> None:
    task = Task(name="t", workdir="~/w", num_nodes=2, envs={"A": "1"}, file_mounts={"~/d": "/tmp"},
                setup="pip install x", run="python train.py", resources_ordered=True, source="t.yaml",
                resources=(Resources(cloud="aws", region="us-east-1", accelerators=(Accelerator("H100", 8),),
                                     cpus=8, cpus_at_least=True, use_spot=True, ports=("8080",),
                                     job_recovery=JobRecovery("FAILOVER", 2, (137,)),
                                     autostop=Autostop(30, True)),
                           Resources(cloud="gcp", memory=64.0)))
    assert task_from_json(task_to_json(task)) == task


def test_secrets_stay_out_of_the_store_in_a_private_file() -> None:
    core = make_core()
    task = job_task()
    task.secrets = {"HF_TOKEN": "hf_s3cret"}
    job_id = submit(core, task)
    job = core.store.job(job_id)
    assert job is not None and "hf_s3cret" not in job.task_json
    assert stat.S_IMODE(os.stat(secrets_path(job_id)).st_mode) == 0o600
    assert task_from_json(job.task_json, load_secrets(job_id)).secrets == {"HF_TOKEN": "hf_s3cret"}


def test_submit_names_the_cluster_and_the_queue_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    core = make_core()
    job_id = submit(core, job_task(name="my-train"))
    rows = queue_rows(core)
    assert [list(r) for r in rows] == [QUEUE_KEYS]
    assert rows[0]["cluster"] == f"my-train-job{job_id}" and rows[0]["status"] == "PENDING" and rows[0]["spot"]
    assert main(["jobs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == job_id


def test_submit_refuses_bad_names_and_tasks_without_run() -> None:
    core = make_core()
    with pytest.raises(NameError_):
        submit(core, job_task(), name="Bad_Name")
    with pytest.raises(SkytuiError, match="needs a `run`"):
        submit(core, Task(name="x"))


def test_cancel_without_a_watcher_ends_the_job_here(capsys: pytest.CaptureFixture[str]) -> None:
    core = make_core()
    job_id = submit(core, job_task())
    assert main(["jobs", "cancel", str(job_id)]) == 0
    assert "cancelled" in capsys.readouterr().out
    assert core.store.job(job_id).status == "CANCELLED"  # type: ignore[union-attr]
    assert main(["jobs", "cancel", str(job_id)]) == 2  # already ended: a one-line error
    assert "already ended" in capsys.readouterr().err
