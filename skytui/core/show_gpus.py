"""The rows of `skytui show-gpus [NAME] [--all-regions]`: which GPUs, where, at what price."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from skytui.catalog.catalog import Offering
from skytui.errors import NoOffering


def _parse_name(name: str) -> tuple[str, int | None]:
    """`A100` or `A100:8` -> (name, count or None)."""
    base, sep, count = name.strip().partition(":")
    if not sep:
        return base, None
    try:
        n = int(count)
    except ValueError:
        raise NoOffering(f"bad GPU count in {name!r}",
                         "write NAME or NAME:COUNT, e.g. A100:8") from None
    if n < 1:
        raise NoOffering(f"bad GPU count in {name!r}", "the count must be 1 or more")
    return base, n


def _select(name: str, gpu_offers: list[Offering]) -> list[Offering]:
    base, count = _parse_name(name)
    known = sorted({o.accelerator_name for o in gpu_offers if o.accelerator_name})
    by_folded = {k.lower(): k for k in known}
    canonical = by_folded.get(base.lower())
    if canonical is None:
        near = difflib.get_close_matches(base.lower(), list(by_folded), n=1, cutoff=0.5)
        raise NoOffering(f"no offering has {base} GPUs; known: {', '.join(known)}",
                         f"did you mean {by_folded[near[0]]!r}?" if near
                         else "run `skytui show-gpus` for the list")
    chosen = [o for o in gpu_offers if o.accelerator_name == canonical]
    if count is None:
        return chosen
    counted = [o for o in chosen if o.accelerator_count == count]
    if not counted:
        counts = sorted({o.accelerator_count for o in chosen})
        raise NoOffering(f"no offering of {canonical}:{count}",
                         f"{canonical} comes as {', '.join(f'{canonical}:{c}' for c in counts)}")
    return counted


def _row(o: Offering) -> dict[str, Any]:
    return {
        "accelerator": o.accelerator_name, "count": o.accelerator_count, "cloud": o.cloud,
        "instance_type": o.instance_type, "vcpus": o.vcpus, "memory_gib": o.memory_gib,
        "accelerator_memory_gib": o.accelerator_memory_gib, "region": o.region,
        "price": o.price, "spot_price": o.spot_price,
    }


def _cheapest_per_region(offers: Iterable[Offering]) -> list[dict[str, Any]]:
    """One row per (cloud, type, GPUs, region): the lowest on-demand and spot of its zones."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for o in offers:
        # GCP n1 hosts take several GPU models and counts: each is its own row.
        key = (o.cloud, o.instance_type, o.accelerator_name, o.accelerator_count, o.region)
        row = rows.get(key)
        if row is None:
            rows[key] = _row(o)
            continue
        row["price"] = min(row["price"], o.price)
        if o.spot_price is not None:
            spot = row["spot_price"]
            row["spot_price"] = o.spot_price if spot is None else min(spot, o.spot_price)
    return list(rows.values())


def _sort_key(row: dict[str, Any]) -> tuple[Any, ...]:
    spot = row["spot_price"]
    return (row["accelerator"], row["count"], row["price"],
            spot if spot is not None else float("inf"), row["cloud"], row["instance_type"],
            row["region"])


def gpu_table(name: str | None, all_regions: bool,
              offerings: list[Offering]) -> list[dict[str, Any]]:
    """Rows of GPU offerings: per region with `all_regions`, else each type's cheapest region.

    Keys: accelerator, count, cloud, instance_type, vcpus, memory_gib,
    accelerator_memory_gib (per GPU), region, price (on-demand $/h), spot_price
    ($/h or None). `name` may be `A100` or `A100:8`; sorted by accelerator, count,
    then price. Spot is the cheapest spot of the row's region, which may be cheaper
    elsewhere: `--all-regions` shows every region.
    """
    gpu_offers = [o for o in offerings if o.accelerator_name]
    if name:
        gpu_offers = _select(name, gpu_offers)
    rows = sorted(_cheapest_per_region(gpu_offers), key=_sort_key)
    if all_regions:
        return rows
    best: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:  # already cheapest first within each accelerator and count
        best.setdefault((row["cloud"], row["instance_type"], row["accelerator"], row["count"]), row)
    return sorted(best.values(), key=_sort_key)
