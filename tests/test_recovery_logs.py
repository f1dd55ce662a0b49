"""A managed job's cluster: `skytui logs CLUSTER`, `skytui queue CLUSTER`, and "no job yet" (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

from test_tui_conf import wait_for
from test_watcher_support import (
    FAST,
    job_task,
    make_core,
    skytui_cmd,
    wait_status,
    wait_until,
    watching,
)
from textual.app import App

from skytui.core.jobs import attempt_log_path, submit
from skytui.core.logs import NoJobYet
from skytui.tui.screens.logs import LogScreen


async def test_logs_and_queue_of_a_managed_jobs_cluster_read_the_local_store() -> None:
    core = make_core()
    job_id = submit(core, job_task("echo hello from the job; sleep 60"))
    async with watching(core, FAST):
        await wait_status(core, job_id, "RUNNING")
        await wait_until(lambda: attempt_log_path(job_id, 1).exists()
                         and "hello" in attempt_log_path(job_id, 1).read_text(), 20, "the log")
        cluster = core.store.job(job_id).cluster  # type: ignore[union-attr]
        r = skytui_cmd("logs", cluster)
        assert r.returncode == 0, r.stderr
        assert "hello from the job" in r.stdout and f"managed job {job_id}" in r.stderr
        r = skytui_cmd("queue", cluster, "--json")
        assert r.returncode == 0, r.stderr
        (row,) = json.loads(r.stdout)
        assert (row["kind"], row["id"], row["status"], row["managed_job_id"]) == ("managed", 1, "RUNNING", job_id)
        r = skytui_cmd("queue", cluster)
        assert r.returncode == 0 and f"managed job {job_id}" in r.stdout


def test_queue_of_an_unknown_cluster_is_one_line_exit_2() -> None:
    r = skytui_cmd("queue", "nope")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


class Host(App[None]):
    def __init__(self, screen: LogScreen) -> None:
        super().__init__()
        self.log_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.log_screen)


async def test_no_job_yet_is_one_line_in_the_log_screen_not_a_reconnect_loop(tmp_path: Path) -> None:
    calls = 0

    async def source(emit) -> None:  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        raise NoJobYet("cluster box has run no job yet", "run one: skytui exec box -- CMD")

    screen = LogScreen("test", source, tmp_path)
    async with Host(screen).run_test() as pilot:
        await wait_for(pilot, lambda: bool(screen.lines), 10)
        await pilot.pause(1.5)  # longer than the first retry delay
        assert calls == 1
        assert screen.lines == ["[skytui] cluster box has run no job yet; run one: skytui exec box -- CMD"]
