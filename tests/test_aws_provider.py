"""The EC2 adapter against moto in server mode: the provider contract, errors, retries, teardown."""

from __future__ import annotations

import asyncio

import pytest
from aws_helpers import USER, Moto, moto_fixture, moto_server_fixture, spec  # noqa: F401

from skytui.config_model import AwsSettings, Config
from skytui.errors import CapacityError, ProviderError
from skytui.providers import make_provider
from skytui.providers.aws.provider import AwsProvider, console_host_key
from skytui.providers.aws.session import AwsSession

REGION = "us-east-1"


def provider(m: Moto, **kw: object) -> AwsProvider:
    p = make_provider("aws", m.config(**kw))
    assert isinstance(p, AwsProvider)
    return p


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


class Calls:
    """Counts API calls by operation with a botocore event hook on the provider's clients."""

    def __init__(self, p: AwsProvider, region: str = REGION) -> None:
        self.ops: list[str] = []
        p.ec2(region).meta.events.register("before-call.ec2", self._seen)

    def _seen(self, model, **_):  # type: ignore[no-untyped-def]
        self.ops.append(model.name)

    def count(self, op: str) -> int:
        return self.ops.count(op)


def ec2_error(code: str, status: int = 400, times: int = 1):  # type: ignore[no-untyped-def]
    """A before-send hook that answers with EC2's own error document, as AWS would, `times` times."""
    from botocore.awsrequest import AWSResponse

    left = [times]

    def hook(**_):  # type: ignore[no-untyped-def]
        if left[0] <= 0:
            return None
        left[0] -= 1
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>injected {code}</Message>"
                "</Error></Errors><RequestID>r-1</RequestID></Response>").encode()

        class Raw:
            def stream(self, **_):  # type: ignore[no-untyped-def]
                yield body

        return AWSResponse("http://moto", status, {}, Raw())

    return hook


def moto_run_kwargs(tags: dict[str, dict[str, str]]) -> dict[str, object]:
    """What moto's RunInstances handler passes its backend, for a plain t3.micro."""
    return {"instance_type": "t3.micro", "is_instance_type_default": False, "placement": None,
            "placement_hostid": None, "region_name": REGION, "subnet_id": None, "key_name": None,
            "security_group_ids": [], "nics": [], "private_ip": None, "associate_public_ip": None,
            "tags": tags, "ebs_optimized": False, "disable_api_stop": False,
            "instance_market_options": {}, "instance_initiated_shutdown_behavior": None,
            "launch_template": {}, "hibernation_options": {}, "iam_instance_profile_name": None,
            "iam_instance_profile_arn": None, "monitoring_state": "disabled", "ipv6_address_count": None,
            "metadata_options": {}, "client_token": ""}


def test_launch_tags_instances_and_volumes_in_one_zone(moto: Moto) -> None:
    p = provider(moto)
    insts = run(p.launch(spec(nodes=2, job_id=7, disk_size_gb=64)))
    assert [i.node for i in insts] == [0, 1]
    assert {i.zone for i in insts} == {"us-east-1a"} and all(i.state == "running" for i in insts)
    assert all(i.cloud == "aws" and i.host and i.ssh_port == 22 and i.job_id == 7 for i in insts)
    ec2 = moto.client()
    raw = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    assert len(raw) == 2
    for r in raw:
        tags = {t["Key"]: t["Value"] for t in r["Tags"]}
        assert tags["skytui-cluster"] == "c1" and tags["skytui-user"] == USER and tags["skytui-job"] == "7"
        assert tags["Name"] in ("c1", "c1-worker1") and tags["skytui-request"] == spec().request_id
        assert r["KeyName"].startswith(f"skytui-{USER}-")
        groups = r["SecurityGroups"] or r["NetworkInterfaces"][0]["Groups"]  # moto: on the interface
        assert [g["GroupName"] for g in groups] == [f"skytui-{USER}"]
    vols = ec2.describe_volumes()["Volumes"]
    assert len(vols) == 2 and all(v["Size"] == 64 for v in vols)
    for v in vols:
        tags = {t["Key"]: t["Value"] for t in v["Tags"]}
        assert tags["skytui-cluster"] == "c1" and tags["skytui-node"] in ("0", "1")
    group = ec2.describe_security_groups(GroupNames=[f"skytui-{USER}"])["SecurityGroups"][0]
    assert [(r["FromPort"], r["ToPort"]) for r in group["IpPermissions"]] == [(22, 22)]


