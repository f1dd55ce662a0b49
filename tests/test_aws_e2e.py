"""End to end on moto: `skytui launch --cloud aws`, `ssh NAME`, stop/start/down, and a managed
spot job recovered in another region. Each moto instance's SSH endpoint is a local node server
(tests/aws_nodes.py, a fixture)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from aws_helpers import Moto, moto_fixture, moto_server_fixture  # noqa: F401
from aws_nodes import NodeServers, node_servers_fixture, write_aws_config  # noqa: F401

from skytui.cli.main import main

TASK = """\
name: hello
resources: {cloud: aws, region: us-east-1, cpus: 4, disk_size: 40}
setup: echo setup-ran > ~/setup.txt
run: echo "run on rank $SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES"
"""
REGIONS = ["us-east-1", "us-west-2"]


def ssh(name: str, *cmd: str) -> subprocess.CompletedProcess[str]:
    config = Path.home() / ".ssh" / "config"  # OpenSSH reads the passwd home, not $HOME: say it
    return subprocess.run(["ssh", "-F", str(config), "-o", "BatchMode=yes", name, *cmd],
                          capture_output=True, text=True, timeout=60, check=False)


def test_launch_ssh_stop_start_down_on_aws(moto: Moto, node_servers: NodeServers, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    write_aws_config(moto.url, "allowed_regions: {aws: [us-east-1, us-west-2]}\n")
    task = tmp_path / "hello.yaml"
    task.write_text(TASK)
    assert main(["launch", "--dry-run", str(task)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"aws\s+us-east-1\s+us-east-1[a-f]\s", out), out  # zones by name
    assert "aws spot prices: live from DescribeSpotPriceHistory in us-east-1" in out, out
    assert main(["launch", str(task), "-c", "web"]) == 0
    out, err = capsys.readouterr()
    assert "run on rank 0 of 1" in out
    assert "trusted the key it showed on first use" in err or "trusted the key it showed on first use" in out

    done = ssh("web", "cat", "setup.txt")
    assert done.returncode == 0 and done.stdout.strip() == "setup-ran", done.stderr

    assert main(["status", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    rows = rows if isinstance(rows, list) else rows.get("clusters", rows)
    web = next(r for r in rows if r["name"] == "web")
    assert web["cloud"] == "aws" and web["region"] == "us-east-1" and web["zone"].startswith("us-east-1")
    raw = [i for r in moto.client().describe_instances()["Reservations"] for i in r["Instances"]]
    assert len(raw) == 1 and raw[0]["InstanceType"] == web["instance_type"]
    vol = moto.client().describe_volumes()["Volumes"]
    assert [v["Size"] for v in vol] == [40]

    # Costs price the real type in its zone: the catalog's on-demand price for that type.
    from skytui.catalog import load

    zones = moto.client().describe_availability_zones()["AvailabilityZones"]
    zone_id = next(z["ZoneId"] for z in zones if z["ZoneName"] == web["zone"])  # the catalog's key
    prices = {round(o.price, 6) for o in load("aws") if o.instance_type == web["instance_type"]
              and o.region == "us-east-1" and o.zone == zone_id}
    assert main(["cost-report", "--format", "json", "--by", "cluster"]) == 0
    report = capsys.readouterr().out
    assert "web" in report and "aws" in report
    assert web["price_per_hour"] in prices  # the bundled on-demand price of that type in that zone

    assert main(["stop", "web", "--yes"]) == 0
    assert moto.client().describe_instances()["Reservations"][0]["Instances"][0]["State"]["Name"] == "stopped"
    assert main(["start", "web"]) == 0
    assert [v["VolumeId"] for v in moto.client().describe_volumes()["Volumes"]] == [vol[0]["VolumeId"]]
    again = ssh("web", "cat", "setup.txt")  # same disk, same pinned host key
    assert again.returncode == 0 and again.stdout.strip() == "setup-ran", again.stderr

    assert main(["down", "--all", "--yes"]) == 0
    assert moto.leftovers(REGIONS) == []


def test_bad_input_is_one_line_exit_2_and_leaves_nothing(moto: Moto, node_servers: NodeServers,
                                                         tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    write_aws_config(moto.url)
    cases = {
        "zone": "resources: {cloud: aws, region: us-east-1, zone: us-east-1z, cpus: 4}\nrun: echo\n",
        "region": "resources: {cloud: aws, region: mars-north-1, cpus: 4}\nrun: echo\n",
        "image": "resources: {cloud: aws, region: us-east-1, cpus: 4, image_id: ami-0000000000000dead}\n"
                 "run: echo\n",
    }
    messages: dict[str, str] = {}
    for name, text in cases.items():
        task = tmp_path / f"{name}.yaml"
        task.write_text(text)
        code = main(["launch", str(task), "-c", f"bad-{name}"])
        err = capsys.readouterr().err.strip()
        crash = sorted(tmp_path.glob("state/skytui/log/crash.log"))
        assert code == 2, (name, err, crash and crash[0].read_text()[-2000:])
        errors = [ln for ln in err.splitlines() if ln.startswith("skytui: error:")]
        assert len(errors) == 1 and "Traceback" not in err, (name, err)
        messages[name] = errors[0]
    assert "no zone 'us-east-1z'" in messages["zone"] or "us-east-1z" in messages["zone"]
    assert "mars-north-1" in messages["region"]
    assert "AMI ami-0000000000000dead not found in aws us-east-1" in messages["image"]
    assert moto.leftovers(["us-east-1"]) == []


def test_check_says_enabled_with_the_account(moto: Moto, capsys: pytest.CaptureFixture[str]) -> None:
    write_aws_config(moto.url)
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "AWS: enabled (account 123456789012" in out and "testing" not in out


async def test_a_managed_spot_job_survives_an_interruption_in_another_region(
        moto: Moto, node_servers: NodeServers, tmp_path: Path) -> None:
    from moto.ec2.models.instances import StateReason  # type: ignore[import-untyped]
    from test_watcher_support import FAST, wait_status, wait_until, watching

    from skytui.config_model import AwsSettings, Config
    from skytui.core.context import Core
    from skytui.core.jobs import submit
    from skytui.task.spec import Resources, Task

    core = Core(Config(clouds=("aws",), aws=AwsSettings(endpoint_url=moto.url),
                       allowed_regions={"aws": tuple(REGIONS)}, recovery_strategy="EAGER_NEXT_REGION",
                       watcher_poll_seconds=0.2))
    marker = tmp_path / "first-attempt-ran"
    # The first attempt waits to be interrupted; the second finds the marker and finishes.
    run = f"if [ -e {marker} ]; then echo finished; else touch {marker}; sleep 120; fi"
    job_id = submit(core, Task(name="train", run=run, resources=(Resources(cloud="aws", use_spot=True, cpus=4),)))
    async with watching(core, FAST):
        await wait_status(core, job_id, "RUNNING", timeout=120)
        await wait_until(marker.exists, 60, "the first attempt to start")
        first = core.store.job(job_id)
        assert first is not None and first.region in REGIONS
        victims = [i for r in moto.client(region=first.region).describe_instances(Filters=[
            {"Name": "tag:skytui-job", "Values": [str(job_id)]},
            {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"] for i in r["Instances"]]
        assert len(victims) == 1 and victims[0].get("InstanceLifecycle") == "spot"
        # moto has no interruption API: do in its backend what EC2 does to a reclaimed spot VM.
        inst = moto.backend(first.region).get_instance_by_id(victims[0]["InstanceId"])
        inst.terminate()
        inst.state_reason = StateReason("Server.SpotInstanceTermination: Spot instance termination",
                                        "Server.SpotInstanceTermination")
        await wait_status(core, job_id, "RECOVERING", "STARTING", "RUNNING", "SUCCEEDED", timeout=60)
        await wait_status(core, job_id, "SUCCEEDED", timeout=180)
    job = core.store.job(job_id)
    assert job is not None and job.recoveries == 1 and job.attempts == 2
    second = next(r for r in REGIONS if r != first.region)
    assert job.region == second  # EAGER_NEXT_REGION: the next region, visible in moto
    made = [i for r in moto.client(region=second).describe_instances(Filters=[
        {"Name": "tag:skytui-job", "Values": [str(job_id)]}])["Reservations"] for i in r["Instances"]]
    assert made and all(i.get("InstanceLifecycle") == "spot" for i in made)
    events = " | ".join(e.message for e in core.store.events(job_id=job_id))
    assert "preempted" in events
    await core.aclose()
    assert moto.leftovers(REGIONS) == []  # the finished job's cluster is torn down


def test_check_without_credentials_says_so(moto: Moto, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    write_aws_config(moto.url)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "AWS: no credentials found" in out and "aws configure" in out


async def test_an_idle_aws_dev_vm_is_autostopped_keeping_its_disk(moto: Moto, node_servers: NodeServers) -> None:
    from test_watcher_support import FAST, wait_until, watching

    from skytui.config_model import AwsSettings, Config
    from skytui.core.clusters import LaunchOptions, down, launch
    from skytui.core.context import Core
    from skytui.task.spec import Resources, Task

    core = Core(Config(clouds=("aws",), aws=AwsSettings(endpoint_url=moto.url), watcher_poll_seconds=0.2))
    await launch(core, "devbox", Task(resources=(Resources(cloud="aws", region="us-east-1", cpus=4),)),
                 LaunchOptions(is_dev=True, autostop_minutes=1))
    async with watching(core, FAST):  # FAST: an autostop minute lasts 0.5 s
        await wait_until(lambda: core.store.cluster("devbox").status == "STOPPED", 60,  # type: ignore[union-attr]
                         "autostop")
    raw = moto.client().describe_instances()["Reservations"][0]["Instances"][0]
    assert raw["State"]["Name"] == "stopped" and len(moto.client().describe_volumes()["Volumes"]) == 1
    events = [e.message for e in core.store.events(cluster="devbox")]
    assert any("autostop: devbox idle" in m for m in events)
    await down(core, "devbox")
    await core.aclose()
    assert moto.leftovers(["us-east-1"]) == []


def test_check_says_rejected_credentials(moto: Moto, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from botocore.awsrequest import AWSResponse

    from skytui.providers.aws.session import AwsSession

    body = (b"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
            b"<Message>The security token included in the request is invalid.</Message></Error>"
            b"<RequestId>r-1</RequestId></ErrorResponse>")

    class Raw:
        def stream(self, **_):  # type: ignore[no-untyped-def]
            yield body

    real = AwsSession.client

    def client(self, service, region):  # type: ignore[no-untyped-def]
        c = real(self, service, region)
        if service == "sts":  # STS answers as it does for a revoked key: on that one call
            c.meta.events.register("before-send.sts.GetCallerIdentity",
                                   lambda **_: AWSResponse("http://moto", 403, {}, Raw()))
        return c

    monkeypatch.setattr(AwsSession, "client", client)
    write_aws_config(moto.url)
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "AWS: credentials rejected" in out and "InvalidClientTokenId" in out and "testing" not in out


async def test_no_capacity_in_the_first_zone_fails_over_to_the_next(moto: Moto, node_servers: NodeServers) -> None:
    from test_aws_provider import ec2_error

    from skytui.config_model import AwsSettings, Config
    from skytui.core.clusters import LaunchOptions, down, launch
    from skytui.core.context import Core
    from skytui.task.spec import Resources, Task

    core = Core(Config(clouds=("aws",), aws=AwsSettings(endpoint_url=moto.url)))
    # EC2 answers InsufficientInstanceCapacity to the first RunInstances, as a full zone does.
    core.provider("aws").ec2("us-east-1").meta.events.register(  # type: ignore[attr-defined]
        "before-send.ec2.RunInstances", ec2_error("InsufficientInstanceCapacity"))
    await launch(core, "fo", Task(resources=(Resources(cloud="aws", region="us-east-1", cpus=4),)),
                 LaunchOptions())
    c = core.store.cluster("fo")
    assert c is not None and c.status == "UP"
    events = [e.message for e in core.store.events(cluster="fo")]
    skipped = [m for m in events if "InsufficientInstanceCapacity" in m]
    assert skipped and c.zone not in skipped[0]  # it moved on from the full zone
    live = [i for r in moto.client().describe_instances()["Reservations"] for i in r["Instances"]
            if i["State"]["Name"] != "terminated"]
    assert [i["Placement"]["AvailabilityZone"] for i in live] == [c.zone]
    await down(core, "fo")
    await core.aclose()
    assert moto.leftovers(["us-east-1"]) == []
