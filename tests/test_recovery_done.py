"""Issue 13's "done when", end to end: `skytui local preempt` on a running spot job."""

from __future__ import annotations

import asyncio
from pathlib import Path

from test_recovery_alerts import Receiver
from test_watcher_support import (
    FAST,
    job_task,
    make_core,
    skytui_cmd,
    wait_status,
    wait_until,
    watching,
    write_config,
)

from skytui.config_model import NotifySettings
from skytui.core.jobs import attempt_log_path, submit


async def test_preempt_shows_the_story_keeps_every_line_and_tells_the_webhook(tmp_path: Path) -> None:
    truth = tmp_path / "printed"
    receiver = Receiver()
    try:
        write_config("local: {preemption_notice_seconds: 1}\n")  # what the CLI's cloud reads
        core = make_core(notify=NotifySettings(webhook=receiver.url))
        run = f'i=0; while :; do i=$((i+1)); echo "line $i"; echo $i >> {truth}; sleep 0.05; done'
        task = job_task(run)
        job_id = submit(core, task)
        async with watching(core, FAST):
            await wait_status(core, job_id, "RUNNING")
            await asyncio.sleep(2)
            cluster = core.store.job(job_id).cluster  # type: ignore[union-attr]
            r = await asyncio.to_thread(skytui_cmd, "local", "preempt", cluster)
            assert r.returncode == 0, r.stderr
            assert "notice sent" in r.stdout and "preempted in 1s" in r.stdout
            await wait_until(lambda: core.store.job(job_id).attempts == 2  # type: ignore[union-attr]
                             and core.store.job(job_id).status == "RUNNING", 40, "attempt 2 running")
            await wait_until(lambda: "recovered" in receiver.kinds(), 20, "the recovery alert")
        # Events, oldest first: notice -> preempted -> recovering -> running, with times.
        story = [e for e in core.store.events(job_id=job_id)
                 if e.reason in ("notice", "preempted", "recovering", "running")]
        reasons = [e.reason for e in story]
        start = reasons.index("notice")
        compact = [r for k, r in enumerate(reasons[start:]) if k == 0 or reasons[start + k - 1] != r]
        assert compact == ["notice", "preempted", "recovering", "running"]
        assert [e.ts for e in story] == sorted(e.ts for e in story)
        # `skytui jobs logs 1` holds every line attempt 1 printed (it stopped at the notice's SIGTERM).
        r = skytui_cmd("jobs", "logs", str(job_id))
        assert r.returncode == 0, r.stderr
        printed = truth.read_text().split()  # both attempts; the second starts again at 1
        restart = printed.index("1", 1) if printed.count("1") > 1 else len(printed)
        log1 = attempt_log_path(job_id, 1).read_text()
        assert [line.split()[1] for line in log1.splitlines() if line.startswith("line ")] == printed[:restart]
        assert log1 in r.stdout
        assert "[skytui] preemption notice from the cloud" in r.stdout
        # The webhook heard each step.
        kinds = receiver.kinds()
        assert kinds.count("preemption") >= 2 and "recovered" in kinds  # the notice, the preemption
    finally:
        receiver.close()