def test_same_request_twice_makes_one_instance_per_node(moto: Moto) -> None:
    p = provider(moto)
    first = run(p.launch(spec(nodes=1)))
    again = run(p.launch(spec(nodes=1)))
    assert [i.id for i in first] == [i.id for i in again]
    # A retry that asks for more nodes adds only the missing rank.
    grown = run(p.launch(spec(nodes=2)))
    assert grown[0].id == first[0].id and len(grown) == 2
    # Another process (a fresh adapter) adopts too.
    assert [i.id for i in run(provider(moto).launch(spec(nodes=2)))] == [i.id for i in grown]
    assert sum(len(r["Instances"]) for r in moto.client().describe_instances()["Reservations"]) == 2


def test_list_sees_every_state_and_only_ours(moto: Moto) -> None:
    p = provider(moto)
    a = run(p.launch(spec("a-1", cluster="a")))[0]
    b = run(p.launch(spec("b-1", cluster="b", itype="t3.small")))[0]
    img = moto.client().describe_images(Owners=["099720109477"])["Images"][0]["ImageId"]
    moto.client().run_instances(ImageId=img, MinCount=1, MaxCount=1, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "skytui-user", "Value": "someone-else"},
                                              {"Key": "skytui-cluster", "Value": "x"}]}])
    run(p.stop([a.id]))
    run(p.terminate([b.id]))
    calls = Calls(p)
    listed = {i.id: i for i in run(p.list_instances(REGION))}
    assert calls.count("DescribeInstances") == 1
    assert set(listed) == {a.id, b.id}
    assert listed[a.id].state == "stopped" and listed[a.id].reason == "user-stopped"
    assert listed[b.id].state == "terminated"


def test_stop_start_keep_the_volume_and_are_idempotent(moto: Moto) -> None:
    p = provider(moto)
    inst = run(p.launch(spec()))[0]
    vol = moto.client().describe_volumes()["Volumes"][0]["VolumeId"]
    run(p.stop([inst.id]))
    run(p.stop([inst.id]))  # no-op
    assert moto.client().describe_volumes()["Volumes"][0]["VolumeId"] == vol
    started = run(p.start([inst.id]))
    assert started[0].id == inst.id and started[0].state in ("pending", "running")
    run(p.start([inst.id]))  # no-op
    assert [v["VolumeId"] for v in moto.client().describe_volumes()["Volumes"]] == [vol]
    run(p.terminate([inst.id]))
    run(p.terminate([inst.id]))  # gone: no-op
    run(p.terminate(["i-0123456789abcdef0"]))  # never existed: no-op
    with pytest.raises(ProviderError, match="terminated"):
        run(p.start([inst.id]))


def test_terminate_leaves_nothing_and_spares_what_is_not_ours(moto: Moto) -> None:
    p = provider(moto)
    ec2 = moto.client()
    ec2.create_key_pair(KeyName="mine-not-skytui")
    other_vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]
    insts = run(p.launch(spec(nodes=2)))
    keep = run(p.launch(spec("k-1", cluster="keep")))
    run(p.terminate([i.id for i in insts]))
    # Another cluster still uses our key pair and group: they stay.
    assert any(k["KeyName"].startswith("skytui-") for k in ec2.describe_key_pairs()["KeyPairs"])
    run(p.terminate([keep[0].id]))
    left = moto.leftovers([REGION])
    assert sorted(left) == sorted([f"{REGION} key pair mine-not-skytui", f"{REGION} volume {other_vol}"])


def test_spot_launch_and_preemption_reason(moto: Moto) -> None:
    from moto.ec2.models.instances import StateReason  # type: ignore[import-untyped]

    p = provider(moto)
    inst = run(p.launch(spec(spot=True)))[0]
    assert inst.spot
    backend_inst = moto.backend(REGION).get_instance_by_id(inst.id)
    backend_inst.terminate()
    backend_inst.state_reason = StateReason("Server.SpotInstanceTermination: Spot instance termination",
                                             "Server.SpotInstanceTermination")
    listed = {i.id: i for i in run(p.list_instances(REGION))}
    assert listed[inst.id].state == "terminated" and listed[inst.id].preempted


