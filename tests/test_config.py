"""config.yaml: every section, and errors that name the place and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from skytui.config import load_config, parse_config
from skytui.config_model import Config
from skytui.errors import ConfigError

EXAMPLE = Path(__file__).parent.parent / "examples" / "config.yaml"


def test_no_file_means_defaults(sandbox: Path) -> None:
    assert load_config() == Config()
    assert Config().enabled_clouds == ("local",) and Config().default_cloud == "local"


def test_example_config_shows_every_setting_and_loads() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.allowed_regions["aws"] == ("us-east-1", "us-west-2")
    assert cfg.local.zone_capacity("local-1", "a").spot == 8
    assert cfg.local.zone_capacity("local-2", "b").spot is None
    text = EXAMPLE.read_text()
    for key in ("clouds", "allowed_regions", "private_ips_only", "ssh_user", "autostop", "recovery",
                "watcher", "dashboard", "telemetry", "theme", "local", "spot_preemptions_per_hour", "prices"):
        assert f"{key}:" in text


def test_values_are_read() -> None:
    cfg = parse_config("clouds: [aws, local]\nrecovery: {strategy: failover, max_restarts_on_errors: 2}\n"
                       "local: {regions: {r1: [x]}, spot_preemptions_per_hour: 3}\nautostop: {idle_minutes: 5}\n")
    assert cfg.clouds == ("aws",) and cfg.enabled_clouds == ("aws", "local")
    assert cfg.recovery_strategy == "FAILOVER" and cfg.max_restarts_on_errors == 2
    assert cfg.local.regions == {"r1": ("x",)} and cfg.local.spot_preemptions_per_hour == 3.0
    assert cfg.autostop_idle_minutes == 5


@pytest.mark.parametrize("text, expected", [
    ("clodus: [aws]\n", "c.yaml:1:1: clodus: unknown setting 'clodus'; did you mean 'clouds'?"),
    ("clouds: [azure]\n", "c.yaml:1:10: clouds[0]: unknown cloud 'azure'; use one of aws, gcp, local"),
    ("recovery:\n  strategy: fast\n", "c.yaml:2:3: recovery.strategy: unknown recovery strategy 'fast'"),
    ("autostop:\n  idle_minutes: -1\n", "c.yaml:2:3: autostop.idle_minutes: must be at least 0"),
    ("autostop:\n  down: yes please\n", "c.yaml:2:3: autostop.down: expected true or false"),
    ("local:\n  regions: {}\n", "c.yaml:2:3: local.regions: the local cloud needs at least one region"),
    ("local:\n  capacity:\n    local-1/a: {spot: -1}\n", "local.capacity.local-1/a.spot: must be at least 0"),
    ("theme: a\ntheme: b\n", "c.yaml:2:1: 'theme' is given twice (first at line 1)"),
    ("- a\n- b\n", "c.yaml:1:1: the config must be a mapping"),
    ("clouds: [aws\n", "c.yaml:2:1: YAML syntax error"),
    ("theme: !!python/object:os.system x\n", "c.yaml:1:8"),
])
def test_errors_name_the_place_and_the_fix(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(text, "c.yaml")
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_config_through_the_cli_is_one_line_exit_2(sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from skytui.cli.main import main
    from skytui.paths import config_dir

    (config_dir() / "config.yaml").write_text("recovery:\n  strategy: fast\n")
    assert main(["show-gpus", "H100"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "config.yaml:2:3: recovery.strategy" in err and "Traceback" not in err


def test_cloud_sections_and_ssh_proxy_are_read() -> None:
    cfg = parse_config("aws: {profile: dev, endpoint_url: 'http://127.0.0.1:5000'}\n"
                       "gcp: {project: my-proj-1, endpoint: 'http://localhost:8080'}\n"
                       "ssh_proxy:\n  aws: {jump: ubuntu@bastion}\n"
                       "  gcp/us-central1: {command: 'ssh -W %h:%p gw'}\n")
    assert (cfg.aws.profile, cfg.aws.endpoint_url) == ("dev", "http://127.0.0.1:5000")
    assert (cfg.gcp.project, cfg.gcp.endpoint) == ("my-proj-1", "http://localhost:8080")
    assert cfg.ssh_proxy_for("aws", "eu-west-1").jump == "ubuntu@bastion"
    assert cfg.ssh_proxy_for("gcp", "us-central1").command == "ssh -W %h:%p gw"
    assert cfg.ssh_proxy_for("gcp", "europe-west4") is None


@pytest.mark.parametrize("text,expected", [
    ("gcp: {project: My_Project}", "gcp.project: 'My_Project' is not a GCP project id"),
    ("aws: {endpoint_url: 'ftp://x'}", "aws.endpoint_url: 'ftp://x' is not an http(s) URL"),
    ("aws: {region: x}", "aws.region: unknown setting 'region'"),
    ("ssh_proxy: {aws: {jump: a, command: b}}", "ssh_proxy.aws: set exactly one of jump or command"),
    ("ssh_proxy: {azure: {jump: a}}", "ssh_proxy.azure: 'azure' is not a cloud or cloud/region"),
    ("ssh_proxy: {aws: {jump: 'a b'}}", "ssh_proxy.aws.jump: 'a b' is not [user@]host[:port]"),
    ('ssh_proxy: {aws: {command: "ssh gw\\nProxyCommand x"}}', "ssh_proxy.aws.command: a proxy command must be one line"),
])
def test_cloud_section_errors(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    assert expected in str(err.value)
