"""Every node's environment (rank, node count, cluster) reaches every login on AWS and GCP VMs, as it
does on local nodes: one boot script, passed as EC2 user data and as GCE's `startup-script`."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
from pathlib import Path

from aws_helpers import Moto, moto_fixture, moto_server_fixture  # noqa: F401
from aws_helpers import spec as aws_spec
from gcp_helpers import gcp_env

from skytui.core.launcher import node_env
from skytui.providers import make_provider
from skytui.providers.base import LaunchSpec
from skytui.providers.boot import node_profile_script
from skytui.providers.gcp import naming

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0Zk5y7sJQ3n1Y8G6hWvJxO9bM3o4qkq0H8m2dY2aB me@laptop"
ENVS = tuple(node_env("train", rank, 2) for rank in range(2))


def test_the_script_writes_quoted_exports_a_login_shell_reads(tmp_path: Path) -> None:
    profile = tmp_path / "skytui-node.sh"
    env = {"SKYPILOT_NODE_RANK": "1", "ODD": "it's $(rm -rf /) `x` \"q\" \\ ;", "BAD-NAME": "x", "1X": "y",
           "X;touch pwned": "z"}
    subprocess.run(["sh", "-c", node_profile_script(env, str(profile))], check=True, cwd=tmp_path)
    out = subprocess.run(["sh", "-c", f'. "{profile}"; printf "%s|%s" "$SKYPILOT_NODE_RANK" "$ODD"'],
                         check=True, capture_output=True, text=True).stdout
    assert out == f"1|{env['ODD']}"
    assert "BAD-NAME" not in profile.read_text() and "1X" not in profile.read_text()
    assert not (tmp_path / "pwned").exists()


async def test_gcp_vms_get_their_rank_in_a_startup_script() -> None:
    with gcp_env() as env:
        p = make_provider("gcp", env.config())
        p.user = "alice"
        s = LaunchSpec(request_id="train-1a2b3c-gcp-us-central1-us-central1-a", cluster="train", num_nodes=2,
                       region="us-central1", zone="us-central1-a", instance_type="n1-standard-4", spot=False,
                       user="alice", ssh_public_key=KEY, node_env=ENVS)
        insts = await p.launch(s)
        try:
            for rank in (0, 1):
                from gcp_fake.server import _json

                name = naming.instance_name(s.request_id, rank)
                body = json.loads(_json(env.fake.instances[("us-central1-a", name)].msg))
                meta = {i["key"]: i["value"] for i in body["metadata"]["items"]}
                assert meta["startup-script"] == node_profile_script(ENVS[rank])
                assert f"export SKYPILOT_NODE_RANK={rank}\n" in meta["startup-script"]
        finally:
            await p.terminate([i.id for i in insts])


def test_aws_instances_get_their_rank_in_user_data(moto: Moto) -> None:
    p = make_provider("aws", moto.config())
    insts = asyncio.run(p.launch(aws_spec(nodes=2, node_env=ENVS)))
    ec2 = moto.client()
    for inst in insts:
        raw = ec2.describe_instance_attribute(InstanceId=inst.id, Attribute="userData")["UserData"]["Value"]
        assert base64.b64decode(raw).decode() == node_profile_script(ENVS[inst.node])

