"""`skytui check` for AWS: enabled, no credentials, or credentials rejected (STS says which)."""

from __future__ import annotations

from skytui.config_model import Config
from skytui.errors import SkytuiError


def check(config: Config) -> str:
    """One line; shows the account id and the credential source, never a secret."""
    try:
        import boto3  # noqa: F401
    except ImportError:
        return "AWS: boto3 is not installed (pip install 'skytui[aws]')"
    from skytui.providers.aws.session import AwsSession, translate

    session = AwsSession(config.aws, max_attempts=2)
    try:
        creds = session.session().get_credentials()
        if creds is None:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()
        region = session.session().region_name or "us-east-1"
        ident = session.client("sts", region).get_caller_identity()
    except SkytuiError as exc:
        return f"AWS: {_plain(str(exc))}"
    except Exception as exc:  # noqa: BLE001 - any SDK failure becomes one translated line
        return f"AWS: {_plain(str(translate(exc, session, action='sts get_caller_identity', region='')))}"
    method = getattr(creds, "method", "unknown source")
    enabled = "aws" in config.clouds
    state = "enabled" if enabled else "credentials work, but aws is not in `clouds` in config.yaml"
    return f"AWS: {state} (account {ident.get('Account')}, credentials from {method}{session.where()})"


def _plain(text: str) -> str:
    return text.removeprefix("AWS: ")
