"""`skytui regions` and `skytui dev` through the real entry point, regions played by loopback servers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from regions_server import RegionServers

ROOT = Path(__file__).parent.parent


def skytui(*args: str, timeout: float = 90, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("skytui")
    argv = [exe, *args] if exe else [sys.executable, "-m", "skytui.cli.main", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, **(env or {})}, cwd=ROOT)


def write_config(text: str) -> None:
    d = Path(os.environ["XDG_CONFIG_HOME"]) / "skytui"
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.yaml").write_text(text)


def urls_yaml(urls: dict[str, str]) -> str:
    return "".join(f"    {k}: {v}\n" for k, v in urls.items())


def test_regions_json_ranks_by_measured_rtt_then_serves_the_cache() -> None:
    with RegionServers([0.4, 0.01]) as srv:
        write_config("nearest:\n  urls:\n" + urls_yaml({"local/local-1": srv.urls[0], "local/local-2": srv.urls[1]}))
        done = skytui("regions", "--json")
        assert done.returncode == 0, done.stderr
        rows = json.loads(done.stdout)
        assert [(r["cloud"], r["region"], r["method"]) for r in rows] == [
            ("local", "local-2", "http"), ("local", "local-1", "http")]
        assert rows[0]["rtt_ms"] < rows[1]["rtt_ms"] and rows[1]["rtt_ms"] >= 400
        assert rows[0]["first_ms"] >= rows[0]["rtt_ms"] * 0.5 and rows[0]["measured_at"].endswith("Z")
        assert rows[0]["dev"]["instance_type"] == "local-cpu2" and rows[0]["dev"]["price_per_hour"] > 0
        assert rows[0]["dev"]["spot_price_per_hour"] < rows[0]["dev"]["price_per_hour"]
        again = json.loads(skytui("regions", "--json").stdout)
        assert [r["method"] for r in again] == ["cached", "cached"]
        assert [r["rtt_ms"] for r in again] == [r["rtt_ms"] for r in rows]
        assert srv.requests == [4, 4]
        table = skytui("regions", "--refresh")
        assert table.returncode == 0, table.stderr
        lines = table.stdout.splitlines()
        assert lines[0].split()[:5] == ["CLOUD", "REGION", "RTT", "FIRST", "METHOD"]
        assert lines[1].split()[:2] == ["local", "local-2"] and " http " in lines[1]
        assert srv.requests == [8, 8]


def test_regions_with_gpus_and_a_cloud_filter() -> None:
    write_config("clouds: [aws]\nallowed_regions: {aws: [us-east-1, ap-southeast-1]}\n"
                 "nearest:\n  probe_seconds: 1\n  urls:\n"
                 + urls_yaml({"aws/us-east-1": "http://127.0.0.1:1/ping", "aws/ap-southeast-1": "http://127.0.0.1:1/p"}))
    done = skytui("regions", "--cloud", "aws", "--gpus", "H100:1", "--json", env={"TZ": "Asia/Singapore"})
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [(r["region"], r["method"]) for r in rows] == [("ap-southeast-1", "geo"), ("us-east-1", "geo")]
    assert rows[0]["error"] == "connection refused"
    by = {r["region"]: r for r in rows}
    assert by["us-east-1"]["gpus"]["spec"] == "H100:1" and by["us-east-1"]["gpus"]["price_per_hour"] > 0
    assert by["ap-southeast-1"]["gpus"]["price_per_hour"] is None  # no H100:1 there in the catalog


@pytest.mark.parametrize("config, expected", [
    ("nearest:\n  urls:\n    local/local-1: ftp://example.com/\n",
     "nearest.urls.local/local-1: 'ftp://example.com/' is not an http(s) URL"),
    ("clouds: [aws]\nnearest:\n  urls:\n    aws/us-nowhere-1: https://example.com/\n",
     "'us-nowhere-1' is not a region of aws"),
    ("nearest:\n  prefer_cheaper_share: 2\n", "must be a share between 0 and 1"),
])
def test_bad_nearest_config_is_one_line_exit_2(config: str, expected: str) -> None:
    write_config(config)
    done = skytui("regions")
    assert done.returncode == 2
    assert expected in done.stderr and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_unknown_time_zone_and_unknown_cloud_are_clear() -> None:
    write_config("nearest:\n  probe_seconds: 0.5\n  urls:\n    local/local-1: http://127.0.0.1:1/\n")
    done = skytui("regions", "--json", env={"TZ": "Nowhere/Atlantis"})
    assert done.returncode == 0, done.stderr
    assert "not in the tz database" in done.stderr and "Traceback" not in done.stderr
    rows = {r["region"]: r for r in json.loads(done.stdout)}
    assert rows["local-1"]["method"] == "unknown" and rows["local-2"]["method"] == "http"
    bad = skytui("regions", "--cloud", "azure")
    assert bad.returncode == 2 and "unknown cloud" in bad.stderr
    off = skytui("regions", "--cloud", "gcp")
    assert off.returncode == 2 and "not enabled" in off.stderr


def test_dev_dry_run_takes_the_nearest_region_that_offers_the_gpu_and_names_a_cheaper_one() -> None:
    # ap-southeast-1 is nearest but has no H100:1 in the catalog; ap-southeast-3 has it at
    # $9.49/h, us-east-1 at $6.88/h (28 % less), measured far away.
    with RegionServers([0.005, 0.03, 0.4]) as srv:
        base = ("clouds: [aws]\nallowed_regions: {aws: [ap-southeast-1, ap-southeast-3, us-east-1]}\n"
                "nearest:\n  urls:\n" + urls_yaml({"aws/ap-southeast-1": srv.urls[0],
                                                  "aws/ap-southeast-3": srv.urls[1],
                                                  "aws/us-east-1": srv.urls[2]}))
        write_config(base + "  prefer_cheaper_share: 0.2\n")
        done = skytui("dev", "--dry-run", "--json", "--gpus", "H100:1", "--cloud", "aws")
        assert done.returncode == 0, done.stderr
        choice = json.loads(done.stdout)
        assert set(choice) >= {"cloud", "region", "zone", "instance_type", "price_per_hour", "rtt_ms", "method",
                               "why"}
        assert (choice["cloud"], choice["region"], choice["method"]) == ("aws", "ap-southeast-3", "http")
        assert 30 <= choice["rtt_ms"] < 30 + 150
        assert "nearest region offering" in choice["why"]
        cheaper = choice["cheaper"]
        assert cheaper["region"] == "us-east-1" and cheaper["price_per_hour"] < choice["price_per_hour"]
        assert cheaper["rtt_ms"] >= 400 and 0.2 < cheaper["saves_share"] < 0.3
        text = skytui("dev", "--dry-run", "--gpus", "H100:1", "--cloud", "aws")
        assert text.returncode == 0, text.stderr
        assert "cheaper: aws/us-east-1 is 28% cheaper" in text.stdout and "--region us-east-1" in text.stdout
        write_config(base)  # the default share, 30 %: not worth naming
        plain = json.loads(skytui("dev", "--dry-run", "--json", "--gpus", "H100:1", "--cloud", "aws").stdout)
        assert plain["region"] == "ap-southeast-3" and plain["cheaper"] is None
        pinned = json.loads(skytui("dev", "--dry-run", "--json", "--gpus", "H100:1", "--region", "us-east-1").stdout)
        assert pinned["region"] == "us-east-1" and pinned["why"].startswith("--region/--zone given")


def test_batch_dry_runs_say_they_choose_by_price(tmp_path: Path) -> None:
    task = tmp_path / "t.yaml"
    task.write_text("name: t\nrun: echo hi\n")
    for argv in (("launch", "--dry-run", str(task)), ("jobs", "launch", str(task), "--dry-run")):
        done = skytui(*argv)
        assert done.returncode == 0, done.stderr
        assert "Batch work goes to the cheapest region" in done.stdout


def test_dev_json_without_dry_run_is_refused() -> None:
    done = skytui("dev", "--json")
    assert done.returncode == 2 and "--dry-run" in done.stderr


@pytest.mark.slow
def test_dev_launches_in_the_nearest_local_region() -> None:
    with RegionServers([0.4, 0.01]) as srv:
        write_config("nearest:\n  urls:\n" + urls_yaml({"local/local-1": srv.urls[0], "local/local-2": srv.urls[1]}))
        done = skytui("dev", "near-dev", "--autostop", "0", timeout=120)
        try:
            assert done.returncode == 0, done.stderr
            assert "nearest region offering local-cpu2: local/local-2" in done.stderr
            status = json.loads(skytui("status", "--json").stdout)
            assert [(c["name"], c["region"], c["status"]) for c in status] == [("near-dev", "local-2", "UP")]
        finally:
            skytui("down", "near-dev", "--yes", timeout=120)


def test_core_regions_import_without_textual_and_the_warm_path_stays_light() -> None:
    code = ("import sys; sys.modules['textual'] = None\n"
            "import skytui.core.regions.latency, skytui.core.regions.choice, skytui.core.regions.probe\n"
            "print('OK')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and "OK" in done.stdout, done.stderr
    assert skytui("regions").returncode == 0  # fills the cache
    code = ("import sys\nfrom skytui.cli.main import main\nmain(['regions', '--json'])\n"
            "heavy = [m for m in ('asyncio', 'ssl', 'textual', 'boto3', 'botocore', 'google', 'asyncssh',"
            " 'skytui.core.planner') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert '"method": "cached"' in done.stdout and "HEAVY []" in done.stdout


def test_the_config_checks_nearest_urls_without_reaching_up_into_the_core() -> None:
    code = ("import sys\nfrom skytui.config import parse_config\n"
            "c = parse_config('clouds: [aws]\\nnearest:\\n  urls:\\n    aws/us-east-1: https://x.example/ping\\n')\n"
            "print(c.nearest.urls, [m for m in sys.modules if m.startswith('skytui.core')])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'aws/us-east-1': 'https://x.example/ping'} []"
