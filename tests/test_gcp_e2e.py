"""GCP end to end: the adapter drives the Compute REST fake, whose instances are real SSH nodes."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from gcp_helpers import GcpEnv, gcp_env
from test_watcher_support import FAST, wait_status, wait_until, watching

from skytui.catalog import load
from skytui.core import clusters
from skytui.core.context import Core, ssh_dir
from skytui.core.jobs import submit
from skytui.task.spec import Accelerator, Resources, Task

pytestmark = pytest.mark.slow


@pytest.fixture
def env(sandbox: Path) -> Iterator[GcpEnv]:
    with gcp_env(sandbox / "gcp-guests") as e:
        yield e


def _openssh(alias: str, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ssh", "-F", str(ssh_dir() / "config"), "-o", "BatchMode=yes", alias, *cmd],
                          capture_output=True, text=True, timeout=30, check=False)


async def test_launch_ssh_stop_start_down_on_gcp(env: GcpEnv) -> None:
    core = Core(config=env.config())
    out: list[str] = []
    task = Task(name="hello", setup="echo set-up > ~/setup.txt",
                resources=(Resources(cloud="gcp", accelerators=(Accelerator("T4", 1),)),),
                run='echo "hello from rank $SKYPILOT_NODE_RANK"')
    try:
        res = await clusters.launch(core, "hello", task, clusters.LaunchOptions(),
                                    on_output=lambda text, _: out.append(text))
        assert res.exit_code == 0 and "hello from rank 0" in "".join(out)
        c = core.store.cluster("hello")
        assert c is not None and (c.cloud, c.status, c.accelerator) == ("gcp", "UP", "T4")
        [node] = core.store.nodes("hello")
        assert node.instance_id and node.instance_id.startswith(f"{c.zone}/")
        assert node.host_key and node.host_key.startswith("ssh-ed25519 ")  # pinned from guest attributes
        # Priced from the catalog row: N1 host + T4, on demand (the catalog sums the two).
        row = next(o for o in load("gcp") if (o.instance_type, o.zone, o.accelerator_name, o.accelerator_count)
                   == (c.instance_type, c.zone, "T4", 1))
        assert c.price_per_hour == pytest.approx(row.price)
        done = _openssh("hello", "cat", "setup.txt")
        assert done.returncode == 0 and done.stdout.strip() == "set-up", done.stderr

        await clusters.stop(core, "hello")
        assert core.store.cluster("hello").status == "STOPPED"  # type: ignore[union-attr]
        assert [s for _, _, s in env.fake.live()] == ["TERMINATED"]  # GCE's word for stopped
        await clusters.start(core, "hello")
        done = _openssh("hello", "cat", "setup.txt")  # the boot disk was kept
        assert done.stdout.strip() == "set-up", done.stderr
    finally:
        if core.store.cluster("hello") is not None:
            await clusters.down(core, "hello")
        await core.aclose()
    assert env.fake.live() == []
    assert "hello" not in (ssh_dir() / "config").read_text()


async def test_a_stock_out_fails_over_to_another_zone(env: GcpEnv) -> None:
    core = Core(config=env.config())
    task = Task(resources=(Resources(cloud="gcp", use_spot=True, accelerators=(Accelerator("T4", 1),)),), run="true")
    from skytui.core.launcher import make_plan

    first = make_plan(core, task).require().candidates[0]
    env.fake.stockout.add(first.zone or "")
    try:
        await clusters.launch(core, "spotty", task, clusters.LaunchOptions())
        c = core.store.cluster("spotty")
        assert c is not None and c.status == "UP" and c.zone != first.zone and c.spot
        assert any("ZONE_RESOURCE_POOL_EXHAUSTED" in e.message for e in core.store.events(cluster="spotty"))
        assert len(env.fake.live()) == 1
    finally:
        await clusters.down(core, "spotty")
        await core.aclose()
    assert env.fake.live() == []


async def test_a_managed_spot_job_preempted_recovers_in_another_region(env: GcpEnv) -> None:
    core = Core(config=env.config(watcher_poll_seconds=0.2))
    task = Task(name="train", run="echo task=$SKYPILOT_TASK_ID; sleep 120",
                resources=(Resources(cloud="gcp", use_spot=True),))
    job_id = submit(core, task)
    try:
        async with watching(core, FAST):
            await wait_status(core, job_id, "RUNNING", timeout=60)
            first = core.store.job(job_id)
            assert first is not None and first.cloud == "gcp"
            [(zone, name, status)] = env.fake.live()
            assert status == "RUNNING"
            env.fake.preempt(zone, name)  # SPOT, DELETE on preemption: the VM goes
            await wait_until(lambda: core.store.job(job_id).attempts == 2  # type: ignore[union-attr]
                             and core.store.job(job_id).status == "RUNNING", 90, "attempt 2 running")  # type: ignore[union-attr]
            job = core.store.job(job_id)
            assert job is not None and job.recoveries == 1 and job.region != first.region  # EAGER_NEXT_REGION
            a1, _ = core.store.attempts(job_id)
            assert a1.end_reason == "preempted"
            [(zone2, _, _)] = env.fake.live()
            assert zone2.rsplit("-", 1)[0] == job.region
            from skytui.core.jobs.service import request_cancel

            request_cancel(core, job_id)
            await wait_status(core, job_id, "CANCELLED", timeout=60)
    finally:
        await core.aclose()
    await wait_until(lambda: env.fake.live() == [], 30, "the fake to be empty")


def test_cli_launch_ssh_status_stop_start_down_all(env: GcpEnv, sandbox: Path) -> None:
    from test_cli import skytui

    env.write_config()
    task = sandbox / "hello.yaml"
    task.write_text("name: hi\nrun: |\n  echo hello world\n")
    done = skytui("launch", str(task), "-c", "hi", "--cloud", "gcp", timeout=180)
    assert done.returncode == 0, done.stderr
    assert "hello world" in done.stdout
    assert _openssh("hi", "echo", "ok").stdout.strip() == "ok"
    status = json.loads(skytui("status", "--json").stdout)
    assert [(s["name"], s["status"], s["cloud"]) for s in status] == [("hi", "UP", "gcp")]
    assert skytui("stop", "hi", "--yes", timeout=120).returncode == 0
    assert skytui("start", "hi", timeout=120).returncode == 0
    done = skytui("exec", "hi", "--", "echo", "again", timeout=120)
    assert done.returncode == 0 and "again" in done.stdout
    assert skytui("down", "--all", "--yes", timeout=120).returncode == 0
    assert env.fake.live() == []


def test_cli_bad_gcp_input_is_one_line_exit_2_and_leaves_nothing(env: GcpEnv, sandbox: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from gcp_fake.nodes import free_port
    from test_cli import skytui

    from skytui.paths import config_file

    task = sandbox / "t.yaml"
    task.write_text("run: echo hi\n")
    config_file().parent.mkdir(parents=True, exist_ok=True)
    cases = [
        (f"clouds: [gcp]\ngcp:\n  endpoint: {env.endpoint}\n", "gcp.project"),
        ("clouds: [gcp]\ngcp:\n  project: Bad_Project!\n", "not a GCP project id"),
        (f"clouds: [gcp]\ngcp:\n  project: skytui-test\n  endpoint: http://127.0.0.1:{free_port()}\n",
         "cannot reach the Compute API"),
        ("clouds: [gcp]\ngcp:\n  project: skytui-test\n", "no Application Default Credentials"),
    ]
    # No ADC anywhere: no variable, no gcloud folder, and no metadata server to fall back on.
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(sandbox / "gcloud"))
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    for text, want in cases:
        config_file().write_text(text)
        done = skytui("launch", str(task), "-c", "bad", "--cloud", "gcp", timeout=120)
        assert done.returncode == 2, (text, done.stdout, done.stderr)
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        assert any(want in ln for ln in lines) and "Traceback" not in done.stderr, done.stderr
        assert env.fake.live() == []
    # A machine type absent from every zone of the plan: capacity everywhere, then one line.
    env.write_config()
    for z in env.fake.offerings.values():
        z["machine"].clear()
    done = skytui("launch", str(task), "-c", "bad2", "--cloud", "gcp", timeout=120)
    assert done.returncode == 2 and "not offered in this zone" in done.stderr, done.stderr
    assert env.fake.live() == []



async def test_an_idle_gcp_dev_vm_is_autostopped_and_its_cost_is_the_catalog_price(env: GcpEnv) -> None:
    from skytui.core.costs.from_store import intervals

    core = Core(config=env.config(watcher_poll_seconds=0.2))
    try:
        await clusters.launch(core, "devbox", Task(resources=(Resources(cloud="gcp", use_spot=True),)),
                              clusters.LaunchOptions(is_dev=True))
        c = core.store.cluster("devbox")
        assert c is not None and c.spot
        row = next(o for o in load("gcp") if (o.instance_type, o.zone, o.accelerator_name)
                   == (c.instance_type, c.zone, None))
        assert c.price_per_hour == pytest.approx(row.spot_price)  # spot, priced from the catalog
        assert c.on_demand_price_per_hour == pytest.approx(row.price)
        [iv] = [iv for iv in intervals(core.store) if iv.cluster == "devbox"]
        assert (iv.cloud, iv.spot, iv.estimate_source) == ("gcp", 1, "catalog:gcp")
        await clusters.down(core, "devbox")

        await clusters.launch(core, "idle", Task(resources=(Resources(cloud="gcp"),)),
                              clusters.LaunchOptions(is_dev=True, autostop_minutes=1))
        async with watching(core, FAST):  # FAST: an autostop minute lasts 0.5 s
            await wait_until(lambda: core.store.cluster("idle").status == "STOPPED", 60,  # type: ignore[union-attr]
                             "autostop")
        assert [s for _, _, s in env.fake.live()] == ["TERMINATED"]  # stopped, disk kept
        assert any("autostop: idle idle" in e.message for e in core.store.events(cluster="idle"))
    finally:
        for name in ("devbox", "idle"):
            c = core.store.cluster(name)
            if c is not None and c.status != "TERMINATED":
                await clusters.down(core, name)
        await core.aclose()
    assert env.fake.live() == []
