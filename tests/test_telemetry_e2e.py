"""GPU sampling end to end: the sampler's rounds, the store's minutes and `skytui gpus` on the local cloud."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from skytui.catalog.local import host_gpus
from skytui.cli.cmd_gpus import bar, gpus_json, gpus_table
from skytui.config_model import Config
from skytui.core import clusters, offerings
from skytui.core.context import Core, Progress
from skytui.core.telemetry.probe import MARK, PROBE_FIELDS_APPS
from skytui.core.telemetry.ring import MinuteRollup
from skytui.core.telemetry.sampler import (
    NodeSnapshot,
    Sampler,
    idle_gpus,
    node_command,
    read_minutes,
    run_sampler,
    sample_fleet,
    write_minutes,
)
from skytui.errors import RemoteError
from skytui.store import Cluster, Node
from skytui.task.spec import Accelerator, Resources, Task

ROOT = Path(__file__).parent.parent
H200 = Path(__file__).parent / "fixtures" / "gpu" / "h200"
T0 = 1_795_875_000.0  # a minute boundary, 2026-11-28T14:10:00Z, near when the fixtures were taken


# -- GPU states built from the captured H200 outputs ------------------------------------------


def _fields(header_file: str) -> list[str]:
    header = (H200 / header_file).read_text().splitlines()[0]
    return [re.sub(r" \[.*\]$", "", f) for f in header.split(", ")]


def idle_gpu() -> dict[str, str]:
    """The idle H200 exactly as `--query-gpu=... --format=csv,noheader,nounits` printed it."""
    [values] = list(csv.reader((H200 / "query-gpu-idle-nounits.csv").read_text().splitlines(),
                               skipinitialspace=True))
    return dict(zip(_fields("query-gpu-idle.csv"), values))


def busy_gpu_and_process() -> tuple[dict[str, str], dict[str, str]]:
    """The H200 under load, with the readings plain `nvidia-smi` and `dmon` showed then."""
    smi = (H200 / "smi-busy.txt").read_text()
    m = re.search(r"(\d+)C\s+P\d+\s+(\d+)W /\s+(\d+)W \|\s+(\d+)MiB /\s+(\d+)MiB \|\s+(\d+)%", smi)
    assert m, "smi-busy.txt changed shape"
    temp, power, limit, used, total, util = m.groups()
    dmon = [ln.split() for ln in (H200 / "dmon-busy.txt").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]
    mem_util = dmon[0][5]
    gpu = idle_gpu()
    gpu.update({"utilization.gpu": util, "utilization.memory": mem_util, "memory.used": used,
                "memory.total": total, "memory.free": str(int(total) - int(used)),
                "temperature.gpu": temp, "power.draw": power, "power.limit": limit})
    p = re.search(r"\|\s+0\s+N/A\s+N/A\s+(\d+)\s+C\s+(\S+)\s+(\d+)MiB", smi)
    assert p, "smi-busy.txt has no process line"
    pid, name, mem = p.groups()
    app = {"pid": pid, "process_name": name, "used_gpu_memory": mem, "used_memory": mem,
           "gpu_uuid": gpu["uuid"]}
    return gpu, app


def second_gpu() -> dict[str, str]:
    """An idle twin of the captured H200 in the next slot (its own index, uuid and bus id)."""
    gpu = idle_gpu()
    gpu.update({"index": "1", "uuid": gpu["uuid"][:-1] + ("1" if gpu["uuid"][-1] != "1" else "2"),
                "pci.bus_id": gpu["pci.bus_id"].replace("06.0", "07.0")})
    return gpu


STAND_IN = '''#!{python}
"""A stand-in nvidia-smi serving --query-gpu / --query-compute-apps from a JSON state file."""
import json, os, sys, time
on_node = "SKYTUI_INSTANCE_ID" in os.environ  # host-side calls (the local cloud's GPU scan) never wait
if on_node and os.environ.get("STAND_IN_LOG"):
    with open(os.environ["STAND_IN_LOG"], "a") as f:
        f.write(" ".join(sys.argv[1:]) + "\\n")
gate = os.environ.get("STAND_IN_GATE")
if on_node and gate:
    for _ in range(1200):
        if os.path.exists(gate):
            break
        time.sleep(0.05)
with open(os.environ["STAND_IN_STATE"]) as f:
    state = json.load(f)
args = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
if args.get("--format") != "csv,noheader,nounits":
    sys.exit("stand-in only serves csv,noheader,nounits")
if "--query-gpu" in args:
    rows, known, wanted = state["gpus"], state["gpu_fields"], args["--query-gpu"].split(",")
elif "--query-compute-apps" in args:
    rows, known, wanted = state["apps"], state["app_fields"], args["--query-compute-apps"].split(",")
else:
    sys.exit("stand-in: unsupported arguments")
for f in wanted:
    if f not in known:
        print('Field "%s" is not a valid field to query.' % f)
        sys.exit(2)
for r in rows:
    print(", ".join(r[f] for f in wanted))
'''


def write_stand_in(folder: Path, gpus: list[dict[str, str]], apps: list[dict[str, str]]) -> Path:
    """A folder holding `nvidia-smi` and its state; put it first on PATH."""
    folder.mkdir(parents=True)
    state = {"gpus": gpus, "apps": apps, "gpu_fields": _fields("query-gpu-idle.csv"),
             "app_fields": [*_fields("query-apps-idle.csv"), "used_memory"]}
    (folder / "state.json").write_text(json.dumps(state))
    script = folder / "nvidia-smi"
    script.write_text(STAND_IN.format(python=sys.executable))
    script.chmod(0o755)
    return folder


def bare_bin(folder: Path) -> Path:
    """A PATH folder with the probe's shell tools and no nvidia-smi (whatever the host has)."""
    folder.mkdir(parents=True)
    for tool in ("sh", "bash", "cat", "grep", "timeout", "true"):
        found = shutil.which(tool)
        if found:
            (folder / tool).symlink_to(found)
    return folder


