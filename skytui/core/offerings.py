"""Offerings as this user's config sees them: the bundled catalog plus this host's local cloud."""

from __future__ import annotations

from functools import cache

from skytui.catalog.catalog import Offering
from skytui.config_model import Config, LocalSettings


def offerings_for(config: Config):  # type: ignore[no-untyped-def]
    """A `cloud -> offerings` function for the planner, with local regions and prices from config."""

    def get(cloud: str) -> list[Offering]:
        if cloud == "local":
            return _local(config.local)
        if cloud == "aws" and "aws" in config.clouds:
            from skytui.providers.aws.catalog import offerings as aws_offerings

            return aws_offerings(config)  # zone names of this account, live spot prices
        from skytui.catalog import for_cloud

        return for_cloud(cloud)

    return get


_cache: dict[int, list[Offering]] = {}


def _local(settings: LocalSettings) -> list[Offering]:
    key = id(settings)
    if key not in _cache:
        from skytui.catalog.local import LocalPrices, local_offerings

        p = settings.prices
        prices = LocalPrices(vcpu_hour=p.vcpu_hour, gib_hour=p.gib_hour, gpu_hour=dict(p.gpu_hour),
                             spot_ratio=p.spot_ratio)
        _cache[key] = local_offerings(settings.regions, prices, gpus=_host_gpus())
    return _cache[key]


def forget_host() -> None:
    """Forget what was probed of this host (GPUs come and go in tests and after driver changes)."""
    _cache.clear()
    _host_gpus.cache_clear()


@cache
def _host_gpus():  # type: ignore[no-untyped-def]
    # Probing nvidia-smi costs a process start: once per process is enough.
    from skytui.catalog.local import host_gpus

    return host_gpus()
