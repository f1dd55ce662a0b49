"""Measured latencies in the state store (table `region_latency`), one row per region."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skytui.core.regions.probe import Probe
    from skytui.store import Store

Key = tuple[str, str]  # (cloud, region)

# A region that did not answer is asked again sooner than one that did: the failure may have
# been a blip, and until it answers it is ranked by a guess.
FAILURE_TTL_S = 3600.0


@dataclass(frozen=True)
class Cached:
    url: str
    rtt_ms: float | None
    first_ms: float | None
    samples: int
    error: str | None
    measured_at: float


def read(store: Store, targets: Mapping[Key, str], network: str, now: float, ttl_s: float) -> dict[Key, Cached]:
    """Rows still good for these targets: same URL, same network, younger than the TTL."""
    out = {}
    rows = store.db.conn.execute(
        "SELECT cloud, region, url, network, rtt_ms, first_ms, samples, error, measured_at FROM region_latency")
    for r in rows:
        key = (r["cloud"], r["region"])
        if key not in targets or r["url"] != targets[key] or r["network"] != network:
            continue
        age = now - r["measured_at"]
        limit = ttl_s if r["rtt_ms"] is not None else min(ttl_s, FAILURE_TTL_S)
        if 0 <= age <= limit:  # a clock that jumped back makes a row suspect, not fresh
            out[key] = Cached(r["url"], r["rtt_ms"], r["first_ms"], r["samples"], r["error"], r["measured_at"])
    return out


def write(store: Store, probes: Mapping[Key, Probe], urls: Mapping[Key, str], network: str, now: float) -> None:
    """Keep what was just measured (failures too, so a dead region is not re-probed every call)."""
    with store.db.transaction() as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO region_latency(cloud, region, url, network, rtt_ms, first_ms, samples,"
            " error, measured_at) VALUES (?,?,?,?,?,?,?,?,?)",
            [(k[0], k[1], urls[k], network, p.rtt_ms, p.first_ms, len(p.rtts_ms), p.error, now)
             for k, p in probes.items()])


def forget(store: Store) -> None:
    with store.db.transaction() as conn:
        conn.execute("DELETE FROM region_latency")
