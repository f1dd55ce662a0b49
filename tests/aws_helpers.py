"""moto in server mode for the AWS tests: one server per test module, reset between tests."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from skytui.config_model import AwsSettings, Config
from skytui.providers.base import LaunchSpec

ACCOUNT = "123456789012"  # moto's default account
USER = "tester"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJjXbF6Yk1RMTz2S7m0bHc3rGCKnTwzwJf3pXyAvQfA4 test"


@dataclass
class Moto:
    url: str

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=120).read()

    def client(self, service: str = "ec2", region: str = "us-east-1"):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(service, region_name=region, endpoint_url=self.url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def config(self, **kw: object) -> Config:
        return Config(clouds=("aws",), aws=AwsSettings(endpoint_url=self.url), **kw)  # type: ignore[arg-type]

    def backend(self, region: str = "us-east-1"):  # type: ignore[no-untyped-def]
        from moto.backends import get_backend

        return get_backend("ec2")[ACCOUNT][region]

    def leftovers(self, regions: list[str]) -> list[str]:
        """Everything skytui could have left behind, in the given regions."""
        out = []
        for region in regions:
            ec2 = self.client(region=region)
            for res in ec2.describe_instances()["Reservations"]:
                out += [f"{region} instance {i['InstanceId']}" for i in res["Instances"]
                        if i["State"]["Name"] != "terminated"]
            out += [f"{region} volume {v['VolumeId']}" for v in ec2.describe_volumes()["Volumes"]]
            out += [f"{region} key pair {k['KeyName']}" for k in ec2.describe_key_pairs()["KeyPairs"]]
            out += [f"{region} security group {g['GroupName']}"
                    for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"]
        return out


def spec(request_id: str = "c1-abc-aws-us-east-1-use1-az6", *, cluster: str = "c1", nodes: int = 1,
         region: str = "us-east-1", zone: str = "us-east-1a", itype: str = "t3.micro",
         spot: bool = False, **kw: object) -> LaunchSpec:
    return LaunchSpec(request_id=request_id, cluster=cluster, num_nodes=nodes, region=region, zone=zone,
                      instance_type=itype, spot=spot, user=USER, ssh_public_key=PUBLIC_KEY, **kw)  # type: ignore[arg-type]


def start_server() -> Iterator[Moto]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield Moto(f"http://{host}:{port}")
    finally:
        server.stop()


@pytest.fixture(scope="module", name="moto_server")
def moto_server_fixture() -> Iterator[Moto]:
    yield from start_server()


@pytest.fixture(name="moto")
def moto_fixture(moto_server: Moto, monkeypatch: pytest.MonkeyPatch) -> Iterator[Moto]:
    for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                 ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(k, v)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("USER", USER)
    monkeypatch.setenv("LOGNAME", USER)
    moto_server.reset()
    yield moto_server