def without_smi(path: str) -> list[str]:
    """The folders of `path` that hold no nvidia-smi."""
    return [d for d in path.split(os.pathsep) if d and not (Path(d) / "nvidia-smi").exists()]


def expected_json(cluster: str, gpu: dict[str, str], apps: list[dict[str, str]]) -> dict[str, Any]:
    """What `skytui gpus --json` must say for a GPU: the stand-in's strings as numbers."""
    return {
        "cluster": cluster, "node": 0, "index": int(gpu["index"]), "name": gpu["name"],
        "uuid": gpu["uuid"], "utilization_gpu": float(gpu["utilization.gpu"]),
        "utilization_memory": float(gpu["utilization.memory"]),
        "memory_used_mib": float(gpu["memory.used"]), "memory_total_mib": float(gpu["memory.total"]),
        "temperature_c": float(gpu["temperature.gpu"]), "power_w": float(gpu["power.draw"]),
        "power_limit_w": float(gpu["power.limit"]),
        "processes": [{"pid": int(a["pid"]), "name": a["process_name"],
                       "used_memory_mib": float(a["used_memory"])} for a in apps],
    }


def skytui_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process with this test's environment (HOME, XDG, PATH)."""
    return subprocess.run([sys.executable, "-m", "skytui.cli.main", *args], capture_output=True, check=False,
                          text=True, timeout=120, env=os.environ.copy(), cwd=ROOT)


def _messages(progress: list[Progress], text: str) -> list[str]:
    return [p.message for p in progress if text in p.message]


# -- the sampler over an in-process transport ---------------------------------------------------


def probe_output(util: float, *, uuid: str = "GPU-1", index: int = 0) -> str:
    """What the probe prints for one H200 at `util`%."""
    gpu = idle_gpu()
    gpu.update({"index": str(index), "uuid": uuid, "utilization.gpu": f"{util:g}"})
    from skytui.core.telemetry.probe import PROBE_FIELDS_GPU

    return "\n".join([
        f"{MARK} begin 1", f"{MARK} gpu {','.join(PROBE_FIELDS_GPU)}",
        ", ".join(gpu[f] for f in PROBE_FIELDS_GPU), f"{MARK} gpu-rc 0",
        f"{MARK} apps {','.join(PROBE_FIELDS_APPS)}", f"{MARK} apps-rc 0",
        f"{MARK} loadavg", "0.10 0.20 0.30 1/100 42", f"{MARK} end", ""])


