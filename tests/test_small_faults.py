"""The smaller faults of issue 12 (item 10), each with the test that found it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from skytui.errors import SkytuiError


# -- CSV/FOCUS: the formula guard --------------------------------------------------------------------
@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\tx"])
def test_cells_a_spreadsheet_would_run_get_the_formula_guard(text: str) -> None:
    import csv
    import io

    from skytui.core.costs.formats.common import cell

    out = cell(text)
    (parsed,) = next(csv.reader(io.StringIO(out)))  # still one valid CSV field
    assert parsed == "'" + text


def test_plain_cells_are_unchanged() -> None:
    from skytui.core.costs.formats.common import cell

    assert cell("train-job1") == "train-job1" and cell("a,b") == '"a,b"' and cell("") == ""


def test_an_exported_csv_guards_a_hostile_user_name(tmp_path: Path) -> None:
    from skytui.core.costs.export import csv_report
    from skytui.store import Store

    store = Store(tmp_path / "s.db")
    store.open_usage(cluster="c", node=0, job_id=None, attempt=None, user="=cmd|' /C calc'!A0", cloud="local",
                     region="local-1", zone="a", instance_type="t", accelerator=None, accelerator_count=0,
                     spot=0, price_per_hour=1.0, on_demand_price_per_hour=1.0, estimate_source="x")
    text = "".join(c if isinstance(c, str) else c.decode() for c in
                   csv_report(store, since=None, until=None, now=store.clock() + 60, currency="USD"))
    assert "\"'=cmd|" in text and ",=cmd" not in text


# -- cost-report -o: a link stays a link, a file keeps its mode ------------------------------------------
def test_report_output_writes_through_a_symlink_and_keeps_the_mode(tmp_path: Path) -> None:
    from skytui.core.costs.report import write_chunks

    real = tmp_path / "shared" / "costs.csv"
    real.parent.mkdir()
    real.write_text("old\n")
    os.chmod(real, 0o600)
    link = tmp_path / "costs.csv"
    link.symlink_to(real)
    write_chunks(["new\n"], link)
    assert link.is_symlink() and real.read_text() == "new\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


# -- crash.log: no --env values, 0600 -----------------------------------------------------------------
def test_crash_log_hides_env_values_and_is_private(monkeypatch: pytest.MonkeyPatch) -> None:
    from skytui.cli.errors import run_guarded
    from skytui.paths import log_dir

    monkeypatch.setattr(sys, "argv", ["skytui", "launch", "--env", "TOKEN=hunter2", "--env=KEY=s3cret",
                                      "-e", "PLAIN", "t.yaml"])

    def boom() -> int:
        raise RuntimeError("a bug")

    assert run_guarded(boom) == 1
    log = log_dir() / "crash.log"
    text = log.read_text()
    assert "hunter2" not in text and "s3cret" not in text
    assert "TOKEN=***" in text and "--env=KEY=***" in text and "PLAIN" in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


# -- names and ids: `$` let a trailing newline through ----------------------------------------------------
@pytest.mark.parametrize("bad", ["job\n", "a\n"])
def test_ids_with_a_trailing_newline_are_refused(bad: str) -> None:
    from skytui.remote.hostkeys import known_hosts_line
    from skytui.remote.jobs import check_job_id

    with pytest.raises(ValueError):
        check_job_id(bad)
    with pytest.raises(ValueError):
        known_hosts_line(bad, "ssh-ed25519 AAAA")


def test_env_names_with_a_trailing_newline_are_refused() -> None:
    from skytui.remote.exec import with_env

    with pytest.raises(ValueError):
        with_env("true", {"A\n": "1"})


# -- a non-ASCII env name is a user error, not an internal one ------------------------------------------
@pytest.mark.parametrize("item", ["ñ=1", "É", "a-b=1"])
def test_a_non_ascii_env_name_is_one_line_exit_2(item: str) -> None:
    from skytui.cli.commands import parse_envs

    with pytest.raises(SkytuiError, match="valid name"):
        parse_envs([item])


# -- the crash hook ignores a value it cannot read ------------------------------------------------------
def test_a_bad_crash_hook_value_does_not_break_an_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    from skytui.core.watcher.hooks import CRASH_ENV, crash_point

    monkeypatch.setenv(CRASH_ENV, "after-launch:two")
    crash_point("after-launch", 2)  # neither raises nor kills us


# -- a killed job's zombie is not running ----------------------------------------------------------------
def test_a_zombie_wrapper_reads_as_gone(tmp_path: Path) -> None:
    from skytui.remote.jobs import parse_states, states_command

    zombie = subprocess.Popen(["sleep", "0"])  # never waited for: a zombie child of this test
    try:
        for _ in range(100):
            if Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                break
            import time

            time.sleep(0.02)
        job = tmp_path / "home" / ".skytui" / "jobs" / "7"
        job.mkdir(parents=True)
        (job / "pid").write_text(f"{zombie.pid}\n")
        (job / "pgid").write_text(f"{zombie.pid}\n")
        out = subprocess.run(["bash", "-c", states_command()], capture_output=True, text=True,
                             env={**os.environ, "HOME": str(tmp_path / "home")}, timeout=30)
        assert parse_states(out.stdout)["7"].status == "gone", out.stdout + out.stderr
    finally:
        zombie.wait()
