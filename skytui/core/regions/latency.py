"""Each enabled region's round-trip time: cached, measured, or estimated from geography.

`method` says which, wherever a figure is shown:
- `http`: measured just now (median of kept-alive round trips);
- `cached`: measured earlier on this same network, within `nearest.ttl_hours`;
- `geo`: not measurable; estimated from the distance between the system time zone's city
  and the region's city;
- `unknown`: neither (a zone with no place such as UTC, or a region with no known city).

The warm path (everything cached) imports neither asyncio nor ssl: `skytui regions` then
costs little more than opening the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from skytui.config_model import Config, NearestSettings
from skytui.core.regions import cache
from skytui.core.regions.targets import targets as probe_targets

if TYPE_CHECKING:
    from skytui.store import Store

Key = tuple[str, str]
CLOUD_ORDER = ("aws", "gcp", "local")


@dataclass(frozen=True)
class RegionLatency:
    cloud: str
    region: str
    rtt_ms: float | None
    first_ms: float | None
    method: str  # http | cached | geo | unknown
    measured_at: float | None  # when it was measured (None for geo / unknown)
    samples: int = 0  # kept-alive round trips behind rtt_ms
    error: str | None = None  # why the region could not be measured, when it could not

    @property
    def key(self) -> Key:
        return (self.cloud, self.region)


@dataclass(frozen=True)
class Outcome:
    """Every region, nearest first, and a note for the user when the estimate is weak."""

    regions: list[RegionLatency]
    note: str | None = None

    def by_key(self) -> dict[Key, RegionLatency]:
        return {r.key: r for r in self.regions}


def enabled_regions(config: Config, cloud: str | None = None) -> list[Key]:
    """(cloud, region) of every enabled cloud: the catalog's regions (allowed ones only) and
    the local cloud's configured regions."""
    out: list[Key] = []
    for c in config.enabled_clouds:
        if cloud is not None and c != cloud:
            continue
        if c == "local":
            names: Iterable[str] = config.local.regions
        else:
            from skytui.core.regions.prices import catalog_summary

            names = sorted(catalog_summary(c))
        allowed = config.allowed_regions.get(c)
        out += [(c, r) for r in names if allowed is None or r in allowed]
    return out


# Measured regions rank before estimated ones: a region whose endpoint did not answer while
# others did is more likely blocked or down than near, and a dev VM should go where the
# round trip is known.
TRUST = {"http": 0, "cached": 0, "geo": 1, "unknown": 2}


def rank_key(r: RegionLatency) -> tuple[object, ...]:
    """Nearest measured first, then nearest estimated, then regions with no figure."""
    order = CLOUD_ORDER.index(r.cloud) if r.cloud in CLOUD_ORDER else len(CLOUD_ORDER)
    return (TRUST.get(r.method, 2), r.rtt_ms if r.rtt_ms is not None else 0.0, order, r.region)


def region_latencies(store_fn: Callable[[], Store], settings: NearestSettings, regions: list[Key], *,
                     refresh: bool = False, network: Callable[[], str] | None = None,
                     clock: Callable[[], float] = time.time, zone: str | None = None) -> Outcome:
    """Latency of each of `regions`: from the cache when fresh, else probed (within the bound)."""
    from skytui.core.regions.network import fingerprint

    store = store_fn()
    urls = probe_targets(regions, settings.urls)
    net = (network or fingerprint)()
    now = clock()
    fresh = {} if refresh else cache.read(store, urls, net, now, settings.ttl_hours * 3600)
    missing = {k: u for k, u in urls.items() if k not in fresh}
    probed = {}
    if missing:
        import asyncio

        from skytui.core.regions.probe import probe_all

        probed = asyncio.run(probe_all(missing, bound_s=settings.probe_seconds))
        import sqlite3

        try:
            cache.write(store, probed, missing, net, now)
        except sqlite3.Error:
            pass  # a full disk or a locked store costs the cache, not the answer
    out: list[RegionLatency] = []
    failed: list[tuple[Key, str | None]] = []
    for key in regions:
        if key in probed:
            p = probed[key]
            if p.rtt_ms is not None:
                out.append(RegionLatency(*key, p.rtt_ms, p.first_ms, "http", now, len(p.rtts_ms)))
                continue
            failed.append((key, p.error))
        elif key in fresh:
            c = fresh[key]
            if c.rtt_ms is not None:
                out.append(RegionLatency(*key, c.rtt_ms, c.first_ms, "cached", c.measured_at, c.samples))
                continue
            failed.append((key, c.error))
        else:
            failed.append((key, "no endpoint to probe"))
    note = None
    if failed:
        guesses, note = estimate([k for k, _ in failed], zone)
        errors = dict(failed)
        out += [RegionLatency(k[0], k[1], guesses.get(k), None, "geo" if k in guesses else "unknown", None,
                              error=errors[k]) for k, _ in failed]
    out.sort(key=rank_key)
    return Outcome(out, note)


def estimate(keys: list[Key], zone: str | None = None) -> tuple[dict[Key, float], str | None]:
    """Geographic round-trip guesses for `keys`, and why some (or all) have none."""
    from skytui.core.regions import geo

    name = zone or geo.system_zone()
    if not name:
        return {}, "the system time zone is not set, so unmeasured regions cannot be estimated (set TZ)"
    try:
        here = geo.zone_place(name)
    except geo.TimeZoneUnknown:
        return {}, f"time zone {name!r} is not in the tz database; unmeasured regions show `unknown` (set TZ)"
    if here is None:
        return {}, (f"time zone {name} names no place, so unmeasured regions show `unknown` "
                    "(set TZ to your city's zone, e.g. TZ=Europe/Berlin)")
    from skytui.catalog.places import region_places

    places = region_places()
    out = {k: round(geo.rtt_estimate_ms(geo.distance_km(here, places[k])), 1) for k in keys if k in places}
    return out, None


def for_config(config: Config, store_fn: Callable[[], Store], regions: list[Key] | None = None, *,
               refresh: bool = False) -> Outcome:
    """`region_latencies` with the config's settings, over its enabled regions by default."""
    return region_latencies(store_fn, config.nearest, enabled_regions(config) if regions is None else regions,
                            refresh=refresh)
