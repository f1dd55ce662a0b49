"""The CLI through its real entry point (the installed `skytui` script, or `python -m`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def skytui(*args: str, timeout: float = 60, input: str | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("skytui")
    argv = [exe, *args] if exe else [sys.executable, "-m", "skytui.cli.main", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=os.environ.copy(),
                          input=input, cwd=ROOT)


def test_status_json_on_empty_state_is_an_empty_list() -> None:
    done = skytui("status", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_version_and_help() -> None:
    assert skytui("--version").stdout.startswith("skytui ")
    helptext = skytui("--help").stdout
    for cmd in ("launch", "exec", "status", "jobs", "logs", "ssh", "stop", "start", "down", "autostop",
                "dev", "cost-report", "gpus", "show-gpus", "check", "local"):
        assert cmd in helptext


def test_unknown_flag_is_one_line_exit_2() -> None:
    done = skytui("status", "--bogus")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["Bad_Name", "x;rm -rf ~", "-lead", "a" * 64, "$(whoami)"])
def test_bad_cluster_names_are_refused_before_anything_runs(name: str) -> None:
    done = skytui("stop", "--yes", "--", name)
    assert done.returncode == 2
    assert "invalid cluster name" in done.stderr and "Traceback" not in done.stderr


def test_unknown_cluster_is_a_clear_error() -> None:
    done = skytui("down", "nosuch", "--yes")
    assert done.returncode == 2 and "no cluster named 'nosuch'" in done.stderr


def test_show_gpus_lists_prices_per_region() -> None:
    done = skytui("show-gpus", "H100:8", "--all-regions")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ACCELERATOR")
    rows = [line for line in lines[1:] if line.startswith("H100 ")]
    assert len({row.split()[7] for row in rows}) > 3  # several regions
    assert any("$" in row for row in rows)


def test_show_gpus_unknown_name_suggests() -> None:
    done = skytui("show-gpus", "H10")
    assert done.returncode == 2 and "H100" in done.stderr


def test_check_reports_each_cloud_without_hanging() -> None:
    done = skytui("check", timeout=30)
    assert done.returncode == 0
    out = done.stdout
    assert "local: enabled" in out and out.count("AWS:") == 1 and out.count("GCP:") == 1
    assert "no credentials" in out  # the sandboxed HOME has none


def test_check_finds_aws_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    done = skytui("check", timeout=30)
    assert "AWS: credentials found (env)" in done.stdout
    assert "secret" not in done.stdout  # never print secrets


def test_commands_still_to_come_say_so() -> None:
    done = skytui("gpus", "--json")
    if done.returncode == 3:
        assert "not available yet" in done.stderr
    else:
        assert done.returncode == 0 and json.loads(done.stdout) == []


def test_local_ls_on_a_fresh_machine() -> None:
    done = skytui("local", "ls", "--json")
    assert done.returncode == 0 and json.loads(done.stdout) == []
