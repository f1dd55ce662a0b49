"""`skytui --daemon` and `skytui daemon status|stop|install` as a user runs them."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from test_watcher_support import FAST_YAML, skytui_cmd, write_config

from skytui.core.watcher import lock_holder


@pytest.mark.slow
def test_daemon_starts_detached_refuses_a_second_and_stops_cleanly() -> None:
    write_config(FAST_YAML)
    started = skytui_cmd("--daemon")
    assert started.returncode == 0, started.stderr
    m = re.fullmatch(r"skytui daemon started \(pid (\d+)\)\n", started.stdout)
    assert m, started.stdout
    pid = int(m.group(1))
    try:
        h = lock_holder()
        assert h is not None and (h.pid, h.kind) == (pid, "daemon")
        again = skytui_cmd("--daemon")
        assert again.returncode == 0 and again.stdout == f"skytui daemon is already running (pid {pid})\n"
        st = skytui_cmd("daemon", "status")
        assert re.fullmatch(rf"running \(pid {pid}\) since .+, watching 0 jobs\n", st.stdout), st.stdout
        from skytui.cli.daemon import log_file

        assert stat.S_IMODE(os.stat(log_file()).st_mode) == 0o600
        assert f"skytui daemon starting (pid {pid})" in log_file().read_text()
        # A session of its own, and not its leader (double fork): it can never regain a terminal.
        assert os.getsid(pid) not in (os.getsid(0), pid)
    finally:
        stopped = skytui_cmd("daemon", "stop")
    assert stopped.stdout == f"skytui daemon stopped (pid {pid})\n"
    assert lock_holder() is None
    assert skytui_cmd("daemon", "status").stdout == "not running\n"
    assert skytui_cmd("daemon", "stop").stdout == "not running\n"


def test_install_writes_a_systemd_user_unit_and_says_how_to_enable_it(tmp_path: Path) -> None:
    out = skytui_cmd("daemon", "install")
    assert out.returncode == 0
    unit = Path(os.environ["XDG_CONFIG_HOME"]) / "systemd" / "user" / "skytui.service"
    text = unit.read_text()
    assert "--daemon --foreground" in text and "[Install]" in text
    assert f"wrote {unit}" in out.stdout and "systemctl --user enable --now skytui.service" in out.stdout


@pytest.mark.slow
async def test_done_when_a_spot_job_recovers_by_itself_with_only_the_daemon_watching() -> None:
    import json

    from test_watcher_support import make_core, wait_until

    write_config(FAST_YAML)
    repo = Path(__file__).resolve().parents[1]
    out = skytui_cmd("jobs", "launch", str(repo / "examples" / "train-spot.yaml"), "--spot", "--yes",
                     "--env", "TOTAL_STEPS=100000", "--env", "STEP_SECONDS=0.1")
    assert out.returncode == 0, out.stderr
    assert "managed job 1 submitted (cluster train-spot-job1)" in out.stdout
    assert "started the watcher daemon" in out.stdout
    core = make_core()
    try:
        await wait_until(lambda: core.store.job(1).status == "RUNNING", 30, "the job running")  # type: ignore[union-attr]
        # Output is fetched as the job is checked; what a node printed after the last check is lost with it.
        await wait_until(lambda: "starting fresh" in skytui_cmd("jobs", "logs", "1").stdout, 20, "first output")
        from skytui.core.storage import local

        await wait_until(lambda: any(local.bucket_dir("train-spot-ckpt").glob("*/state.json")), 20,
                         "a checkpoint in the bucket")
        pre = skytui_cmd("local", "preempt", "train-spot-job1")
        assert pre.returncode == 0, pre.stderr
        await wait_until(lambda: core.store.job(1).status == "RUNNING"  # type: ignore[union-attr]
                         and core.store.job(1).attempts == 2, 90, "the recovery")  # type: ignore[union-attr]
        (row,) = json.loads(skytui_cmd("jobs", "--json").stdout)
        assert row["recoveries"] == 1 and row["status"] == "RUNNING" and row["region"] == "local-2"
        table = skytui_cmd("jobs")
        assert "train-spot" in table.stdout and "watched by the daemon" in table.stderr
        # A new VM has an empty disk (as on a real cloud), but the checkpoint is in a local://
        # bucket: attempt 2 resumes from it. Both attempts' output is kept in order.
        await wait_until(lambda: "resuming from step" in skytui_cmd("jobs", "logs", "1").stdout, 20,
                         "the second attempt's output")
        assert skytui_cmd("jobs", "logs", "1").stdout.count("starting fresh") == 1
        logs = skytui_cmd("jobs", "logs", "1")
        assert logs.stderr.index("attempt 1") < logs.stderr.index("attempt 2")
        status = json.loads(skytui_cmd("status", "--json").stdout)
        assert [(c["name"], c["job_id"]) for c in status] == [("train-spot-job1", 1)]
        assert skytui_cmd("jobs", "cancel", "1").returncode == 0
        await wait_until(lambda: core.store.job(1).status == "CANCELLED", 30, "cancelled")  # type: ignore[union-attr]
    finally:
        stopped = skytui_cmd("daemon", "stop")
    assert stopped.stdout.startswith("skytui daemon stopped")
