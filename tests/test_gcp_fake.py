"""The Compute REST fake holds the API's rules on its own: driven here by the bare SDK, not skytui."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gcp_helpers import PROJECT, gcp_env

from skytui.config import parse_config
from skytui.errors import ConfigError


@pytest.fixture
def sdk() -> Iterator[tuple[Any, Any, Any]]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import compute_v1

    with gcp_env(op_polls=0) as env:
        kw = {"credentials": AnonymousCredentials(), "transport": "rest",
              "client_options": {"api_endpoint": env.endpoint}}
        yield env, compute_v1, compute_v1.InstancesClient(**kw)


def _instance(cv1: Any, name: str, **kw: Any) -> Any:
    base = {
        "name": name, "machine_type": "zones/us-central1-a/machineTypes/n1-standard-8",
        "labels": {"skytui-user": "alice"},
        "disks": [cv1.AttachedDisk(boot=True, initialize_params=cv1.AttachedDiskInitializeParams(
            source_image="projects/debian-cloud/global/images/family/debian-12"))],
        "network_interfaces": [cv1.NetworkInterface()]}
    base.update(kw)
    return cv1.Instance(**base)


def _insert(client: Any, cv1: Any, inst: Any, **kw: Any) -> Any:
    return client.insert_unary(request=cv1.InsertInstanceRequest(
        project=PROJECT, zone="us-central1-a", instance_resource=inst, **kw))


def test_list_filters_on_labels_and_pages(sdk: tuple[Any, Any, Any]) -> None:
    from google.api_core import exceptions

    env, cv1, client = sdk
    for i in range(5):
        _insert(client, cv1, _instance(cv1, f"vm-{i}", labels={"skytui-user": "alice" if i < 3 else "bob"}))
    req = cv1.ListInstancesRequest(project=PROJECT, zone="us-central1-a", filter='labels.skytui-user = "alice"',
                                   max_results=2)
    names = [i.name for i in client.list(request=req)]
    assert names == ["vm-0", "vm-1", "vm-2"]
    assert sum(1 for m, p in env.fake.calls if m == "GET" and p.endswith("/zones/us-central1-a/instances")) == 2
    with pytest.raises(exceptions.BadRequest, match="Invalid field name"):
        list(client.list(request=cv1.ListInstancesRequest(project=PROJECT, zone="us-central1-a",
                                                          filter="secretField = 1")))


def test_the_api_rules_are_enforced(sdk: tuple[Any, Any, Any]) -> None:
    from google.api_core import exceptions

    env, cv1, client = sdk
    with pytest.raises(exceptions.BadRequest, match="automatic restart"):
        _insert(client, cv1, _instance(cv1, "spot", scheduling=cv1.Scheduling(
            provisioning_model="SPOT", automatic_restart=True, instance_termination_action="DELETE")))
    with pytest.raises(exceptions.BadRequest, match="live migration"):
        _insert(client, cv1, _instance(cv1, "gpu", guest_accelerators=[cv1.AcceleratorConfig(
            accelerator_count=1, accelerator_type="zones/us-central1-a/acceleratorTypes/nvidia-tesla-t4")]))
    with pytest.raises(exceptions.BadRequest, match="resource.name"):
        _insert(client, cv1, _instance(cv1, "Bad_Name"))
    with pytest.raises(exceptions.BadRequest, match="labels"):
        _insert(client, cv1, _instance(cv1, "lab", labels={"Upper": "x"}))
    with pytest.raises(exceptions.BadRequest, match="requestId"):
        _insert(client, cv1, _instance(cv1, "rid"), request_id="not-a-uuid")
    with pytest.raises(exceptions.NotFound, match="machineTypes/z9-mega"):
        _insert(client, cv1, _instance(cv1, "mt", machine_type="zones/us-central1-a/machineTypes/z9-mega"))
    assert env.fake.live() == []


def test_unknown_fields_in_a_body_are_refused(sdk: tuple[Any, Any, Any]) -> None:
    import requests

    env, _, _ = sdk
    url = f"{env.endpoint}/compute/v1/projects/{PROJECT}/zones/us-central1-a/instances"
    done = requests.post(url, json={"name": "vm", "spotPlease": True}, timeout=10)
    assert done.status_code == 400 and "spotPlease" in done.json()["error"]["message"]
    assert done.json()["error"]["errors"][0]["reason"] == "invalid"


def test_a_stock_out_is_an_operation_that_ends_done_with_the_error(sdk: tuple[Any, Any, Any]) -> None:
    env, cv1, client = sdk
    env.fake.stockout.add("us-central1-a")
    op = _insert(client, cv1, _instance(cv1, "vm"))
    assert op.status == cv1.Operation.Status.DONE
    assert op.error.errors[0].code == "ZONE_RESOURCE_POOL_EXHAUSTED" and env.fake.live() == []


def test_gcp_ssh_port_is_checked_in_config() -> None:
    cfg = parse_config("gcp:\n  project: my-project\n  ssh_port: 2222\n")
    assert cfg.gcp.ssh_port == 2222 and parse_config("gcp: {project: my-project}\n").gcp.ssh_port == 22
    with pytest.raises(ConfigError, match="gcp.ssh_port"):
        parse_config("gcp:\n  ssh_port: zero\n")