@pytest.mark.timeout(900)  # moto renders 1,001 instances slowly on a busy machine
def test_pagination_over_a_thousand_instances(moto: Moto) -> None:
    p = provider(moto)
    img = moto.client().describe_images(Owners=["099720109477"])["Images"][0]["ImageId"]
    tags = {"instance": {"skytui-user": USER, "skytui-cluster": "big"}}
    # Made in moto's backend in-process (1,001 API calls take minutes on a busy machine),
    # one reservation each: moto pages by reservation, EC2 by instance.
    backend = moto.backend(REGION)
    for _ in range(1001):
        backend.run_instances(img, 1, None, [], **moto_run_kwargs(tags))
    calls = Calls(p)
    listed = run(p.list_instances(REGION))
    assert len(listed) == 1001 and len({i.id for i in listed}) == 1001
    assert calls.count("DescribeInstances") == 2  # one paginated listing: two pages of at most 1,000


def test_zone_ids_and_names_are_both_accepted(moto: Moto) -> None:
    p = provider(moto)
    assert "us-east-1a" in p.zones(REGION)
    by_id = run(p.launch(spec("z-1", cluster="z", zone="use1-az6")))[0]  # moto's id of us-east-1a
    assert by_id.zone == "us-east-1a"
    with pytest.raises(ProviderError, match="no zone 'us-east-1z'"):
        run(p.launch(spec("z-2", cluster="z2", zone="us-east-1z")))
    with pytest.raises(ProviderError, match="unknown aws region"):
        run(p.launch(spec("z-3", cluster="z3", region="mars-north-1")))


def test_type_not_offered_in_the_zone_is_capacity(moto: Moto) -> None:
    p = provider(moto)
    with pytest.raises(CapacityError, match="not offered in us-east-1e") as e:
        run(p.launch(spec(zone="us-east-1e", itype="g5.xlarge")))
    assert e.value.zone == "us-east-1e"
    assert moto.leftovers([REGION]) == []


def test_unknown_image_is_one_line_and_leaves_nothing(moto: Moto) -> None:
    p = provider(moto)
    with pytest.raises(ProviderError, match="AMI ami-00000000deadbeef not found"):
        run(p.launch(spec(image_id="ami-00000000deadbeef")))
    assert [x for x in moto.leftovers([REGION]) if "instance" in x or "volume" in x] == []


@pytest.mark.parametrize("code", ["InsufficientInstanceCapacity", "InstanceLimitExceeded",
                                  "MaxSpotInstanceCountExceeded", "SpotMaxPriceTooLow", "Unsupported",
                                  "VcpuLimitExceeded"])
def test_capacity_and_quota_errors_are_typed(moto: Moto, code: str) -> None:
    p = provider(moto)
    run(p.launch(spec("warm-1", cluster="warm")))  # the region's setup is made for real
    p.ec2(REGION).meta.events.register("before-send.ec2.RunInstances", ec2_error(code))
    with pytest.raises(CapacityError) as e:
        run(p.launch(spec(nodes=1)))
    assert code in str(e.value) and e.value.cloud == "aws" and e.value.zone == "us-east-1a"


def test_a_failed_node_takes_the_nodes_made_before_it_along(moto: Moto) -> None:
    p = provider(moto)
    seen = [0]

    def second_fails(**kw):  # type: ignore[no-untyped-def]
        seen[0] += 1
        return ec2_error("InsufficientInstanceCapacity")(**kw) if seen[0] == 2 else None

    p.ec2(REGION).meta.events.register("before-send.ec2.RunInstances", second_fails)
    with pytest.raises(CapacityError):
        run(p.launch(spec(nodes=3)))
    assert moto.leftovers([REGION]) == []  # the first node, its volume, our key pair and group


