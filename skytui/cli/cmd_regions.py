"""`skytui regions`: every enabled region, nearest measured first, with its round trip and prices.

Dispatched straight from main.py: with a warm cache this path reads the config and the store
and loads neither asyncio, ssl, Textual nor an SDK.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def run(args: argparse.Namespace) -> int:
    from skytui.config import CLOUDS, load_config
    from skytui.core.regions.latency import enabled_regions, for_config
    from skytui.core.regions.prices import REFERENCE_SHAPE, cheapest
    from skytui.errors import SkytuiError
    from skytui.store import open_store

    config = load_config()
    cloud = args.cloud.lower() if args.cloud else None
    if cloud is not None and cloud not in CLOUDS:
        raise SkytuiError(f"--cloud {args.cloud!r}: unknown cloud", f"use one of {', '.join(CLOUDS)}")
    if cloud is not None and cloud not in config.enabled_clouds:
        raise SkytuiError(f"--cloud {cloud}: the {cloud} cloud is not enabled",
                          "add it to `clouds:` in config.yaml (see `skytui check`)")
    regions = enabled_regions(config, cloud)
    if not regions:
        raise SkytuiError("no region is enabled" + (f" on {cloud}" if cloud else ""),
                          "check `allowed_regions` in config.yaml")
    gpu_prices = cheapest(config, regions, args.gpus) if args.gpus else None  # a bad spec fails first
    outcome = for_config(config, open_store, regions, refresh=args.refresh)
    dev_prices = cheapest(config, regions)
    rows = [_row(r, dev_prices.get(r.key), gpu_prices, args.gpus) for r in outcome.regions]
    if outcome.note:
        sys.stderr.write(f"skytui: note: {outcome.note}\n")
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    from skytui.cli.output import money, table

    headers = ["CLOUD", "REGION", "RTT", "FIRST", "METHOD", "MEASURED", "DEV $/H", "DEV SPOT $/H"]
    if args.gpus:
        headers += [f"{args.gpus} $/H", f"{args.gpus} SPOT $/H"]
    lines = []
    for row in rows:
        line = [row["cloud"], row["region"], _ms(row["rtt_ms"]), _ms(row["first_ms"]), row["method"],
                (row["measured_at"] or "-").replace("T", " ").rstrip("Z"),
                money(row["dev"]["price_per_hour"]), money(row["dev"]["spot_price_per_hour"])]
        if args.gpus:
            line += [money(row["gpus"]["price_per_hour"]), money(row["gpus"]["spot_price_per_hour"])]
        lines.append(line)
    print(table(headers, lines))
    print(f"Nearest measured first, then estimates. RTT: median round trip on a kept-alive connection; "
          f"FIRST: the first one (DNS + TCP + TLS). DEV: {REFERENCE_SHAPE}. `geo`: estimated from your "
          "time zone.")
    return 0


def _ms(v: float | None) -> str:
    return "-" if v is None else (f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms")


def _row(r: Any, dev: Any, gpu_prices: Any, gpus: str | None) -> dict[str, Any]:
    from skytui.core.status import iso

    out: dict[str, Any] = {
        "cloud": r.cloud, "region": r.region, "rtt_ms": r.rtt_ms, "first_ms": r.first_ms, "method": r.method,
        "measured_at": iso(r.measured_at), "samples": r.samples, "error": r.error,
        "dev": _price(dev),
    }
    if gpus:
        out["gpus"] = {"spec": gpus, **_price(gpu_prices.get(r.key))}
    return out


def _price(p: Any) -> dict[str, Any]:
    if p is None:
        return {"instance_type": None, "price_per_hour": None, "spot_price_per_hour": None}
    return {"instance_type": p.instance_type, "price_per_hour": p.price_per_hour,
            "spot_price_per_hour": p.spot_price_per_hour}
