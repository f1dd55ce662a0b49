"""Where the user probably is (the system time zone) and a round-trip estimate from distance.

Used when a region cannot be measured: offline, behind a proxy that drops the probe, or a
region whose endpoint does not answer. The estimate is a guess and is always labelled
`method: geo`; a zone with no place (UTC) gives no estimate at all (`unknown`).
"""

from __future__ import annotations

import math
import os
from functools import cache
from pathlib import Path

from skytui.catalog.places import Place

DATA = Path(__file__).resolve().parent / "data"

# Light in fibre covers about 200 km per ms; real routes are longer than the great circle
# (route inflation, commonly measured at 1.3-2x), and the access network adds a few ms.
FIBRE_KM_PER_MS = 200.0
ROUTE_INFLATION = 1.4
ACCESS_MS = 5.0
EARTH_RADIUS_KM = 6371.0


class TimeZoneUnknown(Exception):
    """The system names a time zone the bundled tz database does not know."""


def system_zone() -> str | None:
    """The IANA name of this system's time zone, from TZ, /etc/timezone or /etc/localtime."""
    tz = os.environ.get("TZ")
    if tz:
        name = _zone_from_path(tz.lstrip(":"))
        if name:
            return name
    try:
        text = Path("/etc/timezone").read_text().strip()
        if text:
            return text
    except OSError:
        pass
    try:
        return _zone_from_path(os.readlink("/etc/localtime"))
    except OSError:
        return None


def _zone_from_path(value: str) -> str | None:
    """`Europe/Berlin`, or the part after `zoneinfo/` of a path to a zone file."""
    marker = "zoneinfo/"
    if marker in value:
        return value.split(marker, 1)[1] or None
    if value.startswith("/"):
        return None
    return value or None


def _coordinate(text: str, degree_digits: int) -> float:
    """One ISO 6709 component (`+5231` or `+523100`) in decimal degrees."""
    sign = -1.0 if text[0] == "-" else 1.0
    digits = text[1:]
    deg = int(digits[:degree_digits])
    minutes = int(digits[degree_digits:degree_digits + 2])
    seconds = int(digits[degree_digits + 2:degree_digits + 4] or 0)
    return sign * (deg + minutes / 60 + seconds / 3600)


def parse_iso6709(text: str) -> tuple[float, float]:
    """`+5230+01322` -> (52.5, 13.37); the tz tables' coordinate column."""
    cut = max(text.rfind("+"), text.rfind("-"))
    lat, lon = text[:cut], text[cut:]
    return _coordinate(lat, 2), _coordinate(lon, 3)


@cache
def _zone_table() -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    # zone.tab first, so zone1970.tab (the primary source) wins where both list a zone.
    for name in ("zone.tab", "zone1970.tab"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) >= 3:
                out[cols[2]] = parse_iso6709(cols[1])
    return out


@cache
def _links() -> dict[str, str]:
    out = {}
    for line in (DATA / "tzlinks.tab").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            alias, _, target = line.partition("\t")
            out[alias] = target
    return out


def zone_place(zone: str) -> Place | None:
    """Where a time zone's principal city is; None for zones with no place (UTC, Etc/GMT+3).

    Raises TimeZoneUnknown for a name the tz database does not have.
    """
    if _placeless(zone):  # servers and containers mostly: no table to read
        return None
    table = _zone_table()
    name = zone
    for _ in range(4):  # links point at zones, but follow a short chain to be safe
        if name in table:
            lat, lon = table[name]
            return Place(lat, lon, zone)
        if name not in _links():
            break
        name = _links()[name]
    if _placeless(name):
        return None
    raise TimeZoneUnknown(zone)


def _placeless(name: str) -> bool:
    return name in ("UTC", "UCT", "GMT", "Zulu", "Universal", "Greenwich") or name.startswith("Etc/")


def distance_km(a: Place, b: Place) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
    dp = p2 - p1
    dl = math.radians(b.longitude - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def rtt_estimate_ms(km: float) -> float:
    """A round trip over `km` of great-circle distance, as a network would likely route it."""
    return ACCESS_MS + 2 * km * ROUTE_INFLATION / FIBRE_KM_PER_MS
