"""The Compute Engine calls skytui makes, over google-cloud-compute's REST transport.

The SDK (`compute_v1`, seconds and ~150 MB to import) is loaded on the first call, which the
provider always makes in a worker thread: never on the CLI's fast paths or a first frame.
Operations are awaited by polling the zone operation ourselves: the SDK's
`ExtendedOperation.result()` polls compute.googleapis.com even when a custom endpoint is set.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from skytui.errors import CapacityError, ProviderError
from skytui.providers.gcp.naming import is_local_emulator, last_segment

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
CALL_TIMEOUT_S = 30.0  # one HTTP call; the SDK's default is 600 s
OPERATION_TIMEOUT_S = 600.0  # an insert that takes longer than this is a failure
PAGE_SIZE = 500  # the API's maximum for list calls
# Only what skytui reads of an instance, asked for with the `fields` system parameter (sent as
# its header, X-Goog-FieldMask): the SDK then parses a fraction of each instance, which is most
# of a watcher round's CPU (500 instances: ~150 ms of parsing whole instances, see bench/).
LIST_FIELDS = "items/*/instances(name,status,description,networkInterfaces(networkIP,accessConfigs/natIP)),nextPageToken"

# Operation and API error codes that mean "not here, try elsewhere" to the planner.
CAPACITY_CODES = {
    "ZONE_RESOURCE_POOL_EXHAUSTED": "no capacity (ZONE_RESOURCE_POOL_EXHAUSTED)",
    "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS": "no capacity (ZONE_RESOURCE_POOL_EXHAUSTED)",
    "QUOTA_EXCEEDED": "quota exceeded (QUOTA_EXCEEDED)",
    "RESOURCE_NOT_FOUND": "not offered here (RESOURCE_NOT_FOUND)",
    "quotaExceeded": "quota exceeded",
    "resourcePoolExhausted": "no capacity",
}
_SKYTUI_NAMESPACE = uuid.UUID("5d3b6d52-8f0b-4c55-9c8e-8c8f1d6b2a47")

Op = Any  # compute_v1.Operation
GceInstance = Any  # compute_v1.Instance


def request_uuid(key: str) -> str:
    """A requestId for the API: non-zero UUID, the same for every retry of one action."""
    return str(uuid.uuid5(_SKYTUI_NAMESPACE, key))


class Api:
    """One project's Compute Engine, reached through ADC (or anonymously for a local emulator)."""

    def __init__(self, project: str | None, endpoint: str | None) -> None:
        self.configured_project = project
        self.endpoint = endpoint
        self._lock = threading.Lock()
        self._clients: tuple[Any, Any, Any] | None = None
        self._project: str | None = None

    # -- setup ---------------------------------------------------------------------------------
    def _setup(self) -> tuple[Any, Any, Any]:
        with self._lock:
            if self._clients is None:
                self._clients = self._make_clients()
            return self._clients

    def _make_clients(self) -> tuple[Any, Any, Any]:
        from google.auth import credentials as ga_credentials

        if is_local_emulator(self.endpoint):
            creds: Any = ga_credentials.AnonymousCredentials()  # type: ignore[no-untyped-call]
            project = self.configured_project
        else:
            import google.auth
            from google.auth.exceptions import DefaultCredentialsError

            try:
                creds, adc_project = google.auth.default(scopes=list(SCOPES))
            except DefaultCredentialsError:
                raise ProviderError(
                    "GCP: no Application Default Credentials found",
                    "run `gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS)"
                ) from None
            project = self.configured_project or adc_project
        if not project:
            raise ProviderError("GCP: no project is set (config.yaml gcp.project) and the credentials name none",
                                "add `gcp: {project: YOUR-PROJECT-ID}` to config.yaml")
        self._project = project
        from google.cloud import compute_v1

        options = {"api_endpoint": self.endpoint} if self.endpoint else None
        kw = {"credentials": creds, "transport": "rest", "client_options": options}
        return compute_v1, compute_v1.InstancesClient(**kw), compute_v1.ZoneOperationsClient(**kw)

    @property
    def project(self) -> str:
        self._setup()
        assert self._project is not None
        return self._project

    @property
    def compute(self) -> Any:
        return self._setup()[0]

    # -- instances -----------------------------------------------------------------------------
    def insert(self, zone: str, body: GceInstance, request_id: str) -> Op | None:
        """Start creating an instance; None if one of that name exists already (409)."""
        cv1, instances, _ = self._setup()
        req = cv1.InsertInstanceRequest(project=self.project, zone=zone, instance_resource=body,
                                        request_id=request_uuid(request_id))
        try:
            return instances.insert_unary(request=req, timeout=CALL_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - translated below
            if _status(exc) == 409:
                return None
            raise self.translate(exc, f"creating {body.name} in {zone}", zone=zone) from None

    def get(self, zone: str, name: str) -> GceInstance | None:
        _, instances, _ = self._setup()
        try:
            return instances.get(project=self.project, zone=zone, instance=name, timeout=CALL_TIMEOUT_S,
                                 retry=None)
        except Exception as exc:  # noqa: BLE001
            if _status(exc) == 404:
                return None
            raise self.translate(exc, f"reading instance {zone}/{name}", zone=zone) from None

    def aggregated(self, filter_: str) -> Iterator[tuple[str, GceInstance]]:
        """(zone, raw protobuf instance) for every match, over every page of one aggregatedList."""
        cv1, instances, _ = self._setup()
        req = cv1.AggregatedListInstancesRequest(project=self.project, filter=filter_, max_results=PAGE_SIZE)
        try:
            pager = instances.aggregated_list(request=req, timeout=CALL_TIMEOUT_S, retry=None,
                                              metadata=(("x-goog-fieldmask", LIST_FIELDS),))
            for page in pager.pages:
                # The raw protobuf reads fields several times faster than proto-plus wrappers.
                for scope, scoped in cv1.InstanceAggregatedList.pb(page).items.items():
                    if scope.startswith("zones/"):
                        zone = last_segment(scope)
                        for inst in scoped.instances:
                            yield zone, inst
        except Exception as exc:  # noqa: BLE001
            raise self.translate(exc, "listing instances") from None

    def probe(self) -> None:
        """One small list call: proves the endpoint answers and the account may list instances."""
        cv1, instances, _ = self._setup()
        req = cv1.AggregatedListInstancesRequest(project=self.project, max_results=1)
        try:
            next(iter(instances.aggregated_list(request=req, timeout=CALL_TIMEOUT_S, retry=None).pages), None)
        except Exception as exc:  # noqa: BLE001
            raise self.translate(exc, "listing instances") from None

    def lifecycle(self, action: str, zone: str, name: str, key: str) -> Op | None:
        """stop / start / delete one instance; None when it is already gone (404)."""
        _, instances, _ = self._setup()
        call = getattr(instances, f"{action}_unary")
        try:
            return call(project=self.project, zone=zone, instance=name, timeout=CALL_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001
            if _status(exc) == 404:
                return None
            raise self.translate(exc, f"{action} of {zone}/{name}", zone=zone) from None

    def host_key(self, zone: str, name: str) -> str | None:
        """The instance's SSH host key as its guest agent published it (guest attributes)."""
        cv1, instances, _ = self._setup()
        req = cv1.GetGuestAttributesInstanceRequest(project=self.project, zone=zone, instance=name,
                                                    query_path="hostkeys/")
        try:
            attrs = instances.get_guest_attributes(request=req, timeout=CALL_TIMEOUT_S, retry=None)
        except Exception as exc:  # noqa: BLE001 - not published (yet): the caller may try later
            if _status(exc) in (400, 403, 404):
                return None
            raise self.translate(exc, f"reading host keys of {zone}/{name}", zone=zone) from None
        keys = {e.key: e.value for e in attrs.query_value.items if e.namespace == "hostkeys"}
        for kind in ("ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"):
            if keys.get(kind):
                return f"{kind} {keys[kind].split()[-1]}"
        return None

    # -- operations ----------------------------------------------------------------------------
    def wait(self, zone: str, op: Op, what: str, timeout: float = OPERATION_TIMEOUT_S) -> Op:
        """Poll a zone operation until DONE; raise its error, typed, if it failed."""
        cv1, _, zone_ops = self._setup()
        done = cv1.Operation.Status.DONE
        deadline = time.monotonic() + timeout
        delay = 0.05
        while op.status != done:
            if time.monotonic() > deadline:
                raise ProviderError(f"GCP: {what} did not finish within {timeout:.0f}s (operation {op.name})",
                                    "look at it in the Cloud console; `skytui down` removes what was made")
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)
            try:
                op = zone_ops.get(project=self.project, zone=zone, operation=op.name, timeout=CALL_TIMEOUT_S,
                                  retry=None)
            except Exception as exc:  # noqa: BLE001
                raise self.translate(exc, f"waiting for {what}", zone=zone) from None
        if op.error and op.error.errors:
            raise self.op_error(op, what, zone)
        return op

    def preempted_targets(self, zone: str) -> set[str]:
        """Names of instances the platform preempted in `zone`, from its operations."""
        cv1, _, zone_ops = self._setup()
        req = cv1.ListZoneOperationsRequest(project=self.project, zone=zone, max_results=PAGE_SIZE,
                                            filter='operationType = "compute.instances.preempted"')
        try:
            return {last_segment(op.target_link) for op in zone_ops.list(request=req, timeout=CALL_TIMEOUT_S,
                                                                          retry=None)}
        except Exception as exc:  # noqa: BLE001
            raise self.translate(exc, f"reading operations of {zone}", zone=zone) from None

    # -- errors --------------------------------------------------------------------------------
    def op_error(self, op: Op, what: str, zone: str) -> Exception:
        first = op.error.errors[0]
        code, message = first.code, first.message
        if code in CAPACITY_CODES:
            return CapacityError(f"gcp {zone}: {CAPACITY_CODES[code]} while {what}: {message}",
                                 cloud="gcp", region=zone.rsplit("-", 1)[0], zone=zone)
        return ProviderError(f"GCP: {what} failed ({code}: {message})")

    def translate(self, exc: Exception, what: str, *, zone: str | None = None) -> Exception:
        """An SDK, auth or transport exception as one line a user can act on."""
        from google.api_core import exceptions as gexc
        from google.auth import exceptions as auth_exc

        if isinstance(exc, auth_exc.RefreshError):
            return ProviderError("GCP: the Application Default Credentials are expired or revoked",
                                 "run `gcloud auth application-default login`")
        if isinstance(exc, auth_exc.GoogleAuthError):
            return ProviderError(f"GCP: credentials could not be used ({type(exc).__name__})",
                                 "run `gcloud auth application-default login`")
        if isinstance(exc, gexc.GoogleAPICallError):
            status, reasons, message = _status(exc), _reasons(exc), _one_line(exc.message or str(exc))
            where = f"gcp {zone}" if zone else "gcp"
            region = zone.rsplit("-", 1)[0] if zone else ""
            if "quotaExceeded" in reasons or ("QUOTA" in message.upper() and status in (403, 429)):
                return CapacityError(f"{where}: quota exceeded while {what}: {message}",
                                     cloud="gcp", region=region, zone=zone)
            if status == 403:
                return ProviderError(f"GCP: permission denied while {what} in project {self._project}: {message}",
                                     "grant the account roles/compute.instanceAdmin.v1 on the project")
            if status == 404 and zone and any(s in message for s in ("machineTypes", "acceleratorTypes",
                                                                     f"zones/{zone}'")):
                return CapacityError(f"{where}: not offered in this zone while {what}: {message}",
                                     cloud="gcp", region=region, zone=zone)
            if status == 400 and zone and "Unknown zone" in message:
                return ProviderError(f"gcp: zone {zone} does not exist in project {self._project}",
                                     "check allowed_regions in config.yaml and the task's region/zone")
            if status == 404 and f"projects/{self._project}'" in message:
                return ProviderError(f"GCP: project {self._project} was not found",
                                     "check gcp.project in config.yaml (the project ID, not its name)")
            if status == 503 or "resourcePoolExhausted" in reasons:
                return CapacityError(f"{where}: unavailable while {what}: {message}",
                                     cloud="gcp", region=region, zone=zone)
            return ProviderError(f"GCP: {what} failed (HTTP {status}: {message})")
        try:
            import requests

            if isinstance(exc, requests.exceptions.RequestException):
                return ProviderError(f"GCP: cannot reach the Compute API at {self.endpoint or 'compute.googleapis.com'}"
                                     f" ({type(exc).__name__})",
                                     "check gcp.endpoint in config.yaml and the network")
        except ImportError:  # pragma: no cover - requests comes with google-auth
            pass
        if isinstance(exc, ProviderError | CapacityError):
            return exc
        return ProviderError(f"GCP: {what} failed ({type(exc).__name__}: {_one_line(str(exc))})")


def _status(exc: Exception) -> int | None:
    code = getattr(exc, "code", None)
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


def _reasons(exc: Exception) -> set[str]:
    out = set()
    for e in getattr(exc, "errors", ()) or ():
        if isinstance(e, dict) and e.get("reason"):
            out.add(str(e["reason"]))
    reason = getattr(exc, "reason", None)
    if reason:
        out.add(str(reason))
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
