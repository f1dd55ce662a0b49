"""boto3 sessions and clients for skytui, and AWS failures turned into one-line errors.

Every client uses botocore's standard retry mode: throttling and transient errors are
retried with jittered exponential backoff, so no call site retries by hand.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from skytui.config_model import AwsSettings
from skytui.errors import CapacityError, ProviderError

if TYPE_CHECKING:
    import boto3

# Capacity and quota answers: the planner moves on to the next zone or region.
CAPACITY_CODES = frozenset({
    "InsufficientInstanceCapacity", "InstanceLimitExceeded", "MaxSpotInstanceCountExceeded",
    "SpotMaxPriceTooLow", "Unsupported", "VcpuLimitExceeded", "InsufficientHostCapacity",
    "InsufficientReservedInstanceCapacity", "InsufficientCapacity"})
# The credentials were found but AWS refused them.
REJECTED_CODES = frozenset({
    "AuthFailure", "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken",
    "ExpiredTokenException", "RequestExpired", "SignatureDoesNotMatch", "InvalidAccessKeyId",
    "AccessDenied", "UnauthorizedOperation"})
CHAIN = ("env vars AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, ~/.aws/config "
         "(profiles, SSO), container and instance metadata")
MAX_ATTEMPTS = 6  # standard mode: jittered exponential backoff, at most 20 s between tries
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0


class AwsSession:
    """One boto3 session for the configured profile; one client per (service, region), reused."""

    def __init__(self, settings: AwsSettings, *, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.settings = settings
        self.max_attempts = max_attempts
        self._session: boto3.session.Session | None = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()  # boto3 sessions are not thread-safe; clients are

    def session(self) -> boto3.session.Session:
        with self._lock:
            return self._session_locked()

    def _session_locked(self) -> boto3.session.Session:
        if self._session is None:
            try:
                import boto3
            except ImportError:
                raise ProviderError("AWS is enabled but boto3 is not installed",
                                    "pip install 'skytui[aws]'") from None
            from botocore.exceptions import ProfileNotFound

            try:
                self._session = boto3.session.Session(profile_name=self.settings.profile)
            except ProfileNotFound:
                raise ProviderError(
                    f"config.yaml: aws.profile: no AWS profile named {self.settings.profile!r}",
                    f"create it with `aws configure --profile {self.settings.profile}`, "
                    "or fix aws.profile") from None
        return self._session

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        found = self._clients.get(key)
        if found is not None:
            return found
        from botocore.config import Config as BotoConfig

        with self._lock:
            if key not in self._clients:
                cfg = BotoConfig(retries={"mode": "standard", "max_attempts": self.max_attempts},
                                 connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S,
                                 max_pool_connections=32)
                self._clients[key] = self._session_locked().client(
                    service, region_name=region, endpoint_url=self.settings.endpoint_url, config=cfg)
            return self._clients[key]

    def where(self) -> str:
        """Which credentials are in play, for messages (never a secret)."""
        parts = []
        if self.settings.profile:
            parts.append(f"profile {self.settings.profile!r}")
        if self.settings.endpoint_url:
            parts.append(f"endpoint {self.settings.endpoint_url}")
        return f" ({', '.join(parts)})" if parts else ""


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Message", "")).splitlines()[0] if \
            response.get("Error", {}).get("Message") else ""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def translate(exc: BaseException, session: AwsSession, *, action: str, region: str,
              zone: str | None = None) -> Exception:
    """An AWS failure as skytui's typed error: capacity, credentials, endpoint, or the API's own words."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        CredentialRetrievalError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
        ReadTimeoutError,
        SSOTokenLoadError,
        TokenRetrievalError,
    )

    where = session.where()
    if isinstance(exc, ProfileNotFound):
        return ProviderError(f"config.yaml: aws.profile: no AWS profile named {session.settings.profile!r}",
                             "create it with `aws configure --profile NAME`, or fix aws.profile")
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return ProviderError(f"AWS: no credentials found{where} (tried {CHAIN})",
                             "run `aws configure` (or `aws sso login`), or set aws.profile in config.yaml")
    if isinstance(exc, (TokenRetrievalError, SSOTokenLoadError, CredentialRetrievalError)):
        return ProviderError(f"AWS: credentials could not be loaded{where}: {error_message(exc)}",
                             "refresh them: `aws sso login` or `aws configure`")
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)):
        url = session.settings.endpoint_url or f"the EC2 endpoint of {region}"
        return ProviderError(f"AWS: {url} does not answer ({action} in {region})",
                             "check aws.endpoint_url in config.yaml and your network" if
                             session.settings.endpoint_url else "check your network and the region name")
    if isinstance(exc, NoRegionError):
        return ProviderError("AWS: no region given", "pick a region from `skytui show-gpus`")
    if isinstance(exc, ClientError):
        code, msg = error_code(exc), error_message(exc)
        if code in CAPACITY_CODES:
            place = f"{region}/{zone}" if zone else region
            return CapacityError(f"aws: {code} in {place}: {msg}", cloud="aws", region=region, zone=zone)
        if code in REJECTED_CODES:
            return ProviderError(f"AWS: credentials rejected{where} ({code}: {msg})",
                                 "refresh them (`aws sso login`, `aws configure`) or check the IAM policy")
        return ProviderError(f"AWS {action} in {region} failed: {code}: {msg}")
    return ProviderError(f"AWS {action} in {region} failed: {error_message(exc)}")
