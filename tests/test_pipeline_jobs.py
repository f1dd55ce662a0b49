"""A multi-document task file as a managed-job pipeline, on the local cloud with the real watcher."""

from __future__ import annotations

from pathlib import Path

from test_watcher_support import (
    FAST,
    job_task,
    make_core,
    preempt_job,
    wait_status,
    wait_until,
    watching,
)

from skytui.core.jobs import attempt_log_path
from skytui.core.jobs.pipeline import earlier_stage, submit_pipeline
from skytui.task.loader import load_pipeline_text


async def test_stages_run_in_turn_and_a_preempted_stage_recovers() -> None:
    core = make_core()
    first = job_task("echo one; sleep 4; echo one-done", name="prep")
    second = job_task("echo two", name="train")
    got = submit_pipeline(core, [first, second], name="chain")
    a, b = got.job_ids
    assert earlier_stage(core.store.job(b)) == a and earlier_stage(core.store.job(a)) is None  # type: ignore[arg-type]
    async with watching(core, FAST):
        await wait_status(core, a, "RUNNING")
        assert core.store.job(b).status == "PENDING"  # type: ignore[union-attr]
        await wait_until(lambda: attempt_log_path(a, 1).exists(), 10, "stage 1 log")
        preempt_job(core, a)  # a stage is recovered like any managed job
        await wait_until(lambda: core.store.job(a).attempts == 2, 30, "stage 1 relaunched")  # type: ignore[union-attr]
        assert core.store.job(b).status == "PENDING"  # type: ignore[union-attr]
        await wait_status(core, a, "SUCCEEDED", timeout=60)
        await wait_status(core, b, "SUCCEEDED", timeout=60)
    assert attempt_log_path(b, 1).read_text() == "two\n"
    assert core.store.job(a).ended_at <= core.store.job(b).started_at  # type: ignore[union-attr,operator]
    assert [core.store.job(i).name for i in got.job_ids] == ["chain-prep", "chain-train"]  # type: ignore[union-attr]


async def test_a_failed_stage_cancels_the_stages_after_it() -> None:
    core = make_core()
    got = submit_pipeline(core, [job_task("exit 3", name="a", spot=False),
                                 job_task("echo never", name="b", spot=False),
                                 job_task("echo never", name="c", spot=False)])
    a, b, c = got.job_ids
    async with watching(core, FAST):
        await wait_status(core, a, "FAILED", timeout=60)
        await wait_status(core, b, "CANCELLED", timeout=30)
        await wait_status(core, c, "CANCELLED", timeout=30)
    assert core.store.job(b).attempts == 0  # type: ignore[union-attr]
    assert f"job {a}, ended FAILED" in core.store.job(b).last_event  # type: ignore[union-attr,operator]


def test_jobs_launch_of_a_multi_document_file(sandbox: Path) -> None:
    from test_cli import skytui

    f = sandbox / "chain.yaml"
    f.write_text("name: chain\n---\nname: prep\nresources: {cloud: local}\nrun: echo a\n"
                 "---\nname: train\nresources: {cloud: local}\nrun: echo b\n")
    done = skytui("jobs", "launch", str(f), "--yes")
    assert done.returncode == 0, done.stderr
    assert "pipeline chain: 2 stages submitted as managed jobs 1, 2" in done.stdout
    pipe = load_pipeline_text(f.read_text(), str(f))
    assert [t.name for t in pipe.tasks] == ["prep", "train"]
    dry = skytui("launch", "--dry-run", str(f))
    assert dry.returncode == 2 and "run it as one managed job with `skytui jobs launch" in dry.stderr
