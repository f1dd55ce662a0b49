"""Where each cloud region is: the city the cloud documents for it, with coordinates.

Bundled facts about the clouds, like the price catalog (source: PLACES.md beside this file).
The nearest-region estimate and the config's check of `nearest.urls` region names read it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PLACES_CSV = Path(__file__).resolve().parent / "places.csv"


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    name: str


@cache
def region_places() -> dict[tuple[str, str], Place]:
    """(cloud, region) -> the region's city."""
    out = {}
    with PLACES_CSV.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out[(row["cloud"], row["region"])] = Place(float(row["latitude"]), float(row["longitude"]),
                                                       row["city"])
    return out


def known_regions(cloud: str) -> set[str]:
    """Regions of `cloud` (aws, gcp) this table knows: every catalog region and a few more."""
    return {r for c, r in region_places() if c == cloud}
