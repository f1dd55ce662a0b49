"""A cluster whose cloud cannot be reached: `down` says how to forget it, `--purge` does, and
`down --all` goes on past it (issue 12, fault 5)."""

from __future__ import annotations

import pytest
from test_watcher_support import make_core, skytui_cmd

from skytui.core import clusters as ops
from skytui.core.launcher import new_cluster_record
from skytui.core.planner import Candidate
from skytui.store import Node
from skytui.task.spec import Resources, Task

# The cloud is unreachable: no credentials, no metadata service, an endpoint nobody listens on.
UNREACHABLE = {"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
               "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_MAX_ATTEMPTS": "1"}


def _stuck(core, name: str = "stuck") -> None:  # type: ignore[no-untyped-def]
    cand = Candidate("aws", "us-east-1", "us-east-1a", "m6i.large", False, 0.1, 1, None, 0, 2, 8, 0.1)
    core.store.create_cluster(new_cluster_record(
        name, cand, Task(resources=(Resources(),)), request_id=f"{name}-abc", job_id=None, is_dev=False,
        autostop_minutes=None, autostop_down=False, now=core.clock()))
    core.store.set_nodes(name, [Node(name, 0, "i-0123456789abcdef0")])


@pytest.mark.slow
async def test_down_all_goes_on_past_an_unreachable_cloud_and_purge_forgets_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in UNREACHABLE.items():
        monkeypatch.setenv(k, v)
    core = make_core()
    await ops.launch(core, "ok", Task(resources=(Resources(cloud="local"),)), ops.LaunchOptions())
    _stuck(core)
    out = skytui_cmd("down", "--all", "--yes", env=UNREACHABLE)
    assert out.returncode == 2, out.stderr
    assert core.store.cluster("ok").status == "TERMINATED"  # type: ignore[union-attr]
    assert core.store.cluster("stuck").status == "INIT"  # type: ignore[union-attr]
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "stuck" in lines[0] and "--purge" in lines[0], out.stderr
    assert "Traceback" not in out.stderr

    out = skytui_cmd("down", "--purge", "stuck", "--yes", env=UNREACHABLE)
    assert out.returncode == 0, out.stderr
    assert core.store.cluster("stuck").status == "TERMINATED"  # type: ignore[union-attr]
    said = out.stdout + out.stderr
    assert "i-0123456789abcdef0" in said and "bill" in said and "us-east-1" in said
    events = " ".join(e.message for e in core.store.events(cluster="stuck"))
    assert "i-0123456789abcdef0" in events and "forgot" in events


async def test_down_of_a_reachable_cluster_is_unchanged_by_purge() -> None:
    """--purge only forgets when the cloud cannot be asked; a reachable one is torn down for real."""
    core = make_core()
    await ops.launch(core, "ok", Task(resources=(Resources(cloud="local"),)), ops.LaunchOptions())
    (node,) = core.store.nodes("ok")
    await ops.down(core, "ok", purge=True)
    from test_watcher_support import console

    assert console(core).registry.get(node.instance_id or "").state == "terminated"  # type: ignore[union-attr]
