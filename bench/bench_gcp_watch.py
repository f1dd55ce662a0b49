"""CPU of one watcher poll over every GCP region, 500 instances in the Compute REST fake.

Run: python -m bench.bench_gcp_watch [--instances 500] [--rounds 20]
The fake runs in its own process, so only skytui's CPU (this process, all its threads: the
SDK's HTTP and JSON work included) is measured. A round is what the watcher's listing does:
`list_instances(region)` for every enabled GCP region at once. Floor, measured in the same
run: the bare SDK paging through the same aggregatedList with nothing done with the result.
Prints ms of CPU per round, the ratio to the floor, and the list calls each round made.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_FAKE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from gcp_fake.server import FakeCompute, serve
from google.cloud import compute_v1 as cv1
fake = FakeCompute("skytui-bench", op_polls=0)
zones = sorted(fake.offerings)
n = int(sys.argv[2])
for i in range(n):
    zone = zones[i % len(zones)]
    mtype = sorted(fake.offerings[zone]["machine"])[0]
    spot = i % 2 == 0
    body = cv1.Instance(
        name=f"bench-{i:04d}-n0", machine_type=f"zones/{zone}/machineTypes/{mtype}",
        labels={"skytui-cluster": f"bench-{i:04d}", "skytui-node": "0", "skytui-user": "bench",
                "skytui-request": f"bench-{i:04d}", "skytui-job": str(i)},
        description="skytui " + json.dumps(
            {"cluster": f"bench-{i:04d}", "node": 0, "user": "bench", "request": f"bench-{i:04d}", "job": i,
             "type": mtype, "spot": spot}),
        metadata=cv1.Metadata(items=[cv1.Items(key="ssh-keys", value="bench:ssh-ed25519 " + "A" * 68 + " bench")]),
        scheduling=cv1.Scheduling(on_host_maintenance="TERMINATE", automatic_restart=False,
                                  **({"provisioning_model": "SPOT", "instance_termination_action": "DELETE"} if spot else {})),
        disks=[cv1.AttachedDisk(boot=True, auto_delete=True, initialize_params=cv1.AttachedDiskInitializeParams(
            source_image="projects/debian-cloud/global/images/family/debian-12", disk_size_gb=100))],
        network_interfaces=[cv1.NetworkInterface(access_configs=[cv1.AccessConfig(type_="ONE_TO_ONE_NAT")])])
    fake.insert(zone, cv1.Instance.to_json(body).encode(), {})
    fake.get(zone, body.name)
server, url = serve(fake)
print(url, flush=True)
sys.stdin.read()
print(json.dumps(fake.calls), flush=True)
"""


def _sandbox() -> None:
    root = tempfile.mkdtemp(prefix="skytui-bench-")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = os.path.join(root, var)
        os.makedirs(os.environ[var])
    os.environ["HOME"] = root


async def main(args: argparse.Namespace) -> None:
    from skytui.config_model import Config, GcpSettings
    from skytui.core.context import Core
    from skytui.core.refresh import list_regions
    from skytui.providers.gcp import naming

    fake = subprocess.Popen([sys.executable, "-c", _FAKE, str(ROOT / "tests"), str(args.instances)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None and fake.stdin is not None
    endpoint = fake.stdout.readline().strip()
    core = Core(Config(clouds=("gcp",), gcp=GcpSettings(project="skytui-bench", endpoint=endpoint)))
    provider = core.provider("gcp")
    provider.user = "bench"  # type: ignore[attr-defined]
    regions = {("gcp", r) for r in provider.regions()}

    first = await list_regions(core, regions)  # loads the SDK and makes the clients: not a round
    seen = sum(len(v) for v in first.instances.values())
    assert not first.errors and seen == args.instances, (first.errors, seen)

    cpu = []
    for _ in range(args.rounds):
        provider._generation += 1  # type: ignore[attr-defined]  # as after a change: no reuse across rounds
        t0 = time.process_time()
        await list_regions(core, regions)
        cpu.append(time.process_time() - t0)

    api = provider.api  # type: ignore[attr-defined]
    cv1, instances, _ = api._setup()
    def bare(mask: tuple[tuple[str, str], ...]) -> list[float]:
        out = []
        for _ in range(args.rounds):
            t0 = time.process_time()
            req = cv1.AggregatedListInstancesRequest(project=api.project, filter=naming.user_filter("bench"),
                                                     max_results=500)
            n = sum(len(s.instances) for _, s in instances.aggregated_list(request=req, retry=None, metadata=mask))
            out.append(time.process_time() - t0)
            assert n == args.instances
        return out

    from skytui.providers.gcp.api import LIST_FIELDS

    floor = bare((("x-goog-fieldmask", LIST_FIELDS),))
    whole = bare(())

    fake.stdin.close()
    calls = json.loads(fake.stdout.readline())
    fake.wait(10)
    lists = sum(1 for _, path in calls if path.endswith("/aggregated/instances"))
    other = len(calls) - lists
    rounds = args.rounds + 1
    # The floors' pages are counted too: subtract them to get the watcher's calls per round.
    pages = -(-args.instances // 500)
    per_round = (lists - 2 * args.rounds * pages) / rounds
    med = sorted(cpu)[len(cpu) // 2] * 1000
    fmed = sorted(floor)[len(floor) // 2] * 1000
    print(f"GCP watcher poll: {len(regions)} regions, {args.instances} instances, {args.rounds} rounds")
    print(f"  list calls per round: {per_round:.0f} aggregatedList ({pages} page(s) each); other calls: {other}")
    print(f"  skytui CPU per round: median {med:.1f} ms, max {max(cpu) * 1000:.1f} ms (budget 100 ms)")
    print(f"  floor (bare SDK paging, same list, same field mask): median {fmed:.1f} ms")
    print(f"  for scale, bare SDK paging of whole instances (no field mask): median "
          f"{sorted(whole)[len(whole) // 2] * 1000:.1f} ms")
    print(f"  ratio to floor: {med / fmed:.2f}x; skytui's own share: {med - fmed:.1f} ms")
    await core.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=20)
    _sandbox()
    asyncio.run(main(parser.parse_args()))
