"""The local cloud end to end: real node processes, real SSH, the whole cluster lifecycle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skytui.config_model import Config, LocalSettings, ZoneCapacity
from skytui.core import clusters
from skytui.core.context import Core, ssh_dir
from skytui.errors import SkytuiError
from skytui.providers.local import process
from skytui.providers.local.provider import LocalCloud
from skytui.task.spec import Resources, Task

pytestmark = pytest.mark.slow


def _core(**local: object) -> Core:
    return Core(config=Config(local=LocalSettings(**local)))  # type: ignore[arg-type]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[-1].split()[0] != "Z"


def _openssh(alias: str, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ssh", "-F", str(ssh_dir() / "config"), "-o", "BatchMode=yes", alias, *cmd],
                          capture_output=True, text=True, timeout=30)


async def test_launch_ssh_stop_start_down(sandbox: Path) -> None:
    core = _core()
    out: list[str] = []
    task = Task(name="hello", setup="echo setting-up > ~/setup.txt",
                run='echo "hello from rank $SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES"; echo task=$SKYPILOT_TASK_ID')
    try:
        res = await clusters.launch(core, "hello", task, clusters.LaunchOptions(),
                                    on_output=lambda text, _: out.append(text))
        assert res.exit_code == 0
        text = "".join(out)
        assert "hello from rank 0 of 1" in text and "task=skytui-hello-" in text
        c = core.store.cluster("hello")
        assert c is not None and c.status == "UP" and c.cloud == "local"
        # Plain OpenSSH by name, with the pinned host key, from our config file.
        done = _openssh("hello", "cat", "setup.txt")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "setting-up"
        assert oct(os.stat(ssh_dir() / "config").st_mode & 0o777) == "0o600"
        include = (Path(os.environ["HOME"]) / ".ssh" / "config").read_text()
        assert f'Include "{ssh_dir() / "config"}"' in include

        node = core.store.nodes("hello")[0]
        cloud = LocalCloud(core.config.local)
        pid = cloud.registry.get(node.instance_id).pid  # type: ignore[arg-type, union-attr]
        await clusters.stop(core, "hello")
        assert core.store.cluster("hello").status == "STOPPED"  # type: ignore[union-attr]
        assert not _alive(pid)
        with pytest.raises(SkytuiError, match="skytui start hello"):
            await clusters.exec_on(core, "hello", Task(run="true"), detach=True)

        await clusters.start(core, "hello")
        assert core.store.cluster("hello").status == "UP"  # type: ignore[union-attr]
        done = _openssh("hello", "cat", "setup.txt")  # the disk was kept
        assert done.stdout.strip() == "setting-up", done.stderr
        res = await clusters.exec_on(core, "hello", Task(run="exit 3"), detach=False)
        assert res.exit_code == 3
        assert [j.status for j in core.store.cluster_jobs("hello")] == ["SUCCEEDED", "FAILED"]
    finally:
        if core.store.cluster("hello") is not None:
            await clusters.down(core, "hello")
        await core.aclose()
    assert core.store.cluster("hello").status == "TERMINATED"  # type: ignore[union-attr]
    assert "hello" not in (ssh_dir() / "config").read_text()
    assert [i for i in LocalCloud(core.config.local).list_all() if i.state != "terminated"] == []


async def test_three_nodes_each_get_their_rank(sandbox: Path) -> None:
    core = _core()
    out: list[str] = []
    task = Task(num_nodes=3, run='echo "rank=$SKYPILOT_NODE_RANK n=$SKYPILOT_NUM_NODES"; '
                                 'echo "$SKYPILOT_NODE_RANK" > ~/rank.txt')
    try:
        res = await clusters.launch(core, "trio", task, clusters.LaunchOptions(),
                                    on_output=lambda text, _: out.append(text))
        assert res.exit_code == 0
        assert "rank=0 n=3" in "".join(out)
        nodes = core.store.nodes("trio")
        assert [n.alias for n in nodes] == ["trio", "trio-worker1", "trio-worker2"]
        for n in nodes:
            done = _openssh(n.alias, "cat", "rank.txt")
            assert done.stdout.strip() == str(n.rank), done.stderr
    finally:
        await clusters.down(core, "trio")
        await core.aclose()


async def test_spot_stock_out_fails_over_to_the_next_zone(sandbox: Path) -> None:
    core = _core(capacity={"local-1/a": ZoneCapacity(spot=0)})
    task = Task(resources=(Resources(use_spot=True, cloud="local"),), run="true")
    try:
        await clusters.launch(core, "spotty", task, clusters.LaunchOptions())
        c = core.store.cluster("spotty")
        assert c is not None and c.spot and (c.region, c.zone) != ("local-1", "a")
        assert any("no spot capacity in local-1/a" in e.message for e in core.store.events())
    finally:
        await clusters.down(core, "spotty")
        await core.aclose()


async def test_interrupted_launch_is_adopted_not_duplicated(sandbox: Path) -> None:
    """The CLI killed between the provision request and its record: a rerun adopts."""
    from skytui.core import launcher

    core = _core()
    task = Task(run="true")
    p = launcher.make_plan(core, task)
    cand = p.candidates[0]
    record = launcher.new_cluster_record("again", cand, task, request_id="again-fixed", job_id=None,
                                         is_dev=False, autostop_minutes=None, autostop_down=False,
                                         now=core.clock())
    core.store.create_cluster(record)
    first = await launcher.provision(core, "again", task, p, request_base="again-fixed")  # then "crash"
    try:
        await clusters.launch(core, "again", task, clusters.LaunchOptions())
        live = [i for i in LocalCloud(core.config.local).list_all() if i.state != "terminated"]
        assert [i.id for i in live] == [first.instances[0].id]
        assert core.store.cluster("again").status == "UP"  # type: ignore[union-attr]
    finally:
        await clusters.down(core, "again")
        await core.aclose()


async def test_interrupted_launch_leaves_init_that_down_removes(sandbox: Path) -> None:
    from skytui.core import launcher

    core = _core()
    task = Task(run="true")
    p = launcher.make_plan(core, task)
    record = launcher.new_cluster_record("half", p.candidates[0], task, request_id="half-x", job_id=None,
                                         is_dev=False, autostop_minutes=None, autostop_down=False,
                                         now=core.clock())
    core.store.create_cluster(record)
    await launcher.provision(core, "half", task, p, request_base="half-x")  # nodes never recorded
    assert core.store.cluster("half").status == "INIT"  # type: ignore[union-attr]
    await clusters.down(core, "half")
    assert [i for i in LocalCloud(core.config.local).list_all() if i.state != "terminated"] == []
    await core.aclose()


async def test_preemption_is_seen_on_refresh(sandbox: Path) -> None:
    from skytui.core.refresh import refresh_all

    core = _core()
    task = Task(resources=(Resources(use_spot=True),), run="sleep 600")
    try:
        await clusters.launch(core, "victim", task, clusters.LaunchOptions(detach_run=True))
        cloud = LocalCloud(core.config.local)
        node = core.store.nodes("victim")[0]
        cloud.preempt(node.instance_id)  # type: ignore[arg-type]
        listed = {i.id: i for i in cloud.list_all()}
        assert listed[node.instance_id].reason == "spot-preempted"  # type: ignore[index]
        rec = await refresh_all(core)
        assert rec.preempted == ["victim"]
        assert core.store.cluster("victim").status == "PREEMPTED"  # type: ignore[union-attr]
        # the job's processes died with the node, as on a real VM
        marker = f"SKYTUI_INSTANCE_ID={node.instance_id}".encode()
        survivors = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker in (entry / "environ").read_bytes():
                    survivors.append(entry.name)
            except OSError:
                pass
        assert survivors == []
    finally:
        await clusters.down(core, "victim")
        await core.aclose()


def test_cli_done_when(sandbox: Path) -> None:
    """The issue's scenario through the real CLI: launch streams, ssh works, stop/start/down."""
    from test_cli import skytui

    task = sandbox / "hello.yaml"
    task.write_text("name: hi\nrun: |\n  echo hello world\n  echo rank $SKYPILOT_NODE_RANK\n")
    done = skytui("launch", str(task), "-c", "hi", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "hello world" in done.stdout and "rank 0" in done.stdout
    assert _openssh("hi", "echo", "ok").stdout.strip() == "ok"
    status = json.loads(skytui("status", "--json").stdout)
    assert [(s["name"], s["status"]) for s in status] == [("hi", "UP")]
    assert skytui("stop", "hi", "--yes").returncode == 0
    assert skytui("exec", "hi", "--", "true").returncode == 2
    assert skytui("start", "hi").returncode == 0
    done = skytui("exec", "hi", "--", "echo", "again")
    assert done.returncode == 0 and "again" in done.stdout
    assert skytui("down", "--all", "--yes").returncode == 0
    listed = json.loads(skytui("local", "ls", "--json").stdout)
    assert all(i["state"] == "terminated" for i in listed)


async def test_node_killed_mid_launch_fails_clearly_and_leaves_nothing(
        sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    from skytui.providers.local import process

    real_spawn = process.spawn_node
    spawned: list[int] = []

    def spawn_then_kill_the_second(node_dir: Path, disk_dir: Path, port: int | None) -> int:
        pid = real_spawn(node_dir, disk_dir, port)
        spawned.append(pid)
        if len(spawned) == 2:
            os.kill(pid, signal.SIGKILL)  # the VM dies while booting
        return pid

    monkeypatch.setattr(process, "spawn_node", spawn_then_kill_the_second)
    core = _core()
    with pytest.raises(SkytuiError) as err:
        await clusters.launch(core, "fragile", Task(num_nodes=3, run="true"), clusters.LaunchOptions())
    assert "launch of fragile failed" in str(err.value) and "went away while booting" in str(err.value)
    assert "\n" not in str(err.value)
    live = [i for i in LocalCloud(core.config.local).list_all() if i.state != "terminated"]
    assert live == []  # no orphan, nothing billing
    assert core.store.cluster("fragile").status == "TERMINATED"  # type: ignore[union-attr]
    from skytui.core.costs.from_store import intervals

    assert all(iv.ended_at is not None for iv in intervals(core.store))
    await core.aclose()


def test_a_node_found_gone_says_how_it_ended(tmp_path: Path) -> None:
    """The warning for a node that went away names its signal or exit code and its log's end."""
    killed = subprocess.Popen([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    exited = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    for child in (killed, exited):
        child.wait()
        process._children[child.pid] = child
        assert not process.is_alive(child.pid, tmp_path)
    assert process.how_it_ended(killed.pid) == "killed by SIGKILL"
    assert process.how_it_ended(exited.pid) == "exited with code 3"
    assert process.how_it_ended(None) == "" and process.how_it_ended(1) == ""
    assert process.log_tail(tmp_path / "gone").startswith("(no log: ")
    (tmp_path / "node.log").write_text("")
    assert process.log_tail(tmp_path) == "(empty)"
    (tmp_path / "node.log").write_text("one\ntwo\n")
    assert process.log_tail(tmp_path) == "one | two"