NO_NVIDIA = "\n".join([f"{MARK} begin 1", f"{MARK} no-nvidia", f"{MARK} loadavg",
                       "0.00 0.00 0.00 1/1 1", f"{MARK} end", ""])


class FakeFleet:
    """Nodes answering the probe in-process; a node can be held back until released."""

    def __init__(self) -> None:
        self.answers: dict[str, str | Exception] = {}
        self.calls: dict[str, int] = {}
        self.commands: dict[str, str] = {}
        self.held: dict[str, asyncio.Event] = {}

    async def __call__(self, cluster: Cluster, node: Node, command: str, timeout: float) -> str:
        self.calls[node.alias] = self.calls.get(node.alias, 0) + 1
        self.commands[node.alias] = command
        if node.alias in self.held:
            await self.held[node.alias].wait()
        answer = self.answers[node.alias]
        if isinstance(answer, Exception):
            raise answer
        return answer


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def fake_core(names: list[str], clock: Clock, *, cloud: str = "aws") -> Core:
    core = Core(config=Config(), clock=clock)
    for name in names:
        core.store.create_cluster(Cluster(name=name, cloud=cloud, status="UP", user="me",
                                          updated_at=clock.t, num_nodes=1))
        core.store.set_nodes(name, [Node(cluster=name, rank=0, host="127.0.0.1", port=22)])
    return core


async def test_a_slow_node_keeps_one_probe_and_does_not_hold_the_others() -> None:
    clock = Clock()
    core = fake_core(["fast", "slow"], clock)
    fleet = FakeFleet()
    fleet.answers = {"fast": probe_output(42.0), "slow": probe_output(7.0, uuid="GPU-S")}
    fleet.held["slow"] = asyncio.Event()
    sampler = Sampler(core, interval=5, transport=fleet)
    seen = []
    for _ in range(3):
        clock.t += 5
        snaps = {s.cluster: s for s in await sampler.round(wait=0.05)}
        seen.append(snaps["fast"].sample.sampled_at)  # type: ignore[union-attr]
        assert snaps["fast"].status == "ok" and snaps["fast"].gpus[0].utilization_gpu == 42.0
        assert snaps["slow"].status == "waiting" and not snaps["slow"].fresh
    assert seen == [T0 + 5, T0 + 10, T0 + 15]
    assert fleet.calls == {"fast": 3, "slow": 1}  # never a second probe while one is in flight
    fleet.held["slow"].set()
    clock.t += 5
    snaps = {s.cluster: s for s in await sampler.round(wait=1)}
    assert snaps["slow"].status == "ok" and snaps["slow"].gpus[0].utilization_gpu == 7.0
    assert fleet.calls == {"fast": 4, "slow": 1}  # the finished probe is taken, not rerun
    clock.t += 5
    snaps = {s.cluster: s for s in await sampler.round(wait=1)}
    assert fleet.calls["slow"] == 2 and snaps["slow"].fresh
    # A node that was slow keeps showing its last sample while it is slow again.
    fleet.held["slow"] = asyncio.Event()
    clock.t += 5
    snaps = {s.cluster: s for s in await sampler.round(wait=0.05)}
    assert snaps["slow"].status == "waiting" and snaps["slow"].gpus[0].uuid == "GPU-S"
    assert "stale: node is slow" in gpus_table(snaps.values())
    sampler.close()
    await core.aclose()


