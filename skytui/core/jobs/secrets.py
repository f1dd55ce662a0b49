"""Secret values of managed jobs: kept out of the state store, in one 0600 file per job."""

from __future__ import annotations

import json
import os
from pathlib import Path


def secrets_dir() -> Path:
    from skytui.paths import _private_dir, data_dir

    return _private_dir(str(data_dir() / "job-secrets"))


def secrets_path(job_id: int) -> Path:
    return secrets_dir() / f"{int(job_id)}.json"


def save_secrets(job_id: int, values: dict[str, str]) -> None:
    """Write the job's secrets atomically; created 0600 so no other user can read them."""
    if not values:
        return
    path = secrets_path(job_id)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(values, f)
    os.replace(tmp, path)


def load_secrets(job_id: int) -> dict[str, str]:
    try:
        data = json.loads(secrets_path(job_id).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def forget_secrets(job_id: int) -> None:
    """A finished job no longer needs its secrets on disk."""
    secrets_path(job_id).unlink(missing_ok=True)
