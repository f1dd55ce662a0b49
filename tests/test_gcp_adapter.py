"""The GCP adapter against the Compute REST fake, through gcp.endpoint only (no SSH here)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from gcp_helpers import PROJECT, GcpEnv, gcp_env

from skytui.config_model import Config, GcpSettings
from skytui.errors import CapacityError, ProviderError, SkytuiError
from skytui.providers import make_provider
from skytui.providers.base import SPOT_PREEMPTED, LaunchSpec
from skytui.providers.gcp import naming

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0Zk5y7sJQ3n1Y8G6hWvJxO9bM3o4qkq0H8m2dY2aB me@laptop"


@pytest.fixture
def env() -> Iterator[GcpEnv]:
    with gcp_env() as e:
        yield e


def spec(**kw: object) -> LaunchSpec:
    base: dict[str, object] = {
        "request_id": "train-1a2b3c-gcp-us-central1-us-central1-a", "cluster": "train", "num_nodes": 1,
        "region": "us-central1", "zone": "us-central1-a", "instance_type": "n1-highmem-16", "spot": True, "user": "alice",
        "ssh_public_key": KEY, "job_id": 7, "accelerator": "T4", "accelerator_count": 1, "disk_size_gb": 100}
    base.update(kw)
    return LaunchSpec(**base)  # type: ignore[arg-type]


def provider(env: GcpEnv, **kw: object):  # type: ignore[no-untyped-def]
    p = make_provider("gcp", env.config(**kw))
    p.user = "alice"  # what current_user() would say on alice's laptop
    return p


def stored(env: GcpEnv, zone: str, name: str) -> dict:  # type: ignore[type-arg]
    from gcp_fake.server import _json

    return json.loads(_json(env.fake.instances[(zone, name)].msg))


def calls(env: GcpEnv, suffix: str) -> int:
    return sum(1 for _, path in env.fake.calls if path.endswith(suffix))


async def test_launch_asks_for_spot_gpus_labels_key_disk_and_image(env: GcpEnv) -> None:
    p = provider(env)
    [inst] = await p.launch(spec())
    name = naming.instance_name(spec().request_id, 0)
    assert inst.id == f"us-central1-a/{name}" and inst.state == "running" and inst.spot
    assert (inst.cluster, inst.node, inst.job_id, inst.user) == ("train", 0, 7, "alice")
    body = stored(env, "us-central1-a", name)
    assert body["scheduling"]["provisioningModel"] == "SPOT"
    assert body["scheduling"]["instanceTerminationAction"] == "DELETE"  # a job: recovered elsewhere
    assert body["scheduling"]["onHostMaintenance"] == "TERMINATE"
    assert body["guestAccelerators"] == [{"acceleratorCount": 1,
                                          "acceleratorType": "zones/us-central1-a/acceleratorTypes/nvidia-tesla-t4"}]
    assert body["labels"] == {"skytui-cluster": "train", "skytui-node": "0", "skytui-user": "alice",
                              "skytui-request": spec().request_id, "skytui-job": "7"}
    meta = {i["key"]: i["value"] for i in body["metadata"]["items"]}
    assert meta["ssh-keys"] == f"alice:{KEY}"
    disk = body["disks"][0]["initializeParams"]
    assert disk["diskSizeGb"] == "100"
    assert disk["sourceImage"].endswith(f"/family/{naming.IMAGE_FAMILY_OLD_GPU}")
    assert body["networkInterfaces"][0]["accessConfigs"][0]["type"] == "ONE_TO_ONE_NAT"
    await p.terminate([inst.id])


async def test_dev_vm_spot_stops_on_preemption_and_a2_carries_its_gpus(env: GcpEnv) -> None:
    p = provider(env)
    s = spec(job_id=None, instance_type="a2-highgpu-1g", accelerator="A100", zone="us-central1-b",
             request_id="dev-9f9f9f-gcp-us-central1-us-central1-b", image_id="my-images/global/images/family/mine")
    [inst] = await p.launch(s)
    body = stored(env, "us-central1-b", naming.instance_name(s.request_id, 0))
    assert body["scheduling"]["instanceTerminationAction"] == "STOP"
    assert "guestAccelerators" not in body  # the A2 machine type brings its A100
    assert body["disks"][0]["initializeParams"]["sourceImage"] == "projects/my-images/global/images/family/mine"
    await p.terminate([inst.id])


async def test_private_ips_only_asks_for_no_external_ip_and_reports_the_private_one(env: GcpEnv) -> None:
    p = provider(env, private_ips_only=True)
    [inst] = await p.launch(spec(spot=False, job_id=None))
    body = stored(env, "us-central1-a", naming.instance_name(spec().request_id, 0))
    assert "accessConfigs" not in body["networkInterfaces"][0]
    assert "provisioningModel" not in body["scheduling"]
    assert inst.host == body["networkInterfaces"][0]["networkIP"]
    await p.terminate([inst.id])


async def test_a_retried_launch_adopts_and_a_stranger_of_that_name_is_refused(env: GcpEnv) -> None:
    p = provider(env)
    first = await p.launch(spec(num_nodes=2))
    again = await provider(env).launch(spec(num_nodes=2))  # a new process retrying the same request
    assert sorted(i.id for i in first) == sorted(i.id for i in again)
    assert len(env.fake.instances) == 2
    # Someone else's VM that happens to have the name the next request would use.
    other = spec(request_id="other-000000-gcp-us-central1-us-central1-a")
    name = naming.instance_name(other.request_id, 0)
    env.fake.instances[("us-central1-a", name)] = env.fake.instances[("us-central1-a", naming.instance_name(
        spec().request_id, 0))]
    with pytest.raises(ProviderError, match="skytui did not make it"):
        await p.launch(other)
    del env.fake.instances[("us-central1-a", name)]
    await p.terminate([i.id for i in first])
    assert env.fake.live() == []


def test_instance_names_are_valid_deterministic_and_distinct() -> None:
    long = "a-very-long-cluster-name-for-training-jobs-" + "x" * 20 + "-gcp-europe-west4-europe-west4-a"
    n = naming.instance_name(long, 3)
    assert len(n) <= 63 and n.endswith("-n3") and n == naming.instance_name(long, 3)
    assert n != naming.instance_name(long + "b", 3)
    assert naming.instance_name("Job7-A1", 0) == "job7-a1-n0"
    assert naming.label_value("Mr.Bob Smith") == "mr-bob-smith"


async def test_one_aggregated_list_serves_every_region_of_a_round(env: GcpEnv) -> None:
    p = provider(env)
    a = await p.launch(spec(job_id=None, spot=False))
    b = await p.launch(spec(job_id=None, spot=False, region="us-east1", zone="us-east1-c",
                            request_id="train-1a2b3c-gcp-us-east1-us-east1-c"))
    before = calls(env, "/aggregated/instances")
    regions = p.regions()
    assert "us-central1" in regions and "us-east1" in regions
    listed = await asyncio.gather(*(p.list_instances(r) for r in regions))
    assert calls(env, "/aggregated/instances") - before == 1
    by_region = dict(zip(regions, listed))
    assert [i.id for i in by_region["us-central1"]] == [a[0].id]
    assert [i.id for i in by_region["us-east1"]] == [b[0].id]
    # After a change made here, a new listing is made rather than an older one reused.
    await p.stop([a[0].id])
    [stopped] = await p.list_instances("us-central1")
    assert (stopped.state, stopped.reason) == ("stopped", "user-stopped")
    assert calls(env, "/aggregated/instances") - before == 2
    await p.terminate([a[0].id, b[0].id])


async def test_listing_follows_pages_and_sees_only_this_users_instances(env: GcpEnv) -> None:
    p = provider(env)
    await p.launch(spec(num_nodes=3, spot=False, job_id=None))
    bob = provider(env)
    bob.user = "bob"
    await bob.launch(spec(request_id="bob-000000-gcp-us-central1-us-central1-a", user="bob", cluster="bobs"))
    from skytui.providers.gcp import api

    old = api.PAGE_SIZE
    api.PAGE_SIZE = 2  # three instances: two pages
    try:
        mine = await provider(env).list_instances("us-central1")
    finally:
        api.PAGE_SIZE = old
    assert sorted(i.node for i in mine) == [0, 1, 2] and {i.cluster for i in mine} == {"train"}
    assert calls(env, "/aggregated/instances") >= 2


async def test_a_preempted_spot_vm_is_confirmed_from_zone_operations(env: GcpEnv) -> None:
    p = provider(env)
    [job_vm] = await p.launch(spec())  # DELETE on preemption
    [dev_vm] = await p.launch(spec(job_id=None, request_id="dev-000000-gcp-us-central1-us-central1-a"))  # STOP
    [od_vm] = await p.launch(spec(spot=False, job_id=None, request_id="od-000000-gcp-us-central1-us-central1-a"))
    assert {i.state for i in await p.list_instances("us-central1")} == {"running"}
    for vm in (job_vm, dev_vm):
        env.fake.preempt(*vm.id.split("/"))
    await p.stop([od_vm.id])
    seen = {i.id: i for i in await p.list_instances("us-central1")}
    assert (seen[job_vm.id].state, seen[job_vm.id].reason) == ("terminated", SPOT_PREEMPTED)  # deleted
    assert (seen[dev_vm.id].state, seen[dev_vm.id].reason) == ("terminated", SPOT_PREEMPTED)  # stopped
    assert (seen[od_vm.id].state, seen[od_vm.id].reason) == ("stopped", "user-stopped")
    assert calls(env, "/operations") >= 1
    ops = [path for _, path in env.fake.calls if path.endswith("/zones/us-central1-a/operations")]
    assert ops  # asked the zone, with the operationType filter
    await p.terminate([job_vm.id, dev_vm.id, od_vm.id])
    assert env.fake.live() == []


async def test_stop_start_terminate_are_idempotent(env: GcpEnv) -> None:
    p = provider(env)
    [vm] = await p.launch(spec(spot=False, job_id=None))
    await p.stop([vm.id])
    await p.stop([vm.id])
    [started] = await p.start([vm.id])
    await p.start([vm.id])
    assert [i.state for i in await p.list_instances("us-central1")] == ["running"]
    await p.terminate([vm.id])
    await p.terminate([vm.id])  # 404: already gone, fine
    await p.stop([vm.id])
    with pytest.raises(ProviderError, match="gone and cannot be started"):
        await p.start([vm.id])
    assert started.id == vm.id and env.fake.live() == []


@pytest.mark.parametrize("setup, match", [
    (lambda f: f.stockout.add("us-central1-a"), "ZONE_RESOURCE_POOL_EXHAUSTED"),
    (lambda f: f.quota.add("us-central1"), "QUOTA_EXCEEDED"),
    (lambda f: f.accelerator_quota.add("us-central1"), "quota exceeded"),
    (lambda f: f.offerings["us-central1-a"]["machine"].discard("n1-highmem-16"), "not offered in this zone"),
    (lambda f: f.offerings["us-central1-a"]["accel"].discard("nvidia-tesla-t4"), "not offered in this zone"),
])
async def test_capacity_and_quota_errors_are_typed_and_leave_nothing(env: GcpEnv, setup, match) -> None:  # type: ignore[no-untyped-def]
    setup(env.fake)
    p = provider(env)
    with pytest.raises(CapacityError, match=match) as err:
        await p.launch(spec(num_nodes=2))
    assert err.value.zone == "us-central1-a" and err.value.region == "us-central1"
    assert "\n" not in str(err.value)
    assert env.fake.live() == []


async def test_a_stock_out_of_the_second_node_removes_the_first(env: GcpEnv) -> None:
    p = provider(env)
    s = spec(num_nodes=2)
    first = naming.instance_name(s.request_id, 0)
    real = env.fake.insert

    def second_runs_out(zone, body, query):  # type: ignore[no-untyped-def]
        if first not in body.decode():
            env.fake.stockout.add(zone)
        try:
            return real(zone, body, query)
        finally:
            env.fake.stockout.discard(zone)

    env.fake.insert = second_runs_out  # type: ignore[method-assign]
    with pytest.raises(CapacityError):
        await p.launch(s)
    assert env.fake.live() == []


def _err(exc: SkytuiError) -> str:
    text = str(exc)
    assert "\n" not in text
    return text


async def test_unknown_zone_and_region_mismatch_are_one_line(env: GcpEnv) -> None:
    p = provider(env)
    with pytest.raises(ProviderError) as err:
        await p.launch(spec(zone="us-central1-q"))
    assert "zone us-central1-q does not exist" in _err(err.value) and "allowed_regions" in str(err.value)
    with pytest.raises(ProviderError, match="is not in region"):
        await p.launch(spec(zone="us-east1-b"))
    assert env.fake.live() == []


async def test_bad_project_and_missing_project_and_dead_endpoint(env: GcpEnv, tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="not a GCP project id"):
        make_provider("gcp", Config(clouds=("gcp",), gcp=GcpSettings(project="My Project!", endpoint=env.endpoint)))
    p = make_provider("gcp", Config(clouds=("gcp",), gcp=GcpSettings(endpoint=env.endpoint)))
    with pytest.raises(ProviderError, match="gcp.project") as err:
        await p.list_instances("us-central1")
    assert "config.yaml" in _err(err.value)
    p = make_provider("gcp", Config(clouds=("gcp",), gcp=GcpSettings(project="nope-project", endpoint=env.endpoint)))
    with pytest.raises(ProviderError, match="project nope-project was not found"):
        await p.list_instances("us-central1")
    from gcp_fake.nodes import free_port

    dead = make_provider("gcp", Config(clouds=("gcp",), gcp=GcpSettings(
        project=PROJECT, endpoint=f"http://127.0.0.1:{free_port()}")))
    with pytest.raises(ProviderError, match="cannot reach the Compute API") as err:
        await dead.list_instances("us-central1")
    assert "gcp.endpoint" in _err(err.value)


async def test_missing_and_expired_adc_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")  # no metadata server here: fail fast
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    cfg = Config(clouds=("gcp",), gcp=GcpSettings(project=PROJECT))
    with pytest.raises(ProviderError, match="no Application Default Credentials") as err:
        await make_provider("gcp", cfg).list_instances("us-central1")
    assert "gcloud auth application-default login" in _err(err.value)

    # Google's token endpoint cannot run here: credentials that refuse to refresh the way
    # google.oauth2 does when the grant was revoked stand in for it.
    import google.auth
    from google.auth import credentials as ga_credentials
    from google.auth import exceptions as ga_exceptions

    class Revoked(ga_credentials.Credentials):
        def refresh(self, request: object) -> None:
            raise ga_exceptions.RefreshError("invalid_grant: Token has been expired or revoked.",
                                             {"error": "invalid_grant", "secret": "s3cr3t-refresh-token"})

    monkeypatch.setattr(google.auth, "default", lambda scopes=None, **_: (Revoked(), PROJECT))
    cfg = Config(clouds=("gcp",), gcp=GcpSettings(project=PROJECT, endpoint="https://compute.invalid"))
    with pytest.raises(ProviderError, match="expired or revoked") as err:
        await make_provider("gcp", cfg).list_instances("us-central1")
    assert "s3cr3t" not in _err(err.value)  # never a secret in a message


def test_make_provider_does_not_import_the_sdk() -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom skytui.config_model import Config, GcpSettings\nfrom skytui.providers import make_provider\n"
            "p = make_provider('gcp', Config(clouds=('gcp',), gcp=GcpSettings(project='skytui-test', "
            "endpoint='http://127.0.0.1:9')))\np.regions(); p.zones('us-central1')\n"
            "print('SDK', 'google.cloud.compute_v1' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "SDK False" in done.stdout


async def test_a_vm_is_ssh_ready_only_once_its_host_keys_are_published(env: GcpEnv) -> None:
    p = provider(env)
    env.fake.hide_host_keys = True
    [vm] = await p.launch(spec(spot=False, job_id=None))
    [listed] = await p.list_instances("us-central1")
    assert listed.state == "running" and listed.ssh_port is None and listed.host_key is None
    env.fake.hide_host_keys = False
    [listed] = await p.list_instances("us-central1")
    assert listed.ssh_port == 22 and listed.host_key and listed.host_key.startswith("ssh-ed25519 AAAA")
    # Another process (the watcher) needs no host keys: it does not ask for them.
    before = calls(env, "/getGuestAttributes")
    await provider(env).list_instances("us-central1")
    assert calls(env, "/getGuestAttributes") == before
    await p.terminate([vm.id])


def test_check_says_enabled_project_missing_permission_denied_or_unreachable(env: GcpEnv) -> None:
    from gcp_fake.nodes import free_port
    from gcp_fake.server import ApiError

    from skytui.providers.gcp.check import check

    assert check(GcpSettings(project=PROJECT, endpoint=env.endpoint)) == (
        f"GCP: enabled (project {PROJECT}; anonymous, for the local emulator at {env.endpoint})")
    assert "project is missing" in check(GcpSettings(endpoint=env.endpoint))
    line = check(GcpSettings(project=PROJECT, endpoint=f"http://127.0.0.1:{free_port()}"))
    assert "cannot reach the Compute API" in line
    real = env.fake.aggregated

    def denied(query):  # type: ignore[no-untyped-def]
        raise ApiError(403, "Required 'compute.instances.list' permission for 'projects/skytui-test'",
                       "forbidden", "PERMISSION_DENIED")

    env.fake.aggregated = denied  # type: ignore[method-assign]
    try:
        line = check(GcpSettings(project=PROJECT, endpoint=env.endpoint))
    finally:
        env.fake.aggregated = real  # type: ignore[method-assign]
    assert "permission denied" in line and "roles/compute.instanceAdmin.v1" in line and "\n" not in line


def test_cli_check_with_gcp_enabled(env: GcpEnv) -> None:
    from test_cli import skytui

    env.write_config()
    done = skytui("check", timeout=60)
    assert done.returncode == 0
    assert f"GCP: enabled (project {PROJECT}" in done.stdout


async def test_task_labels_ride_along_where_gce_can_hold_them(env: GcpEnv) -> None:
    p = provider(env)
    [vm] = await p.launch(spec(labels={"Team": "ML Infra", "1st": "dropped"}))
    labels = stored(env, "us-central1-a", naming.instance_name(spec().request_id, 0))["labels"]
    assert labels["team"] == "ml-infra" and "1st" not in labels and labels["skytui-cluster"] == "train"
    await p.terminate([vm.id])


async def test_a_stock_out_never_deletes_a_strangers_vm_of_a_name_it_wanted(env: GcpEnv) -> None:
    p = provider(env)
    s = spec(num_nodes=2)
    stranger = naming.instance_name(s.request_id, 1)
    # Someone else's VM holds the name of node 1 (made through the API, without skytui's labels).
    other = provider(env)
    [theirs] = await other.launch(spec(request_id="someone-else-gcp-us-central1-us-central1-a", job_id=None))
    env.fake.instances[("us-central1-a", stranger)] = env.fake.instances.pop(("us-central1-a", theirs.id.split("/")[1]))
    env.fake.instances[("us-central1-a", stranger)].msg.name = stranger
    env.fake.stockout.add("us-central1-a")
    with pytest.raises(CapacityError):
        await p.launch(s)
    assert [n for _, n, _ in env.fake.live()] == [stranger]  # still there, untouched


async def test_instances_carry_the_launching_stores_identity(env: GcpEnv) -> None:
    """The store tag (issue 12) rides in the owner record and a label, and comes back listed."""
    p = provider(env)
    store_id = "0123456789abcdef0123456789abcdef"
    [inst] = await p.launch(spec(store_id=store_id))
    assert inst.store_id == store_id and inst.owned_by(store_id) and not inst.owned_by("another")
    body = stored(env, "us-central1-a", naming.instance_name(spec().request_id, 0))
    assert body["labels"]["skytui-store"] == store_id
    [listed] = [i for i in await p.list_instances("us-central1") if i.id == inst.id]
    assert listed.store_id == store_id
    await p.terminate([inst.id])
