"""The cheapest on-demand and spot $/h of a shape in each region, by the planner's rules."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from skytui.config_model import Config

CATALOG_CLOUDS = ("aws", "gcp")  # the clouds with a bundled price file (skytui.catalog.CATALOG_CLOUDS)

Key = tuple[str, str]
REFERENCE_SHAPE = "dev VM (2+ vCPUs, no GPU)"  # what `skytui dev` launches with no flags
MIN_DEV_VCPUS = 2.0  # the planner's DEFAULT_MIN_CPUS, without importing the planner (a test holds them equal)


@dataclass(frozen=True)
class ShapePrice:
    instance_type: str | None  # of the cheapest on-demand offering
    price_per_hour: float | None
    spot_price_per_hour: float | None


def cheapest(config: Config, regions: list[Key], gpus: str | None = None) -> dict[Key, ShapePrice]:
    """Per region: the cheapest node of the reference dev shape, or of `gpus` (e.g. "H100:8").

    The same matching rules as the planner's for these two simple shapes (a test holds them
    together), as one pass over the offerings: this runs on every `skytui regions`, where the
    planner's candidate lists and sorting would cost more than the rest of the command.
    """
    from skytui.catalog.accelerators import canonical

    want_name: str | None = None
    want_count: float = 0
    if gpus:
        from skytui.core.resources import parse_gpus

        acc = parse_gpus(gpus)
        want_name, want_count = (canonical(acc.name) or acc.name).lower(), acc.count
    wanted = set(regions)
    get = _offerings(config, {c for c, _ in regions}, with_gpus=bool(gpus))
    on_demand: dict[Key, tuple[float, str]] = {}
    spot: dict[Key, float] = {}
    for cloud in dict.fromkeys(c for c, _ in regions):
        if want_name is None and cloud in CATALOG_CLOUDS:
            for region, shape in catalog_summary(cloud).items():
                if (cloud, region) in wanted and shape.instance_type is not None:
                    on_demand[(cloud, region)] = (shape.price_per_hour or 0.0, shape.instance_type)
                    if shape.spot_price_per_hour is not None:
                        spot[(cloud, region)] = shape.spot_price_per_hour
            continue
        for o in get(cloud):
            key = (o.cloud, o.region)
            if key not in wanted:
                continue
            if want_name is None:
                if o.accelerator_name or o.vcpus < MIN_DEV_VCPUS:
                    continue
            elif (o.accelerator_name or "").lower() != want_name or o.accelerator_count != want_count:
                continue
            best = on_demand.get(key)
            if best is None or (o.price, o.instance_type) < best:
                on_demand[key] = (o.price, o.instance_type)
            if o.spot_price is not None and o.spot_price < spot.get(key, float("inf")):
                spot[key] = o.spot_price
    return {k: ShapePrice(on_demand[k][1], on_demand[k][0], spot.get(k)) for k in on_demand}


@cache
def catalog_summary(cloud: str) -> dict[str, ShapePrice]:
    """Every region of a bundled catalog, with its cheapest reference dev shape.

    Read straight from the CSV (columns by header name), without building an Offering per
    row: `skytui regions` needs only this, and it costs a third of loading the catalog.
    A region with no CPU-only offering maps to an empty ShapePrice.
    """
    import csv

    from skytui.catalog.catalog import DATA_DIR

    out: dict[str, ShapePrice] = {}
    with (DATA_DIR / f"{cloud}.csv").open(newline="") as f:
        rows = csv.reader(f)
        col = {name: i for i, name in enumerate(next(rows))}
        i_type, i_vcpus, i_acc, i_region = col["instance_type"], col["vcpus"], col["accelerator_name"], col["region"]
        i_price, i_spot = col["price"], col["spot_price"]
        for row in rows:
            region = row[i_region]
            best = out.get(region)
            if best is None:
                best = out[region] = ShapePrice(None, None, None)
            if row[i_acc] or float(row[i_vcpus]) < MIN_DEV_VCPUS:
                continue
            price, itype = float(row[i_price]), row[i_type]
            spot_text = row[i_spot]
            spot = float(spot_text) if spot_text else None
            if best.price_per_hour is None or (price, itype) < (best.price_per_hour, best.instance_type or ""):
                best = ShapePrice(itype, price, best.spot_price_per_hour)
            if spot is not None and (best.spot_price_per_hour is None or spot < best.spot_price_per_hour):
                best = ShapePrice(best.instance_type, best.price_per_hour, spot)
            out[region] = best
    return out


def _offerings(config: Config, clouds: set[str], *, with_gpus: bool):  # type: ignore[no-untyped-def]
    """The config's offerings of `clouds` only (other catalogs are not even read); without GPUs
    asked for, the local cloud skips the nvidia-smi probe."""
    from skytui.core.offerings import offerings_for

    get = offerings_for(config)

    def cpu_only(cloud: str):  # type: ignore[no-untyped-def]
        if cloud not in clouds:
            return []
        if cloud != "local" or with_gpus:
            return get(cloud)
        from skytui.catalog.local import LocalPrices, local_offerings

        p = config.local.prices
        return local_offerings(config.local.regions, LocalPrices(
            vcpu_hour=p.vcpu_hour, gib_hour=p.gib_hour, gpu_hour=dict(p.gpu_hour), spot_ratio=p.spot_ratio),
            gpus=[])

    return cpu_only
