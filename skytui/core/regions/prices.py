"""The cheapest on-demand and spot $/h of a shape in each region, through the planner."""

from __future__ import annotations

from dataclasses import dataclass

from skytui.config_model import Config
from skytui.errors import NoOffering

Key = tuple[str, str]
REFERENCE_SHAPE = "dev VM (2+ vCPUs, no GPU)"  # what `skytui dev` launches with no flags


@dataclass(frozen=True)
class ShapePrice:
    instance_type: str | None  # of the cheapest on-demand offering
    price_per_hour: float | None
    spot_price_per_hour: float | None


def cheapest(config: Config, regions: list[Key], gpus: str | None = None) -> dict[Key, ShapePrice]:
    """Per region: the cheapest node of the reference dev shape, or of `gpus` (e.g. "H100:8")."""
    from skytui.core.planner import plan
    from skytui.core.resources import parse_gpus
    from skytui.task.spec import Resources

    accelerators = (parse_gpus(gpus),) if gpus else ()
    wanted = set(regions)
    clouds = {c for c, _ in regions}
    try:
        p = plan([Resources(accelerators=accelerators), Resources(accelerators=accelerators, use_spot=True)],
                 ordered=False, enabled_clouds=clouds, offerings=_offerings(config, clouds, with_gpus=bool(gpus)),
                 allowed_regions=config.allowed_regions or None)
    except NoOffering:
        return {}
    on_demand: dict[Key, tuple[float, str]] = {}
    spot: dict[Key, float] = {}
    for c in p.candidates:  # cheapest first, so the first seen per region wins
        key = (c.cloud, c.region)
        if key not in wanted:
            continue
        if c.spot:
            spot.setdefault(key, c.price_per_node)
        else:
            on_demand.setdefault(key, (c.price_per_node, c.instance_type))
    return {k: ShapePrice(on_demand[k][1] if k in on_demand else None,
                          on_demand[k][0] if k in on_demand else None, spot.get(k))
            for k in wanted if k in on_demand or k in spot}


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
