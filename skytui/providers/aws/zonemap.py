"""Zone ids (the catalog's use1-az1) to this account's zone names (us-east-1a), cached on disk.

Zone names are shuffled per account, zone ids are not: the catalog keeps ids, people see
names. The map comes from DescribeAvailabilityZones, once per region, and is kept for a
week per endpoint and profile (it changes only when AWS opens a zone).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skytui.providers.aws.session import AwsSession

TTL_S = 7 * 24 * 3600.0


def cache_file(session: AwsSession) -> Path:
    from skytui.paths import cache_dir

    s = session.settings
    key = hashlib.sha256(f"{s.profile}|{s.endpoint_url}".encode()).hexdigest()[:12]
    return cache_dir() / f"aws-zones-{key}.json"


def _read(path: Path) -> dict[str, dict[str, object]]:
    try:
        data: dict[str, dict[str, object]] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return {}


def cached(session: AwsSession, region: str) -> dict[str, str] | None:
    entry = _read(cache_file(session)).get(region)
    if not entry or time.time() - float(entry.get("at", 0)) > TTL_S:  # type: ignore[arg-type]
        return None
    zones = entry.get("zones")
    return dict(zones) if isinstance(zones, dict) else None


def zone_names(session: AwsSession, region: str) -> dict[str, str]:
    found = cached(session, region)
    if found is not None:
        return found
    from skytui.providers.aws.session import translate

    try:
        zones = session.client("ec2", region).describe_availability_zones(
            Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}])["AvailabilityZones"]
    except Exception as exc:  # noqa: BLE001 - every SDK failure is translated to a typed error
        raise translate(exc, session, action="describe_availability_zones", region=region) from None
    names = {z["ZoneId"]: z["ZoneName"] for z in zones}
    update_cache(cache_file(session), region, {"at": time.time(), "zones": names})
    return names


_write_lock = threading.Lock()


def update_cache(path: Path, key: str, value: object) -> None:
    """Set one key of a JSON cache file; regions are fetched in threads and by other processes."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with _write_lock:
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = _read(path)
            data[key] = value  # type: ignore[assignment]
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_text(json.dumps(data))
            os.replace(tmp, path)
        finally:
            os.close(fd)