async def test_no_telemetry_and_unreachable_are_told_once_per_change() -> None:
    clock = Clock()
    core = fake_core(["cpu", "gone"], clock)
    told: list[Progress] = []
    core.listeners.append(told.append)
    fleet = FakeFleet()
    fleet.answers = {"cpu": NO_NVIDIA, "gone": RemoteError("gone: connection refused", "is it up?")}
    sampler = Sampler(core, interval=5, transport=fleet)
    for _ in range(5):
        clock.t += 5
        snaps = {s.cluster: s for s in await sampler.round(wait=1)}
    assert snaps["cpu"].status == "no-nvidia" and snaps["cpu"].note.startswith("no NVIDIA telemetry")
    assert snaps["gone"].status == "unreachable" and "connection refused" in snaps["gone"].note
    assert len(_messages(told, "no NVIDIA telemetry")) == 1
    assert len(_messages(told, "unreachable")) == 1
    fleet.answers["gone"] = probe_output(1.0)
    clock.t += 5
    await sampler.round(wait=1)
    assert _messages(told, "gone: GPU telemetry back") == ["gone: GPU telemetry back"]
    assert not core.store.events(limit=50, cluster="cpu")  # notes are not an event-log storm
    table = gpus_table(await sampler.round(wait=1))
    assert table.count("no NVIDIA telemetry") == 1
    await core.aclose()


async def test_minutes_are_averaged_into_the_store_and_flushed_on_stop() -> None:
    clock = Clock()
    core = fake_core(["train"], clock)
    fleet = FakeFleet()
    sampler = Sampler(core, interval=20, transport=fleet)
    # Minute T0: 10% and 30%; minute T0+60: 50%, 70% and 90%; minute T0+120: 0% (still filling).
    for t, util in ((0, 10), (30, 30), (60, 50), (80, 70), (100, 90), (120, 0)):
        clock.t = T0 + t
        fleet.answers["train"] = probe_output(util)
        await sampler.round(wait=1)
    rows = read_minutes(core.store, cluster="train")
    assert [(r.minute, r.utilization_gpu) for *_, r in rows] == [(T0, 20.0), (T0 + 60, 70.0)]
    assert {(c, n, i) for c, n, i, _ in rows} == {("train", 0, 0)}
    assert rows[0][3].memory_used_mib == float(idle_gpu()["memory.used"])
    assert rows[0][3].power_w == float(idle_gpu()["power.draw"])
    assert sampler.flush_minutes() == 1
    assert [r.utilization_gpu for *_, r in read_minutes(core.store, since=T0 + 120)] == [0.0]
    # Re-writing a minute replaces it rather than adding a second row.
    write_minutes(core.store, [("train", 0, 0, MinuteRollup(T0, 99.0, None, None, 1))])
    assert [r.utilization_gpu for *_, r in read_minutes(core.store, cluster="train")] == [99.0, 70.0, 0.0]
    await core.aclose()


async def test_idle_gpus_are_the_billing_ones_under_five_percent_for_fifteen_minutes() -> None:
    clock = Clock()
    core = fake_core(["idle", "busy", "brief"], clock)
    fleet = FakeFleet()
    sampler = Sampler(core, interval=30, transport=fleet, record_minutes=False)
    for i in range(31):  # 15 minutes of 30 s rounds
        clock.t = T0 + 30 * i
        fleet.answers = {"idle": probe_output(2.0, uuid="GPU-I"), "busy": probe_output(60.0),
                         "brief": probe_output(80.0 if i == 20 else 1.0)}
        await sampler.round(wait=1)
    assert [(g.cluster, g.uuid) for g in sampler.idle()] == [("idle", "GPU-I")]
    # A stopped cluster does not bill, so its idle GPU is no waste.
    core.store.update_cluster("idle", status="STOPPED")
    assert sampler.idle() == []
    assert idle_gpus(sampler.history, sampler.latest.values(), {"idle"}, now=clock.t + 90) == []
    await core.aclose()


