"""Offerings per cloud with on-demand and spot prices, loaded lazily."""

from __future__ import annotations

from functools import cache

from skytui.catalog.catalog import CATALOG_CLOUDS, Offering, accelerator_names, load, offerings

__all__ = ["CATALOG_CLOUDS", "Offering", "accelerator_names", "for_cloud", "load", "offerings"]


def for_cloud(cloud: str) -> list[Offering]:
    """Offerings of any cloud skytui knows: the bundled catalog, or this host for `local`.

    `local` here uses the default local regions and reference prices; with a user's
    config, build local offerings from its settings (skytui.core.offerings) instead.
    """
    if cloud == "local":
        return _local_default()
    if cloud in CATALOG_CLOUDS:
        return load(cloud)
    return []


@cache
def _local_default() -> list[Offering]:
    # Probing nvidia-smi costs a process start, so once per process is enough.
    from skytui.catalog.local import local_offerings
    from skytui.config_model import DEFAULT_LOCAL_REGIONS

    return local_offerings(DEFAULT_LOCAL_REGIONS)
