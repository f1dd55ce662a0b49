"""What to probe for each region: an HTTP(S) endpoint served FROM that region.

Why each default is regional (a global, anycast endpoint would answer from the edge nearest
the user and say nothing about the region):

- AWS: `https://dynamodb.REGION.amazonaws.com/ping`. DynamoDB has one endpoint per region,
  resolved to addresses in that region, with no global front door; `/ping` is a cheap
  health answer. It is what public AWS latency maps measure.
- GCP: `https://storage.REGION.rep.googleapis.com/`. Most `*.googleapis.com` names
  (including `REGION-xxx.googleapis.com` "locational" ones) end at the Google Front End
  nearest the user, an anycast edge. Google's *regional endpoints* (`SERVICE.REGION.rep.
  googleapis.com`) do not use the global front end: they resolve to addresses announced only
  near the region and terminate TLS in it (Google Cloud docs, "Regional endpoints" for
  Cloud Storage, and "API endpoints" in the compliance docs). Regions without a Cloud Storage
  regional endpoint do not resolve; they fall back to the geographic estimate, or take a
  URL from `nearest.urls`.
- local: the local cloud's nodes are processes on this host, so its regions answer from a
  loopback server the probe runs itself; an SSH session to a node takes that same path.

`nearest.urls` in config.yaml replaces any region's target (a corporate proxy, a private
endpoint, a test server).
"""

from __future__ import annotations

from collections.abc import Mapping

LOCAL = "local"  # the target of a local region without an override: the probe's own loopback server


def default_target(cloud: str, region: str) -> str | None:
    if cloud == "aws":
        return f"https://dynamodb.{region}.amazonaws.com/ping"
    if cloud == "gcp":
        return f"https://storage.{region}.rep.googleapis.com/"
    if cloud == "local":
        return LOCAL
    return None


def targets(regions: list[tuple[str, str]], urls: Mapping[str, str]) -> dict[tuple[str, str], str]:
    """(cloud, region) -> the URL (or LOCAL) to probe; regions with no target are left out."""
    out = {}
    for cloud, region in regions:
        url = urls.get(f"{cloud}/{region}") or default_target(cloud, region)
        if url:
            out[(cloud, region)] = url
    return out
