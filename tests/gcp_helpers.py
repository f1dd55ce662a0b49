"""Shared pieces for the GCP tests: the Compute REST fake, served on loopback, and configs for it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gcp_fake import FakeCompute, serve
from gcp_fake.nodes import LocalNodes

from skytui.config_model import Config, GcpSettings

PROJECT = "skytui-test"
REGIONS = ("us-central1", "us-east1")  # two regions, so a job can recover in the other one


@dataclass
class GcpEnv:
    fake: FakeCompute
    endpoint: str
    nodes: LocalNodes | None

    def config(self, **kw: object) -> Config:
        gcp = GcpSettings(project=PROJECT, endpoint=self.endpoint,
                          ssh_port=self.nodes.ssh_port if self.nodes else 22)
        kw.setdefault("allowed_regions", {"gcp": REGIONS})
        return Config(clouds=("gcp",), gcp=gcp, **kw)  # type: ignore[arg-type]

    def config_yaml(self) -> str:
        port = self.nodes.ssh_port if self.nodes else 22
        return (f"clouds: [gcp]\nallowed_regions:\n  gcp: [{', '.join(REGIONS)}]\n"
                f"gcp:\n  project: {PROJECT}\n  endpoint: {self.endpoint}\n  ssh_port: {port}\n")

    def write_config(self) -> Path:
        from skytui.paths import config_file

        path = config_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.config_yaml())
        return path


@contextlib.contextmanager
def gcp_env(root: Path | None = None, *, op_polls: int = 1) -> Iterator[GcpEnv]:
    """The fake (with real SSH guests when `root` is given), served until the block ends."""
    nodes = LocalNodes(root) if root is not None else None
    fake = FakeCompute(PROJECT, op_polls=op_polls, nodes=nodes)
    server, endpoint = serve(fake)
    try:
        yield GcpEnv(fake, endpoint, nodes)
    finally:
        server.shutdown()
        server.server_close()
        if nodes is not None:
            nodes.close()
