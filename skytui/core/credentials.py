"""`skytui check`: which clouds have credentials, found quickly and without hanging."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skytui.config_model import Config

TIMEOUT_S = 5.0


def _aws() -> str:
    try:
        import boto3
        from botocore.config import Config as BotoConfig  # noqa: F401
    except ImportError:
        return "AWS: boto3 is not installed (pip install 'skytui[aws]')"
    session = boto3.session.Session()
    creds = session.get_credentials()  # the default chain: env, files, SSO, instance metadata
    if creds is None:
        return ("AWS: no credentials found (checked env vars, ~/.aws/credentials, ~/.aws/config, SSO "
                "and instance metadata); run `aws configure`")
    method = getattr(creds, "method", "unknown source")
    return f"AWS: credentials found ({method}); region {session.region_name or 'not set (us-east-1 is used)'}"


def _gcp() -> str:
    path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if path:
        if Path(path).is_file():
            return f"GCP: application credentials found (GOOGLE_APPLICATION_CREDENTIALS={path})"
        return f"GCP: GOOGLE_APPLICATION_CREDENTIALS points to {path}, which does not exist"
    config_home = Path(os.environ.get("CLOUDSDK_CONFIG") or Path.home() / ".config" / "gcloud")
    adc = config_home / "application_default_credentials.json"
    if adc.is_file():
        return f"GCP: application-default credentials found ({adc})"
    return "GCP: no application-default credentials; run `gcloud auth application-default login`"


GCP_TIMEOUT_S = 20.0  # an enabled GCP is checked with a real call: the SDK alone takes seconds to load


def _gcp_line() -> str:
    """With GCP enabled in config.yaml, a real check (skytui.providers.gcp.check); else the ADC lookup."""
    from skytui.config import load_config
    from skytui.errors import SkytuiError

    try:
        config = load_config()
    except SkytuiError as exc:
        return f"GCP: config.yaml could not be read ({exc})"
    if "gcp" not in config.clouds:
        return _gcp()
    from skytui.providers.gcp.check import check

    return check(config.gcp)


def check_all(config: Config | None = None) -> list[str]:
    """One line per cloud; the local cloud needs nothing. With a config, AWS asks STS."""
    lines = ["local: enabled (embedded; needs no credentials)"]
    # Off a cloud VM, boto3's instance-metadata probe would wait and retry: keep it short.
    os.environ.setdefault("AWS_METADATA_SERVICE_TIMEOUT", "1")
    os.environ.setdefault("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "1")
    pool = ThreadPoolExecutor(max_workers=2)
    aws: Callable[[], str] = _aws
    if config is not None and "aws" in getattr(config, "clouds", ()):
        from skytui.providers.aws.check import check as aws_check

        aws = partial(aws_check, config)  # enabled: ask STS who we are
    futures = {"AWS": pool.submit(aws), "GCP": pool.submit(_gcp_line)}
    for name, fut in futures.items():
        try:
            lines.append(fut.result(timeout=GCP_TIMEOUT_S if name == "GCP" else TIMEOUT_S))
        except FutureTimeout:
            lines.append(f"{name}: credential lookup took over {TIMEOUT_S:.0f}s; skipped")
        except Exception as exc:  # noqa: BLE001 - a broken credentials file must not hide the other cloud
            lines.append(f"{name}: credentials could not be read ({type(exc).__name__}: {exc})")
    pool.shutdown(wait=False, cancel_futures=True)  # never wait for a hung lookup
    return lines
