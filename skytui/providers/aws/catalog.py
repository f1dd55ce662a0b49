"""The bundled AWS offerings as this account sees them: zone names, and live spot prices.

With AWS enabled the planner works in this account's zone names (us-east-1a), and spot
prices come from DescribeSpotPriceHistory (the latest per type and zone) where they could be
fetched, else from the bundled catalog. Both are cached on disk with the time they were
fetched; `live_note()` says which prices are live, for the dry-run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from skytui.catalog.catalog import Offering
from skytui.config_model import Config

log = logging.getLogger(__name__)

SPOT_TTL_S = 3600.0
FETCH_TIMEOUT_S = 20.0
_memo: dict[tuple[object, ...], tuple[float, list[Offering]]] = {}  # key -> (made at, offerings)
_live: dict[str, float] = {}  # region -> when its live spot prices were fetched


def offerings(config: Config) -> list[Offering]:
    """AWS offerings with zone names and live spot prices where AWS answered (bundled elsewhere)."""
    key = (config.aws, tuple(sorted(config.allowed_regions.get("aws") or ())))
    made = _memo.get(key)
    if made is not None and time.time() - made[0] < SPOT_TTL_S:  # a daemon re-reads hourly
        return made[1]
    from skytui.catalog import load
    from skytui.providers.aws.session import AwsSession

    base = load("aws")
    allowed = config.allowed_regions.get("aws")
    regions = sorted({o.region for o in base if not allowed or o.region in allowed})
    session = AwsSession(config.aws, max_attempts=2)
    types: dict[str, set[str]] = {}
    for o in base:
        types.setdefault(o.region, set()).add(o.instance_type)
    zones: dict[str, dict[str, str]] = {}
    spots: dict[str, dict[tuple[str, str], float]] = {}

    def one(region: str) -> None:
        from skytui.providers.aws import zonemap

        try:
            zones[region] = zonemap.zone_names(session, region)
            spots[region] = spot_prices(session, region, sorted(types.get(region, ())))
        except Exception as exc:  # noqa: BLE001 - no credentials, offline: the bundled catalog still plans
            log.info("aws %s: using bundled zones/prices (%s)", region, exc)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, regions))
    out = []
    for o in base:
        names = zones.get(o.region)
        if names is None:
            out.append(o)
            continue
        zone = names.get(o.zone or "", o.zone)
        spot = spots.get(o.region, {}).get((o.instance_type, zone or ""))
        out.append(dataclasses.replace(o, zone=zone, spot_price=spot if spot is not None else o.spot_price))
    _memo[key] = (time.time(), out)
    return out


def live_note() -> str | None:
    """Which AWS spot prices are live, for the dry-run; None when none are."""
    if not _live:
        return None
    when = dt.datetime.fromtimestamp(min(_live.values()), dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    regions = sorted(_live)
    shown = ", ".join(regions[:6]) + (f" and {len(regions) - 6} more" if len(regions) > 6 else "")
    return (f"aws spot prices: live from DescribeSpotPriceHistory in {shown} (fetched {when}); "
            "bundled catalog prices elsewhere and for on-demand")


def _cache_file(session: object) -> Path:
    from skytui.paths import cache_dir

    s = session.settings  # type: ignore[attr-defined]
    key = hashlib.sha256(f"{s.profile}|{s.endpoint_url}".encode()).hexdigest()[:12]
    return cache_dir() / f"aws-spot-{key}.json"


def spot_prices(session: object, region: str, types: list[str]) -> dict[tuple[str, str], float]:
    """(instance type, zone name) -> latest Linux spot $/h in `region`, cached for an hour."""
    path = _cache_file(session)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    entry = data.get(region)
    if entry and time.time() - float(entry["at"]) < SPOT_TTL_S:
        _live[region] = float(entry["at"])
        return {(t, z): p for t, z, p in entry["prices"]}
    if not types:
        return {}
    ec2 = session.client("ec2", region)  # type: ignore[attr-defined]
    latest: dict[tuple[str, str], tuple[dt.datetime, float]] = {}
    now = dt.datetime.now(dt.timezone.utc)
    pages = ec2.get_paginator("describe_spot_price_history").paginate(
        InstanceTypes=types, ProductDescriptions=["Linux/UNIX", "Linux/UNIX (Amazon VPC)"], StartTime=now)
    for page in pages:
        for row in page["SpotPriceHistory"]:
            k = (row["InstanceType"], row["AvailabilityZone"])
            if k not in latest or row["Timestamp"] > latest[k][0]:
                latest[k] = (row["Timestamp"], float(row["SpotPrice"]))
    prices = {k: v[1] for k, v in latest.items()}
    at = time.time()
    from skytui.providers.aws.zonemap import update_cache

    update_cache(path, region, {"at": at, "prices": [[t, z, p] for (t, z), p in sorted(prices.items())]})
    _live[region] = at
    return prices
