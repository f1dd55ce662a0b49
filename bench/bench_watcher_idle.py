"""CPU of an idle watcher: 200 running managed jobs over 4 regions, default settings.

Run: python bench/bench_watcher_idle.py [--seconds 60] [--jobs 200]
The 200 jobs' instances come from a fake provider (4 regions, one list call per region per
round) and the per-job node check (one SSH round trip each, every job_check_seconds) is
replaced by a fake that answers "running" after burning the CPU a real check costs here
(3.4 ms, measured against a local node; --probe-cpu-ms): this measures the watcher's own work (listing,
reconciling, scheduling), not 200 node processes or SSH crypto. Prints CPU time / wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REGIONS = ("r1", "r2", "r3", "r4")


def _sandbox() -> None:
    root = tempfile.mkdtemp(prefix="skytui-bench-")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = os.path.join(root, var)
        os.makedirs(os.environ[var])
    os.environ["HOME"] = root


async def main(args: argparse.Namespace) -> None:
    from skytui.config_model import Config
    from skytui.core.context import Core
    from skytui.core.watcher import WatcherSettings
    from skytui.core.watcher import probe as probe_mod
    from skytui.core.watcher.loop import Watcher
    from skytui.providers.base import Instance, Provider
    from skytui.store import Node
    from skytui.task.spec import Task

    class FakeCloud(Provider):
        name = "local"

        def __init__(self) -> None:
            self.by_region: dict[str, list[Instance]] = {r: [] for r in REGIONS}
            self.list_calls = 0

        def regions(self) -> list[str]:
            return list(REGIONS)

        def zones(self, region: str) -> list[str]:
            return ["a"]

        async def launch(self, spec):  # type: ignore[no-untyped-def]
            raise AssertionError("an idle watcher launches nothing")

        async def list_instances(self, region: str) -> list[Instance]:
            self.list_calls += 1
            return list(self.by_region[region])

        async def stop(self, ids):  # type: ignore[no-untyped-def]
            pass

        async def start(self, ids):  # type: ignore[no-untyped-def]
            return []

        async def terminate(self, ids):  # type: ignore[no-untyped-def]
            raise AssertionError("an idle watcher terminates nothing")

    core = Core(Config())
    fake = FakeCloud()
    core._providers["local"] = fake
    from skytui.core.jobs.taskjson import task_to_json
    from skytui.core.watcher.records import open_attempt, request_base
    from skytui.store import Cluster

    store = core.store
    for k in range(args.jobs):
        region = REGIONS[k % len(REGIONS)]
        jid = store.add_job(f"j{k}", task_to_json(Task(name=f"j{k}", run="sleep 1")), f"t{k}", spot=True)
        name = f"j{k}-{jid}"
        store.update_job(jid, cluster=name)
        open_attempt(store, jid, name)
        iid = f"i-{k}"
        store.create_cluster(Cluster(name=name, cloud="local", status="UP", user="me", updated_at=time.time(),
                                     region=region, zone="a", spot=1, job_id=jid, request_id=request_base(jid, 1)))
        store.set_nodes(name, [Node(name, 0, iid, "127.0.0.1", 22, "ssh-ed25519 AAAA")])
        store.transition_job(jid, ["STARTING"], "RUNNING", started_at=time.time())
        fake.by_region[region].append(Instance(
            id=iid, cloud="local", cluster=name, node=0, region=region, zone="a", state="running", spot=True,
            instance_type="x", user="me", request_id=f"{request_base(jid, 1)}-local-{region}-a", job_id=jid))

    checks = 0

    async def fake_probe(core, cluster, node, remote_job, log_offset=None, timeout=20.0):  # type: ignore[no-untyped-def]
        nonlocal checks
        checks += 1
        spin = time.process_time() + args.probe_cpu_ms / 1000
        while time.process_time() < spin:  # what one real SSH check costs us (measured on a local node)
            pass
        return probe_mod.NodeJob("running")

    probe_mod.probe = fake_probe  # type: ignore[assignment]
    settings = WatcherSettings.from_config(core.config)
    w = Watcher(core, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(w.run(stop))
    await asyncio.sleep(settings.poll_seconds)  # warm up: first round
    cpu0, wall0, calls0 = time.process_time(), time.monotonic(), fake.list_calls
    await asyncio.sleep(args.seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    stop.set()
    await task
    statuses = {j.status for j in store.jobs()}
    print(f"{args.jobs} running jobs over {len(REGIONS)} regions, poll {settings.poll_seconds}s, "
          f"node checks spread to one per job every {max(settings.job_check_seconds, args.jobs * settings.job_check_per_job_seconds):.0f}s "
          f"(fake provider; fake checks costing {args.probe_cpu_ms} ms CPU each)")
    print(f"list calls: {fake.list_calls - calls0} in {wall:.1f}s; node checks: {checks}; statuses: {statuses}")
    print(f"CPU {cpu:.3f}s over {wall:.1f}s = {100 * cpu / wall:.2f}% of one core")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--probe-cpu-ms", type=float, default=3.4, help="CPU one real SSH node check costs")
    _sandbox()
    asyncio.run(main(ap.parse_args()))
