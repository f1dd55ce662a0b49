"""`skytui --demo` on the real local cloud, and what happens to our own bugs (the log, not the screen)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from test_tui_conf import make_app, real_nodes_env, seeded_core

from skytui.config_model import Config
from skytui.core.context import Core
from skytui.core.demo import DEV_VMS, JOB_NAME, preempt_demo_job, start_demo
from skytui.store import Store


@pytest.mark.slow
async def test_demo_fleet_comes_up_and_its_spot_job_gets_preempted(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from skytui.providers.base import LaunchSpec
    from skytui.providers.local.provider import LocalCloud
    from skytui.store import current_user

    real_nodes_env(monkeypatch)
    core = Core(config=Config(), store=Store(tmp_path / "state.db"))
    try:
        fleet = await start_demo(core)
        assert [core.store.cluster(n).status for n in DEV_VMS] == ["UP", "UP"]
        job = core.store.job(fleet.job_id)
        assert job is not None and job.name == JOB_NAME and job.spot == 1
        again = await start_demo(core)  # idempotent: nothing new
        assert again.job_id == fleet.job_id and len(core.store.clusters()) == 2
        # Stand in for the watcher: put the job on a spot node, then let the demo preempt it.
        cloud = LocalCloud(core.config.local)
        await cloud.launch(LaunchSpec(
            request_id="demo-stand-in", cluster=job.cluster or "", num_nodes=1, region="local-1", zone="a",
            instance_type="local-cpu2", spot=True, user=current_user(), ssh_public_key=core.user_key[1],
            job_id=job.id, store_id=core.store.store_id))
        core.store.transition_job(job.id, ["PENDING"], "RUNNING")
        stop = asyncio.Event()
        preempter = asyncio.create_task(preempt_demo_job(core, stop, every=0.2))
        for _ in range(100):
            states = [i.state for i in cloud.list_all() if i.cluster == job.cluster]
            if states and all(s == "terminated" for s in states):
                break
            await asyncio.sleep(0.1)
        stop.set()
        await preempter
        assert states and all(s == "terminated" for s in states)
    finally:
        await core.aclose()


async def test_a_bug_goes_to_the_log_not_the_terminal(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                      capfd: pytest.CaptureFixture[str]) -> None:
    app = make_app(seeded_core(tmp_path))
    with pytest.raises(ZeroDivisionError), caplog.at_level(logging.ERROR, "skytui.tui"):
        async with app.run_test() as pilot:
            app.call_later(lambda: 1 / 0)
            await pilot.pause()
    # Textual prints the crash on shutdown to the app's error console: ours writes it to the log.
    assert any("unhandled error" in r.getMessage() and "ZeroDivisionError" in r.getMessage()
               for r in caplog.records)
    assert "ZeroDivisionError" not in capfd.readouterr().err


def test_setup_logging_writes_to_the_log_dir() -> None:
    from skytui.cli.app import setup_logging
    from skytui.paths import log_dir

    path = setup_logging()
    try:
        logging.getLogger("skytui.tui").error("visible in the file")
        for h in logging.getLogger("skytui").handlers:
            h.flush()
        assert path.parent == log_dir() and "visible in the file" in path.read_text()
    finally:
        for h in list(logging.getLogger("skytui").handlers):
            if getattr(h, "baseFilename", None) == str(path):
                logging.getLogger("skytui").removeHandler(h)
                h.close()
