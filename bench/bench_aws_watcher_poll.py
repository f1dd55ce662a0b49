"""One watcher poll over 4 AWS regions holding 200 instances, against moto.

Run: python -m bench.bench_aws_watcher_poll [--instances 200] [--rounds 5]
Each region is its own moto server process (EC2 has one endpoint per region). A round is
what the watcher does each poll: skytui.core.refresh.list_regions over the 4 regions. Counts
DescribeInstances calls with a botocore event hook (must be exactly 4 per round) and
compares the round's wall time with the slowest single region's call, measured alone in the
same run (the floor: regions listed concurrently cost no more than the slowest one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from bench.aws_moto import moto_servers, per_region_session, sandbox

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1")


async def run(args: argparse.Namespace) -> None:
    from skytui.config_model import AwsSettings, Config
    from skytui.core.context import Core
    from skytui.core.refresh import list_regions
    from skytui.providers.aws.provider import AwsProvider
    from skytui.store import current_user

    with moto_servers(len(REGIONS)) as urls:
        endpoints = dict(zip(REGIONS, urls))
        cfg = Config(clouds=("aws",), aws=AwsSettings(endpoint_url=urls[0]))
        prov = AwsProvider(cfg, session=per_region_session(cfg.aws, endpoints))
        core = Core(cfg)
        core._providers["aws"] = prov  # the bench's per-region endpoints
        per = args.instances // len(REGIONS)
        calls = {"n": 0}
        for region in REGIONS:
            ec2 = prov.ec2(region)
            img = ec2.describe_images(Owners=["099720109477"])["Images"][0]["ImageId"]
            tags = [{"Key": "skytui-user", "Value": current_user()}, {"Key": "skytui-cluster", "Value": "bench"},
                    {"Key": "skytui-node", "Value": "0"}]
            ec2.run_instances(ImageId=img, MinCount=per, MaxCount=per, InstanceType="t3.micro",
                              TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])
            ec2.meta.events.register("before-call.ec2.DescribeInstances",
                                     lambda **_: calls.__setitem__("n", calls["n"] + 1))
        await list_regions(core, {("aws", r) for r in REGIONS})  # warm connections
        ratios, rounds_ms, slowest_ms, cpu_ms, bare_ms = [], [], [], [], []
        from concurrent.futures import ThreadPoolExecutor

        bare_pool = ThreadPoolExecutor(len(REGIONS))
        user_filter = [{"Name": "tag:skytui-user", "Values": [current_user()]}]

        def bare(region: str) -> None:
            for _ in prov.ec2(region).get_paginator("describe_instances").paginate(Filters=user_filter):
                pass

        for _ in range(args.rounds):
            singles = []
            for region in REGIONS:
                t0, c0 = time.perf_counter(), time.process_time()
                await prov.list_instances(region)
                singles.append(time.perf_counter() - t0)
                cpu_ms.append((time.process_time() - c0) * 1000)
            before = calls["n"]
            t0 = time.perf_counter()
            found = await list_regions(core, {("aws", r) for r in REGIONS})
            wall = time.perf_counter() - t0
            n_calls = calls["n"] - before
            assert n_calls == len(REGIONS), f"{n_calls} DescribeInstances calls in a round"
            assert sum(len(v) for v in found.instances.values()) == per * len(REGIONS), found.errors
            ratios.append(wall / max(singles))
            t0 = time.perf_counter()
            list(bare_pool.map(bare, REGIONS))  # the same 4 calls, bare boto3 on 4 threads
            bare_ms.append((time.perf_counter() - t0) * 1000)
            rounds_ms.append(wall * 1000)
            slowest_ms.append(max(singles) * 1000)
        print(f"{per * len(REGIONS)} instances over {len(REGIONS)} regions; DescribeInstances per round: "
              f"{len(REGIONS)} (counted by a botocore hook)")
        print(f"round wall: median {statistics.median(rounds_ms):.1f} ms; slowest single region alone "
              f"(floor): median {statistics.median(slowest_ms):.1f} ms")
        print(f"skytui+botocore CPU per region call: median {statistics.median(cpu_ms):.1f} ms; "
              f"CPUs here: {os.cpu_count()} (each moto server needs one to answer concurrently)")
        print(f"bare boto3, the same 4 calls on 4 threads (no skytui): median {statistics.median(bare_ms):.1f} ms "
              f"= {statistics.median(bare_ms) / statistics.median(slowest_ms):.2f}x the floor on this host; "
              f"skytui's round / bare round: {statistics.median(rounds_ms) / statistics.median(bare_ms):.2f}x")
        worst = max(ratios)
        print(f"ratio round/floor: median {statistics.median(ratios):.2f}x, worst {worst:.2f}x "
              f"(budget 1.30x): {'OK' if statistics.median(ratios) <= 1.3 else 'OVER'}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    sandbox()
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