def test_throttling_is_retried(moto: Moto) -> None:
    p = provider(moto)
    run(p.launch(spec()))
    p.ec2(REGION).meta.events.register("before-send.ec2.DescribeInstances",
                                       ec2_error("RequestLimitExceeded", 503, times=2))
    attempts: list[int] = []
    p.ec2(REGION).meta.events.register(
        "after-call.ec2.DescribeInstances",
        lambda http_response, parsed, **_: attempts.append(parsed["ResponseMetadata"]["RetryAttempts"]))
    assert len(run(p.list_instances(REGION))) == 1
    assert attempts == [2]


def test_rejected_credentials_say_so_in_one_line(moto: Moto) -> None:
    p = provider(moto)
    p.ec2(REGION).meta.events.register("before-send.ec2.DescribeInstances", ec2_error("AuthFailure", 401))
    with pytest.raises(ProviderError) as e:
        run(p.list_instances(REGION))
    assert "credentials rejected" in str(e.value) and "\n" not in str(e.value)
    p2 = provider(moto)
    p2.ec2(REGION).meta.events.register("before-send.ec2.DescribeInstances", ec2_error("RequestExpired"))
    with pytest.raises(ProviderError, match="credentials rejected"):
        run(p2.list_instances(REGION))


def test_missing_credentials_name_the_chain(moto: Moto, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for k in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(ProviderError) as e:
        run(provider(moto).list_instances(REGION))
    assert "no credentials found" in str(e.value) and "~/.aws/credentials" in str(e.value)
    assert "aws configure" in str(e.value)


def test_unknown_profile_names_the_config_key(moto: Moto) -> None:
    cfg = Config(clouds=("aws",), aws=AwsSettings(profile="nope", endpoint_url=moto.url))
    with pytest.raises(ProviderError, match="aws.profile: no AWS profile named 'nope'"):
        run(make_provider("aws", cfg).list_instances(REGION))


def test_endpoint_that_does_not_answer(moto: Moto) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    cfg = Config(clouds=("aws",), aws=AwsSettings(endpoint_url=f"http://127.0.0.1:{port}"))
    p = AwsProvider(cfg, session=AwsSession(cfg.aws, max_attempts=2))
    with pytest.raises(ProviderError, match=f"127.0.0.1:{port} does not answer"):
        run(p.list_instances(REGION))


def test_console_host_key_block() -> None:
    text = ("junk\n-----BEGIN SSH HOST KEY KEYS-----\n"
            "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= root@ip\n"
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJjXbF6Yk1RMTz2S7m0bHc3rGCKnTwzwJf3pXyAvQfA4 root@ip\n"
            "-----END SSH HOST KEY KEYS-----\n")
    assert console_host_key(text) == \
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJjXbF6Yk1RMTz2S7m0bHc3rGCKnTwzwJf3pXyAvQfA4"
    assert console_host_key("no block here") is None


def test_private_ips_only(moto: Moto) -> None:
    p = provider(moto, private_ips_only=True)
    inst = run(p.launch(spec()))[0]
    raw = moto.client().describe_instances(InstanceIds=[inst.id])["Reservations"][0]["Instances"][0]
    assert inst.host == raw["PrivateIpAddress"]


def test_offerings_use_zone_names_and_live_spot_prices(moto: Moto) -> None:
    from skytui.core.launcher import make_plan
    from skytui.core.context import Core
    from skytui.providers.aws import catalog
    from skytui.task.spec import Resources, Task

    catalog._memo.clear()
    catalog._live.clear()
    cfg = moto.config(allowed_regions={"aws": ("us-east-1",)})
    offers = [o for o in catalog.offerings(cfg) if o.region == REGION]
    assert offers and all(o.zone and o.zone.startswith("us-east-1") for o in offers)
    assert all(not o.zone.startswith("use1-") for o in offers)  # ids became names
    assert any(o.spot_price == 0.00001 for o in offers)  # moto's spot price history, not the catalog's
    note = catalog.live_note()
    assert note is not None and "live from DescribeSpotPriceHistory in us-east-1" in note
    # A zone pinned by name plans there.
    task = Task(name="t", run="true", resources=(Resources(cloud="aws", zone="us-east-1b", cpus=4),))
    plan = make_plan(Core(cfg), task)
    assert plan.candidates and {c.zone for c in plan.candidates} == {"us-east-1b"}


def test_host_keys_are_pinned_from_the_console_output(moto: Moto) -> None:
    import base64

    from botocore.awsrequest import AWSResponse

    from skytui.remote import tofu

    p = provider(moto)
    inst = run(p.launch(spec()))[0]
    assert inst.host_key is None  # nothing known yet
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJjXbF6Yk1RMTz2S7m0bHc3rGCKnTwzwJf3pXyAvQfA4"
    console = (f"cloud-init boot\n-----BEGIN SSH HOST KEY KEYS-----\n{key} root@ip-10-0-0-1\n"
               "-----END SSH HOST KEY KEYS-----\n")
    body = ("<GetConsoleOutputResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
            f"<requestId>r-1</requestId><instanceId>{inst.id}</instanceId>"
            "<timestamp>2026-01-01T00:00:00.000Z</timestamp>"
            f"<output>{base64.b64encode(console.encode()).decode()}</output></GetConsoleOutputResponse>").encode()

    class Raw:
        def stream(self, **_):  # type: ignore[no-untyped-def]
            yield body

    # moto's console output is a fixed sample without keys: answer as EC2 does once cloud-init ran.
    p.ec2(REGION).meta.events.register("before-send.ec2.GetConsoleOutput",
                                       lambda **_: AWSResponse("http://moto", 200, {}, Raw()))
    assert run(p.host_keys([inst])) == {inst.id: key}
    assert tofu.recorded("aws", inst.id) == key
    assert run(p.list_instances(REGION))[0].host_key == key  # pinned from now on
    run(p.terminate([inst.id]))
    assert tofu.recorded("aws", inst.id) is None  # forgotten with the VM


def test_instances_and_volumes_carry_the_launching_stores_identity(moto: Moto) -> None:
    """The store tag (issue 12) is on the instance and its volume, and comes back listed."""
    p = provider(moto)
    store_id = "0123456789abcdef0123456789abcdef"
    [inst] = run(p.launch(spec(nodes=1, store_id=store_id)))
    assert inst.store_id == store_id and inst.owned_by(store_id) and not inst.owned_by("another")
    [listed] = [i for i in run(p.list_instances(REGION)) if i.id == inst.id]
    assert listed.store_id == store_id
    [vol] = moto.client().describe_volumes()["Volumes"]
    assert {t["Key"]: t["Value"] for t in vol["Tags"]}["skytui-store"] == store_id
    run(p.terminate([inst.id]))


def test_neuron_types_boot_the_neuron_image_never_the_nvidia_one(moto: Moto) -> None:
    """Inferentia/Trainium nodes get the Neuron DLAMI (their driver and SDK); an NVIDIA image
    there would bring nvidia-smi with no NVIDIA device, which telemetry reads as a driver error."""
    from moto.ec2.models.amis import Ami

    ec2 = moto.backend()
    for ami_id, name in (("ami-0000000000000aaa1", "Deep Learning Base OSS Nvidia Driver GPU AMI "
                                                   "(Ubuntu 22.04) 20250101"),
                         ("ami-0000000000000bbb2", "Deep Learning AMI Neuron (Ubuntu 22.04) 20250101")):
        ec2.amis[ami_id] = Ami(ec2, ami_id, name=name, owner_id="137112412989",
                               owner_alias="amazon", architecture="x86_64", public=True)
    p = provider(moto)

    def image_of(request_id: str, accelerator: str) -> str:
        node = run(p.launch(spec(request_id, cluster=request_id.split("-")[0], itype="g5.xlarge",
                                 accelerator=accelerator, accelerator_count=1)))[0]
        reservations = moto.client().describe_instances(InstanceIds=[node.id])["Reservations"]
        return str(reservations[0]["Instances"][0]["ImageId"])

    assert image_of("inf-1", "Inferentia2") == "ami-0000000000000bbb2"
    assert image_of("trn-1", "Trainium") == "ami-0000000000000bbb2"
    assert image_of("gpu-1", "A10G") == "ami-0000000000000aaa1"