async def test_clusters_that_go_away_are_dropped_and_their_minutes_kept() -> None:
    clock = Clock()
    core = fake_core(["a", "b"], clock)
    fleet = FakeFleet()
    fleet.answers = {"a": probe_output(10), "b": probe_output(20)}
    sampler = Sampler(core, interval=20, transport=fleet)
    await sampler.round(wait=1)
    core.store.update_cluster("b", status="TERMINATED")
    clock.t += 20
    snaps = await sampler.round(wait=1)
    assert [s.cluster for s in snaps] == ["a"]
    assert sampler.history.get("b", 0, "GPU-1") is None
    assert [r.utilization_gpu for *_, r in read_minutes(core.store, cluster="b")] == [20.0]
    await core.aclose()


async def test_run_sampler_rounds_until_stopped_without_overlap() -> None:
    clock = Clock()
    core = fake_core(["a"], clock)
    fleet = FakeFleet()
    fleet.answers = {"a": probe_output(10)}
    stop = asyncio.Event()
    rounds: list[list[NodeSnapshot]] = []

    def on_round(snaps: list[NodeSnapshot]) -> None:
        rounds.append(snaps)
        clock.t += 1
        if len(rounds) == 3:
            stop.set()

    sampler = await run_sampler(core, stop, on_round, interval=0.01, transport=fleet)
    assert len(rounds) == 3 and fleet.calls == {"a": 3}
    assert [r[0].sample.sampled_at for r in rounds] == [T0, T0 + 1, T0 + 2]  # type: ignore[union-attr]
    assert sampler.latest[("a", 0)].status == "ok"
    await core.aclose()


