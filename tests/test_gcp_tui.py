"""The dashboard with GCP: its provider worker lists the fake, and a preempted spot VM shows."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from gcp_helpers import gcp_env
from test_tui_conf import make_app, utc, wait_for  # noqa: F401

from skytui.core.context import Core
from skytui.providers.base import LaunchSpec
from skytui.store import Cluster, Node, current_user, open_store


async def test_the_dashboard_sees_a_gcp_spot_vm_preempted(sandbox: Path) -> None:
    with gcp_env() as env:
        core = Core(config=env.config(), store=open_store())
        spec = LaunchSpec(request_id="dev-abc123-gcp-us-central1-us-central1-a", cluster="dev", num_nodes=1,
                          region="us-central1", zone="us-central1-a", instance_type="n1-standard-8", spot=True,
                          user=current_user(), ssh_public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA me")
        [vm] = await core.provider("gcp").launch(spec)
        core.store.create_cluster(Cluster(name="dev", cloud="gcp", status="UP", user=current_user(),
                                          updated_at=time.time(), region="us-central1", zone="us-central1-a",
                                          spot=1, instance_type="n1-standard-8", request_id=spec.request_id))
        core.store.set_nodes("dev", [Node(cluster="dev", rank=0, instance_id=vm.id, host=vm.host, port=22)])
        app = make_app(core, provider_refresh_seconds=0.2, clock=time.time)
        async with app.run_test(size=(160, 40)) as pilot:
            table = app.table("clusters")
            await wait_for(pilot, lambda: table.cell_text("dev", "status") == "UP", 30)
            env.fake.preempt(*vm.id.split("/"))
            await wait_for(pilot, lambda: table.cell_text("dev", "status") == "PREEMPTED", 30)
        c = core.store.cluster("dev")
        assert c is not None and c.status_reason == "spot-preempted"
        await core.provider("gcp").terminate([vm.id])
        await core.aclose()
        assert env.fake.live() == []


pytestmark = pytest.mark.usefixtures("utc")
