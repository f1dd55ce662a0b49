"""The cheapest on-demand and spot $/h of a shape in each region, by the planner's rules."""

from __future__ import annotations

from dataclasses import dataclass

from skytui.config_model import Config

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
    want_count = 0
    if gpus:
        from skytui.core.resources import parse_gpus

        acc = parse_gpus(gpus)
        want_name, want_count = (canonical(acc.name) or acc.name).lower(), acc.count
    wanted = set(regions)
    get = _offerings(config, {c for c, _ in regions}, with_gpus=bool(gpus))
    on_demand: dict[Key, tuple[float, str]] = {}
    spot: dict[Key, float] = {}
    for cloud in dict.fromkeys(c for c, _ in regions):
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