def test_local_nodes_filter_to_the_gpus_they_were_given() -> None:
    assert "CUDA_VISIBLE_DEVICES" not in node_command("aws")
    cmd = node_command("local")
    env = {"PATH": os.environ["PATH"]}
    out = subprocess.run(["bash", "-c", cmd.split(";", 1)[0]], env={**env, "CUDA_VISIBLE_DEVICES": "1"},
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"{MARK} visible =1"
    out = subprocess.run(["bash", "-c", cmd.split(";", 1)[0]], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == f"{MARK} visible"


def test_bars_and_empty_json() -> None:
    assert bar(50) == "[#####-----]"
    assert bar(29623, 143771) == "[##--------]"  # 20.6 %
    assert bar(None) == "[   n/a    ]"
    assert gpus_json([]) == []


def test_gpus_on_an_empty_fleet() -> None:
    done = skytui_cli("gpus", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    done = skytui_cli("gpus")
    assert done.returncode == 0 and "no clusters are UP" in done.stdout


# -- the local cloud with a stand-in nvidia-smi -----------------------------------------------


def test_host_gpus_sees_the_stand_in_h200(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    busy, app = busy_gpu_and_process()
    bin_dir = write_stand_in(sandbox / "smi", [busy], [app])
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STAND_IN_STATE", str(bin_dir / "state.json"))
    [gpu] = host_gpus()
    assert (gpu.index, gpu.name, gpu.memory_mib, gpu.uuid) == (0, "H200", 143771, busy["uuid"])


@pytest.mark.slow
async def test_gpus_on_the_local_cloud(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    busy, app = busy_gpu_and_process()
    twin = second_gpu()
    smi = write_stand_in(sandbox / "smi", [busy, twin], [app])
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", f"{smi}{os.pathsep}{path}")
    monkeypatch.setenv("STAND_IN_STATE", str(smi / "state.json"))
    slow_log, gate = sandbox / "slow.log", sandbox / "slow.gate"
    # The local cloud scans host GPUs once per process: this test's host has two H200s now.
    monkeypatch.setattr(offerings, "_cache", {})
    offerings._host_gpus.cache_clear()
    monkeypatch.setattr(offerings, "_host_gpus", offerings._host_gpus.__wrapped__)

    clock = Clock(T0)
    core = Core(config=Config(), clock=clock)
    told: list[Progress] = []
    h200 = Task(resources=(Resources(cloud="local", accelerators=(Accelerator("H200", 1),)),))
    cpu = Task(resources=(Resources(cloud="local"),))
    try:
        # Node processes take the environment they were started with: one launch per kind.
        await clusters.launch(core, "busy", h200, clusters.LaunchOptions())
        await clusters.launch(core, "cpu", cpu, clusters.LaunchOptions())
        with monkeypatch.context() as m:
            m.setenv("STAND_IN_GATE", str(gate))
            m.setenv("STAND_IN_LOG", str(slow_log))
            await clusters.launch(core, "slow", h200, clusters.LaunchOptions())
        with monkeypatch.context() as m:  # a node where no nvidia-smi is found, even on a GPU host
            m.setenv("PATH", os.pathsep.join([str(bare_bin(sandbox / "bare")), *without_smi(path)]))
            await clusters.launch(core, "nosmi", cpu, clusters.LaunchOptions())
        assert core.store.cluster("busy").instance_type == "local-h200x1"  # type: ignore[union-attr]
        core.listeners.append(told.append)

        sampler = Sampler(core, interval=30)
        snaps: dict[str, NodeSnapshot] = {}
        for _ in range(20):  # rounds until the busy node answered (its first SSH connect)
            clock.t += 30
            snaps = {s.cluster: s for s in await sampler.round(wait=3)}
            if snaps["busy"].status == "ok":
                break
        assert snaps["busy"].status == "ok", snaps["busy"]
        assert snaps["slow"].status == "waiting"
        assert [g.uuid for g in snaps["busy"].gpus] == [busy["uuid"]]  # only the GPU it was given
        assert snaps["cpu"].status == "no-gpus" and snaps["cpu"].gpus == ()
        for _ in range(2):
            clock.t += 30
            again = {s.cluster: s for s in await sampler.round(wait=3)}
            assert again["busy"].fresh and again["slow"].status == "waiting"
        assert len(slow_log.read_text().splitlines()) == 1  # one probe in flight, never more

        gate.write_text("go")
        for _ in range(20):
            clock.t += 30
            snaps = {s.cluster: s for s in await sampler.round(wait=3)}
            if snaps["slow"].status == "ok" and snaps["nosmi"].status != "waiting":
                break
        assert snaps["slow"].status == "ok"
        assert [g.uuid for g in snaps["slow"].gpus] == [twin["uuid"]]
        assert snaps["nosmi"].status == "no-nvidia" and snaps["nosmi"].note.startswith("no NVIDIA telemetry")
        assert len(_messages(told, "no NVIDIA telemetry")) == 1
        # Rounds a minute apart and more: per-minute rows of the busy GPU land in the store.
        assert sampler.flush_minutes() >= 1
        minutes = read_minutes(core.store, cluster="busy")
        assert minutes and {(n, i) for _, n, i, _ in minutes} == {(0, 0)}
        assert all(r.utilization_gpu == float(busy["utilization.gpu"]) for *_, r in minutes)
        assert all(r.power_w == float(busy["power.draw"]) for *_, r in minutes)
        sampler.close()

        done = skytui_cli("gpus", "--json")
        assert done.returncode == 0, done.stderr
        got = json.loads(done.stdout)
        for entry in got:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry.pop("sampled_at"))
        assert got == [expected_json("busy", busy, [app]), expected_json("slow", twin, [])]

        done = skytui_cli("gpus")
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        busy_row = next(ln for ln in lines if ln.startswith("busy "))
        assert "[##########] 100%" in busy_row and f"{app['process_name']}({app['pid']})" in busy_row
        assert f"{busy['memory.used']}/{busy['memory.total']} MiB" in busy_row
        assert done.stdout.count("no NVIDIA telemetry") == 1
        assert "no GPUs given to this node" in next(ln for ln in lines if ln.startswith("cpu "))

        snaps_once = await sample_fleet(core)
        assert sorted(s.cluster for s in snaps_once) == ["busy", "cpu", "nosmi", "slow"]
    finally:
        for name in ("busy", "cpu", "slow", "nosmi"):
            if core.store.cluster(name) is not None:
                await clusters.down(core, name)
        await core.aclose()


def test_watch_refreshes_until_ctrl_c() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "skytui.cli.main", "gpus", "--watch", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy(), cwd=ROOT)
    try:
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline()) == []  # one JSON array per refresh
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
