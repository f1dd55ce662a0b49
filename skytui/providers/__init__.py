"""Cloud adapters behind one contract: the local cloud, AWS and GCP."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skytui.config_model import Config
    from skytui.providers.base import Provider

KNOWN_CLOUDS = ("local", "aws", "gcp")


def make_provider(cloud: str, config: Config) -> Provider:
    """Build the adapter for `cloud`; SDKs are imported only here, when a cloud is used."""
    from skytui.errors import ProviderError

    if cloud == "local":
        from skytui.providers.local.provider import LocalCloud

        return LocalCloud(config.local)
    if cloud == "gcp":
        from skytui.providers.gcp.provider import make

        return make(config)  # compute_v1 itself loads on the first API call, in a worker thread
    if cloud == "aws":
        from skytui.providers.aws.provider import AwsProvider

        return AwsProvider(config)
    raise ProviderError(f"cloud {cloud!r} has no adapter in this version of skytui",
                        "use one of local, aws, gcp")
