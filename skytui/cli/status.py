"""`skytui status`: reads only the store (no SDKs, no Textual, no asyncio) unless --refresh."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from skytui.core.status import cluster_dict


def run(args: argparse.Namespace) -> int:
    if args.refresh:  # asks the clouds: the only status path that needs the event loop
        from skytui.cli.commands import run_core
        from skytui.core.refresh import refresh_all

        run_core(lambda core: refresh_all(core), progress=False)
    if args.json:
        return status_json(args)
    return status_table(args)


def _rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    from skytui.store import open_store

    rows = open_store().cluster_rows(include_terminated=args.all)
    wanted = set(args.names or ())
    return [cluster_dict(r) for r in rows if not wanted or r["name"] in wanted]


def status_json(args: argparse.Namespace) -> int:
    sys.stdout.write(json.dumps(_rows(args), indent=2) + "\n")
    return 0


def status_table(args: argparse.Namespace) -> int:
    from skytui.cli.output import money, table

    rows = _rows(args)
    if not rows:
        print("No clusters. Launch one: skytui launch examples/hello.yaml -c hello  (or `skytui dev`)")
        return 0
    print(table(["NAME", "CLOUD", "REGION/ZONE", "STATUS", "RESOURCES", "SPOT", "$/H", "AUTOSTOP", "JOB"],
                [(r["name"], r["cloud"], f"{r['region']}/{r['zone']}", r["status"],
                  f"{r['num_nodes']}x {r['accelerators'] or r['instance_type']}",
                  "yes" if r["spot"] else "no", money(r["price_per_hour"]),
                  f"{r['autostop_minutes']}m" if r["autostop_minutes"] else "-", r["job_id"]) for r in rows]))
    return 0
