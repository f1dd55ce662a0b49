"""Where skytui keeps its files; everything comes from platformdirs so XDG_* sandboxes it."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_config_dir, user_data_dir, user_log_dir

APP = "skytui"


def _private_dir(path: str) -> Path:
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    # State, keys and logs are the user's alone, whatever the umask says.
    if p.stat().st_mode & 0o077:
        os.chmod(p, 0o700)
    return p


def config_dir() -> Path:
    return _private_dir(user_config_dir(APP))


def config_file() -> Path:
    return Path(user_config_dir(APP)) / "config.yaml"


def data_dir() -> Path:
    return _private_dir(user_data_dir(APP))


def cache_dir() -> Path:
    """What can be fetched again (cloud zone maps, live spot prices)."""
    return _private_dir(user_cache_dir(APP))


def log_dir() -> Path:
    return _private_dir(user_log_dir(APP))


def state_db() -> Path:
    return data_dir() / "state.db"


def keys_dir() -> Path:
    return _private_dir(str(data_dir() / "keys"))


def ssh_dir() -> Path:
    """Our SSH config fragment and per-cluster known_hosts live here."""
    return _private_dir(str(data_dir() / "ssh"))


def local_cloud_dir() -> Path:
    """The embedded local cloud's registry and node disks."""
    return _private_dir(str(data_dir() / "local"))


def package_parent() -> Path:
    """The folder that holds this skytui package: where `python -m skytui...` children start.

    `-m` looks in the working folder first, so a child started elsewhere could import a
    different `skytui/` that happens to lie there (a checkout, a namesake) instead of this one.
    """
    return Path(__file__).resolve().parents[1]


def user_themes_dir() -> Path:
    return Path(user_config_dir(APP)) / "themes"
