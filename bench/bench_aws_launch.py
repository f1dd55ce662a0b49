"""skytui's own CPU for a 1-node AWS launch request, against moto in another process.

Run: python -m bench.bench_aws_launch [--launches 10]
Measures this process's CPU (time.process_time: skytui and botocore, not moto, which runs
in its own process) for AwsProvider.launch of one node with a new request id each time,
after a first launch made the region's key pair, security group and image lookup (what
every later launch in that region reuses). The floor, measured in the same run, is the CPU
of the one bare boto3 run_instances call with the same parameters: what any adapter must
pay. Budget: 150 ms of CPU per launch.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bench.aws_moto import moto_servers, sandbox

BUDGET_MS = 150.0


async def run(args: argparse.Namespace) -> None:
    from skytui.config_model import AwsSettings, Config
    from skytui.paths import keys_dir
    from skytui.providers.aws.provider import AwsProvider
    from skytui.providers.base import LaunchSpec
    from skytui.remote.keys import ensure_user_key
    from skytui.store import current_user

    _, public = ensure_user_key(keys_dir())
    with moto_servers(1) as (url,):
        cfg = Config(clouds=("aws",), aws=AwsSettings(endpoint_url=url))
        t0, c0 = time.perf_counter(), time.process_time()
        prov = AwsProvider(cfg)

        def spec(i: int) -> LaunchSpec:
            return LaunchSpec(request_id=f"bench-{i}-aws-us-east-1-a", cluster=f"bench-{i}", num_nodes=1,
                              region="us-east-1", zone="us-east-1a", instance_type="c6i.xlarge", spot=False,
                              user=current_user(), ssh_public_key=public)

        await prov.launch(spec(0))
        cold_cpu, cold_wall = (time.process_time() - c0) * 1000, (time.perf_counter() - t0) * 1000
        ours, floor = [], []
        ec2 = prov.ec2("us-east-1")
        img = prov.setup.image(ec2, "us-east-1", gpu=False, image_id=None).image_id
        for i in range(1, args.launches + 1):
            c0 = time.process_time()
            await prov.launch(spec(i))
            ours.append((time.process_time() - c0) * 1000)
            c0 = time.process_time()
            ec2.run_instances(ImageId=img, InstanceType="c6i.xlarge", MinCount=1, MaxCount=1,
                              Placement={"AvailabilityZone": "us-east-1a"}, TagSpecifications=[
                                  {"ResourceType": "instance", "Tags": [{"Key": "k", "Value": str(i)}]}])
            floor.append((time.process_time() - c0) * 1000)
        med, fl = statistics.median(ours), statistics.median(floor)
        print(f"first launch in a fresh process (boto3 import, clients, key pair, group, image): "
              f"{cold_cpu:.0f} ms CPU, {cold_wall:.0f} ms wall")
        print(f"1-node launch, CPU of this process: median {med:.1f} ms, max {max(ours):.1f} ms "
              f"over {len(ours)} launches (budget {BUDGET_MS:.0f} ms): {'OK' if med <= BUDGET_MS else 'OVER'}")
        print(f"floor, one bare boto3 run_instances: median {fl:.1f} ms; ratio {med / fl:.2f}x "
              "(skytui adds the adoption lookup and the final describe)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--launches", type=int, default=10)
    sandbox()
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
