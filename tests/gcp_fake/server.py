"""A loopback HTTP server speaking the slice of Compute Engine v1 REST that skytui calls.

Written from the published REST reference (cloud.google.com/compute/docs/reference/rest/v1:
instances.insert/get/list/aggregatedList/stop/start/delete/getGuestAttributes, zoneOperations
get/list/wait), not from the adapter: every request body is parsed with the SDK's own message
types refusing unknown fields, every response is serialized from them, errors come in the
API's JSON error format, and rules the real API enforces (names, labels, SPOT scheduling, GPU
maintenance policy, requestId as a UUID, zones, machine and accelerator types per zone) are
enforced here too.

Test hooks (Python, not HTTP): `stockout`, `quota`, `accelerator_quota`, `preempt()`,
`delete_out_of_band()`, and a `nodes` host that gives instances a real SSH server.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from google.cloud import compute_v1 as cv1
from google.protobuf import json_format

BASE = "https://www.googleapis.com/compute/v1"
_NAME_RE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE_RE = re.compile(r"^[a-z0-9_-]{0,63}$")
_GPU_FAMILIES = ("a2-", "a3-", "a4-", "g2-", "g4-")


class ApiError(Exception):
    def __init__(self, code: int, message: str, reason: str, status: str) -> None:
        super().__init__(message)
        self.code, self.message, self.reason, self.status = code, message, reason, status

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status,
                          "errors": [{"message": self.message, "domain": "global", "reason": self.reason}]}}


def not_found(what: str) -> ApiError:
    return ApiError(404, f"The resource '{what}' was not found", "notFound", "NOT_FOUND")


def invalid(message: str) -> ApiError:
    return ApiError(400, message, "invalid", "INVALID_ARGUMENT")


class NodeHost:
    """What backs an instance's guest: none here (addresses only); tests may plug in real nodes."""

    def boot(self, key: str, inst: cv1.Instance) -> None: ...
    def ready(self, key: str) -> tuple[str, str] | None:  # (ip, host key line) once sshd answers
        blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + secrets.token_bytes(32)
        return (f"10.128.0.{1 + hash(key) % 250}", "ssh-ed25519 " + base64.b64encode(blob).decode())
    def stop(self, key: str, *, hard: bool) -> None: ...
    def delete(self, key: str) -> None: ...


@dataclass
class _Inst:
    msg: cv1.Instance
    zone: str
    host_key: str = ""
    created: float = field(default_factory=time.time)


class FakeCompute:
    """State of one project; thread-safe; served by `serve()`."""

    def __init__(self, project: str = "skytui-test", *, offerings: dict[str, dict[str, set[str]]] | None = None,
                 op_polls: int = 1, nodes: NodeHost | None = None) -> None:
        self.project = project
        # zone -> {"machine": {types}, "accel": {types}}
        self.offerings = offerings if offerings is not None else catalog_offerings()
        self.op_polls = op_polls  # gets of an operation before it is DONE (exercises polling)
        self.nodes = nodes or NodeHost()
        self.lock = threading.RLock()
        self.instances: dict[tuple[str, str], _Inst] = {}
        self.operations: dict[tuple[str, str], tuple[cv1.Operation, int, Callable[[], None] | None]] = {}
        self.by_request: dict[str, tuple[str, str]] = {}
        self.stockout: set[str] = set()  # zones (or "zone/machineType") that run out on insert
        self.quota: set[str] = set()  # regions where the CPU quota is spent (operation QUOTA_EXCEEDED)
        self.accelerator_quota: set[str] = set()  # regions with no GPU quota left (HTTP 403)
        self.calls: list[tuple[str, str]] = []  # (method, path) of every request, for the tests
        self.down = False  # answer every request with a reset connection
        self.hide_host_keys = False  # the guest agent has not published its host keys yet

    # -- helpers ---------------------------------------------------------------------------------
    def zone_check(self, zone: str) -> None:
        if zone not in self.offerings:
            raise invalid(f"Invalid value for field 'zone': '{zone}'. Unknown zone.")

    def project_check(self, project: str) -> None:
        if project != self.project:
            raise not_found(f"projects/{project}")

    def _op(self, zone: str, kind: str, target: str, *, error: tuple[str, str] | None = None,
            then: Callable[[], None] | None = None, polls: int | None = None) -> cv1.Operation:
        name = f"operation-{int(time.time() * 1000)}-{secrets.token_hex(6)}"
        now = _rfc3339()
        op = cv1.Operation(
            kind="compute#operation", id=int(secrets.randbits(62)), name=name, zone=f"{BASE}/projects/{self.project}/zones/{zone}",
            operation_type=kind, target_link=f"{BASE}/projects/{self.project}/zones/{zone}/instances/{target}",
            status=cv1.Operation.Status.RUNNING, progress=0, insert_time=now, start_time=now, user="skytui@example.com",
            self_link=f"{BASE}/projects/{self.project}/zones/{zone}/operations/{name}")
        if error is not None:
            op.http_error_status_code, op.http_error_message = 503, "SERVICE UNAVAILABLE"
            op.error = cv1.Error(errors=[cv1.Errors(code=error[0], message=error[1])])
        left = self.op_polls if polls is None else polls
        self.operations[(zone, name)] = (op, left, then)
        if left <= 0:
            self._finish(zone, name)
        return self.operations[(zone, name)][0]

    def _finish(self, zone: str, name: str) -> None:
        op, _, then = self.operations[(zone, name)]
        if op.status != cv1.Operation.Status.DONE:
            if then is not None and not op.error.errors:
                then()
            op.status, op.progress, op.end_time = cv1.Operation.Status.DONE, 100, _rfc3339()
        self.operations[(zone, name)] = (op, 0, None)

    def _refresh(self, key: tuple[str, str]) -> None:
        """A booting instance is RUNNING once its guest answers."""
        inst = self.instances.get(key)
        if inst is None or inst.msg.status not in ("PROVISIONING", "STAGING"):
            return
        ready = self.nodes.ready("/".join(key))
        if ready is None:
            inst.msg.status = "STAGING"
            return
        ip, host_key = ready
        inst.host_key = host_key
        nic = inst.msg.network_interfaces[0]
        nic.network_i_p = ip
        for ac in nic.access_configs:
            ac.nat_i_p = ip
        inst.msg.status = "RUNNING"
        inst.msg.last_start_timestamp = _rfc3339()

    # -- instances -------------------------------------------------------------------------------
    def insert(self, zone: str, body: bytes, query: dict[str, str]) -> cv1.Operation:
        self.zone_check(zone)
        rid = query.get("requestId")
        if rid is not None:
            try:
                if uuid.UUID(rid).int == 0:
                    raise ValueError
            except ValueError:
                raise invalid(f"Invalid value for field 'requestId': '{rid}'. Must be a non-zero UUID.") from None
            if rid in self.by_request:
                opzone, opname = self.by_request[rid]
                return self.operations[(opzone, opname)][0]
        inst = _parse(cv1.Instance, body)
        if not _NAME_RE.match(inst.name):
            raise invalid(f"Invalid value for field 'resource.name': '{inst.name}'. Must be a match of regex "
                          "'(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'")
        mtype = inst.machine_type.rsplit("/", 1)[-1]
        if not inst.machine_type.startswith((f"zones/{zone}/machineTypes/", f"{BASE}/projects/{self.project}/zones/{zone}/machineTypes/")):
            raise invalid(f"Invalid value for field 'resource.machineType': '{inst.machine_type}'.")
        if mtype not in self.offerings[zone]["machine"]:
            raise not_found(f"projects/{self.project}/zones/{zone}/machineTypes/{mtype}")
        for acc in inst.guest_accelerators:
            atype = acc.accelerator_type.rsplit("/", 1)[-1]
            if atype not in self.offerings[zone]["accel"]:
                raise not_found(f"projects/{self.project}/zones/{zone}/acceleratorTypes/{atype}")
            if mtype.startswith(_GPU_FAMILIES):
                raise invalid(f"Machine type {mtype} comes with its GPUs; guestAccelerators must be empty.")
        has_gpu = bool(inst.guest_accelerators) or mtype.startswith(_GPU_FAMILIES)
        if has_gpu and inst.scheduling.on_host_maintenance != "TERMINATE":
            raise invalid("Instances with guest accelerators do not support live migration.")
        if inst.scheduling.provisioning_model == "SPOT":
            if inst.scheduling.automatic_restart:
                raise invalid("Invalid value for field 'resource.scheduling.automaticRestart': 'true'. "
                              "Spot VMs do not support automatic restart.")
            if inst.scheduling.instance_termination_action not in ("STOP", "DELETE"):
                raise invalid("Spot VMs need scheduling.instanceTerminationAction STOP or DELETE.")
        if len(inst.labels) > 64 or any(not _LABEL_KEY_RE.match(k) or not _LABEL_VALUE_RE.match(v)
                                        for k, v in inst.labels.items()):
            raise invalid("Invalid value for field 'resource.labels': label keys and values must be lowercase "
                          "letters, digits, '_' or '-', at most 63 characters.")
        boots = [d for d in inst.disks if d.boot]
        if len(boots) != 1 or not boots[0].initialize_params.source_image:
            raise invalid("Invalid value for field 'resource.disks': exactly one boot disk with a sourceImage is required.")
        if not inst.network_interfaces:
            raise invalid("Invalid value for field 'resource.networkInterfaces': at least one is required.")
        for item in inst.metadata.items:
            if item.key == "ssh-keys":
                for line in filter(None, item.value.splitlines()):
                    user, _, key = line.partition(":")
                    if not user or not key.startswith(("ssh-", "ecdsa-")):
                        raise invalid(f"Invalid value for metadata 'ssh-keys': {line[:40]!r} is not USER:KEY.")
        if (zone, inst.name) in self.instances:
            raise ApiError(409, f"The resource 'projects/{self.project}/zones/{zone}/instances/{inst.name}' already exists",
                           "alreadyExists", "ALREADY_EXISTS")
        region = zone.rsplit("-", 1)[0]
        if has_gpu and region in self.accelerator_quota:
            raise ApiError(403, f"Quota 'NVIDIA_GPUS' exceeded.  Limit: 0.0 in region {region}.", "quotaExceeded",
                           "PERMISSION_DENIED")
        error = None
        if zone in self.stockout or f"{zone}/{mtype}" in self.stockout:
            error = ("ZONE_RESOURCE_POOL_EXHAUSTED",
                     (f"The zone 'projects/{self.project}/zones/{zone}' does not have enough resources available "
                     "to fulfill the request.  Try a different zone, or try again later."))
        elif region in self.quota:
            error = ("QUOTA_EXCEEDED", f"Quota 'CPUS' exceeded.  Limit: 24.0 in region {region}.")
        key = (zone, inst.name)

        def create() -> None:
            inst.id = secrets.randbits(62)
            inst.kind = "compute#instance"
            inst.zone = f"{BASE}/projects/{self.project}/zones/{zone}"
            inst.machine_type = f"{BASE}/projects/{self.project}/zones/{zone}/machineTypes/{mtype}"
            inst.self_link = f"{BASE}/projects/{self.project}/zones/{zone}/instances/{inst.name}"
            inst.creation_timestamp = _rfc3339()
            inst.status = "PROVISIONING"
            for i, nic in enumerate(inst.network_interfaces):
                nic.name = f"nic{i}"
            self.instances[key] = _Inst(inst, zone)
            self.nodes.boot("/".join(key), inst)

        op = self._op(zone, "insert", inst.name, error=error, then=create)
        if rid is not None:
            self.by_request[rid] = (zone, op.name)
        return op

    def get(self, zone: str, name: str) -> cv1.Instance:
        self.zone_check(zone)
        key = (zone, name)
        if key not in self.instances:
            raise not_found(f"projects/{self.project}/zones/{zone}/instances/{name}")
        self._refresh(key)
        return self.instances[key].msg

    def _matching(self, filter_: str, zones: list[str]) -> list[tuple[str, cv1.Instance]]:
        match = compile_filter(filter_)
        out = []
        for (zone, name) in sorted(self.instances):
            if zone in zones:
                self._refresh((zone, name))
                msg = self.instances[(zone, name)].msg
                if match(json.loads(_json(msg))):
                    out.append((zone, msg))
        return out

    def list(self, zone: str, query: dict[str, str]) -> dict[str, Any]:
        self.zone_check(zone)
        items, token = _page(self._matching(query.get("filter", ""), [zone]), query)
        out = cv1.InstanceList(kind="compute#instanceList", id=f"projects/{self.project}/zones/{zone}/instances",
                               items=[m for _, m in items], self_link=f"{BASE}/projects/{self.project}/zones/{zone}/instances")
        if token:
            out.next_page_token = token
        return json.loads(_json(out))

    def aggregated(self, query: dict[str, str]) -> dict[str, Any]:
        items, token = _page(self._matching(query.get("filter", ""), sorted(self.offerings)), query)
        scoped: dict[str, cv1.InstancesScopedList] = {}
        for zone, msg in items:
            scoped.setdefault(f"zones/{zone}", cv1.InstancesScopedList()).instances.append(msg)
        out = cv1.InstanceAggregatedList(kind="compute#instanceAggregatedList", id=f"projects/{self.project}/aggregated/instances",
                                         items=scoped, self_link=f"{BASE}/projects/{self.project}/aggregated/instances")
        if token:
            out.next_page_token = token
        return json.loads(_json(out))

    def lifecycle(self, action: str, zone: str, name: str) -> cv1.Operation:
        inst = self.get(zone, name)
        key = (zone, name)
        skey = "/".join(key)
        if action == "stop":
            def then() -> None:
                if inst.status not in ("TERMINATED",):
                    self.nodes.stop(skey, hard=False)
                    inst.status = "TERMINATED"
                    inst.last_stop_timestamp = _rfc3339()
            return self._op(zone, "stop", name, then=then)
        if action == "start":
            def then() -> None:
                if inst.status == "TERMINATED":
                    inst.status = "STAGING"
                    self.nodes.boot(skey, inst)
            return self._op(zone, "start", name, then=then)

        def gone() -> None:
            self.nodes.delete(skey)
            self.instances.pop(key, None)
        return self._op(zone, "delete", name, then=gone)

    def guest_attributes(self, zone: str, name: str, query: dict[str, str]) -> dict[str, Any]:
        self.get(zone, name)
        inst = self.instances[(zone, name)]
        path = query.get("queryPath", "")
        meta = {i.key: i.value for i in inst.msg.metadata.items}
        if meta.get("enable-guest-attributes", "").upper() != "TRUE":
            raise not_found(f"projects/{self.project}/zones/{zone}/instances/{name}/guestAttributes")
        items = []
        if inst.host_key and path.startswith("hostkeys/") and not self.hide_host_keys:
            kind, data = inst.host_key.split()[:2]
            items.append(cv1.GuestAttributesEntry(namespace="hostkeys", key=kind, value=data))
        if not items:
            raise not_found(f"projects/{self.project}/zones/{zone}/instances/{name}/guestAttributes/{path}")
        out = cv1.GuestAttributes(kind="compute#guestAttributes", query_path=path,
                                  query_value=cv1.GuestAttributesValue(items=items),
                                  self_link=f"{inst.msg.self_link}/guestAttributes/{path}")
        return json.loads(_json(out))

    # -- operations ------------------------------------------------------------------------------
    def operation(self, zone: str, name: str, *, wait: bool = False) -> cv1.Operation:
        self.zone_check(zone)
        if (zone, name) not in self.operations:
            raise not_found(f"projects/{self.project}/zones/{zone}/operations/{name}")
        op, left, then = self.operations[(zone, name)]
        if wait or left <= 1:
            self._finish(zone, name)
        else:
            self.operations[(zone, name)] = (op, left - 1, then)
        return self.operations[(zone, name)][0]

    def list_operations(self, zone: str, query: dict[str, str]) -> dict[str, Any]:
        self.zone_check(zone)
        match = compile_filter(query.get("filter", ""))
        ops = [op for (z, _), (op, _, _) in sorted(self.operations.items()) if z == zone
               and match(json.loads(_json(op)))]
        page, token = _page(ops, query)
        out = cv1.OperationList(kind="compute#operationList", id=f"projects/{self.project}/zones/{zone}/operations",
                                items=page)
        if token:
            out.next_page_token = token
        return json.loads(_json(out))

    # -- test hooks ------------------------------------------------------------------------------
    def preempt(self, zone: str, name: str) -> None:
        """Reclaim a SPOT VM as the platform does: stop or delete it per its termination action."""
        with self.lock:
            inst = self.instances[(zone, name)]
            assert inst.msg.scheduling.provisioning_model == "SPOT", "only SPOT VMs are preempted"
            self.nodes.stop(f"{zone}/{name}", hard=True)
            if inst.msg.scheduling.instance_termination_action == "DELETE":
                self.nodes.delete(f"{zone}/{name}")
                del self.instances[(zone, name)]
            else:
                inst.msg.status = "TERMINATED"
                inst.msg.last_stop_timestamp = _rfc3339()
            self._op(zone, "compute.instances.preempted", name, polls=0)

    def live(self) -> list[tuple[str, str, str]]:
        with self.lock:
            return [(z, n, i.msg.status) for (z, n), i in sorted(self.instances.items())]


def _parse(kind: Any, body: bytes) -> Any:
    try:
        return kind.from_json(body.decode() or "{}", ignore_unknown_fields=False)
    except (json_format.ParseError, UnicodeDecodeError, ValueError) as exc:
        raise invalid(f"Invalid JSON payload received. {exc}") from None


def _json(msg: Any) -> str:
    return type(msg).to_json(msg, use_integers_for_enums=False, always_print_fields_with_no_presence=False)


def _rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000-00:00", time.gmtime())


def _page(items: list[Any], query: dict[str, str]) -> tuple[list[Any], str | None]:
    try:
        size = int(query.get("maxResults", "500"))
    except ValueError:
        raise invalid("Invalid value for field 'maxResults'.") from None
    if not 0 <= size <= 500:
        raise invalid(f"Invalid value for field 'maxResults': {size}. Must be between 0 and 500.")
    size = size or 500
    token = query.get("pageToken")
    start = 0
    if token:
        try:
            start = int(base64.urlsafe_b64decode(token.encode()).decode())
        except ValueError:
            raise invalid("Invalid value for field 'pageToken'.") from None
    end = start + size
    nxt = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], nxt


_CLAUSE = re.compile(r'^\(?\s*([A-Za-z][A-Za-z0-9_.-]*)\s*(=|!=|eq|ne)\s*"?([^"]*?)"?\s*\)?$')
_FILTER_FIELDS = ("name", "status", "zone", "operationType", "targetLink", "machineType", "labels.",
                  "scheduling.provisioningModel")


def compile_filter(text: str) -> Callable[[dict[str, Any]], bool]:
    """The filters skytui's kind of client sends: `field = "value"` clauses joined by AND."""
    text = text.strip()
    if not text:
        return lambda _d: True
    clauses = []
    for part in re.split(r"\s+AND\s+", text, flags=re.IGNORECASE):
        m = _CLAUSE.match(part.strip())
        if not m:
            raise invalid(f"Invalid value for field 'filter': '{text}'. Invalid list filter expression.")
        fld, op, value = m.groups()
        if not fld.startswith(_FILTER_FIELDS):
            raise invalid(f"Invalid value for field 'filter': '{text}'. Invalid field name '{fld}'.")
        clauses.append((fld.split("."), op in ("=", "eq"), value))

    def match(d: dict[str, Any]) -> bool:
        for path, equal, value in clauses:
            cur: Any = d
            for p in path:
                cur = cur.get(p) if isinstance(cur, dict) else None
            if (str(cur) == value if cur is not None else value == "") != equal:
                return False
        return True

    return match


def parse_fields(text: str) -> dict[str, Any]:
    """Partial-response syntax (`a,b/c,d(e,f)`, `*` for any key) as a tree; None leaves mean all."""
    pos = 0

    def parse_list() -> dict[str, Any]:
        nonlocal pos
        tree: dict[str, Any] = {}
        while True:
            start = pos
            while pos < len(text) and text[pos] not in ",()":
                pos += 1
            path = [p for p in re.split(r"[/.]", text[start:pos].strip()) if p]
            if not path:
                raise invalid(f"Invalid field selection '{text}'")
            sub = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = parse_list()
                if pos >= len(text) or text[pos] != ")":
                    raise invalid(f"Invalid field selection '{text}'")
                pos += 1
            node = tree
            for p in path[:-1]:
                node = node.setdefault(p, {}) or node.setdefault(p, {})
            node[path[-1]] = sub
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return tree

    tree = parse_list()
    if pos != len(text):
        raise invalid(f"Invalid field selection '{text}'")
    return tree


def apply_fields(value: Any, tree: dict[str, Any] | None) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [apply_fields(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, sub in tree.items():
        if key == "*":
            for k, v in value.items():
                out[k] = apply_fields(v, sub)
        elif key in value:
            out[key] = apply_fields(value[key], sub)
    return out


def catalog_offerings() -> dict[str, dict[str, set[str]]]:
    """Zones, machine types and N1 accelerator types as the bundled catalog lists them."""
    from skytui.catalog import load
    from skytui.providers.gcp.naming import ACCELERATOR_TYPES, carries_gpus

    out: dict[str, dict[str, set[str]]] = {}
    for o in load("gcp"):
        if not o.zone:
            continue
        z = out.setdefault(o.zone, {"machine": set(), "accel": set()})
        z["machine"].add(o.instance_type)
        if o.accelerator_name and not carries_gpus(o.instance_type):
            z["accel"].add(ACCELERATOR_TYPES.get(o.accelerator_name, o.accelerator_name.lower()))
    return out


# -- HTTP ------------------------------------------------------------------------------------------
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile("^/compute/v1/projects/(?P<project>[^/]+)" + p + "$"), h) for m, p, h in (
        ("GET", "/aggregated/instances", "aggregated"),
        ("POST", "/zones/(?P<zone>[^/]+)/instances", "insert"),
        ("GET", "/zones/(?P<zone>[^/]+)/instances", "list"),
        ("GET", "/zones/(?P<zone>[^/]+)/instances/(?P<name>[^/]+)", "get"),
        ("DELETE", "/zones/(?P<zone>[^/]+)/instances/(?P<name>[^/]+)", "delete"),
        ("POST", "/zones/(?P<zone>[^/]+)/instances/(?P<name>[^/]+)/stop", "stop"),
        ("POST", "/zones/(?P<zone>[^/]+)/instances/(?P<name>[^/]+)/start", "start"),
        ("GET", "/zones/(?P<zone>[^/]+)/instances/(?P<name>[^/]+)/getGuestAttributes", "guest"),
        ("GET", "/zones/(?P<zone>[^/]+)/operations", "ops"),
        ("GET", "/zones/(?P<zone>[^/]+)/operations/(?P<op>[^/]+)", "op"),
        ("POST", "/zones/(?P<zone>[^/]+)/operations/(?P<op>[^/]+)/wait", "wait"),
    )]


def _handler(fake: FakeCompute) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _serve(self, method: str) -> None:
            if fake.down:
                self.connection.close()
                return
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fake.calls.append((method, url.path))
            try:
                result = self._route(method, url.path, query, body)
                status, payload = 200, result if isinstance(result, dict) else json.loads(_json(result))
                mask = query.get("fields") or self.headers.get("X-Goog-FieldMask")
                if mask:  # the `fields` system parameter: a partial response
                    payload = apply_fields(payload, parse_fields(mask))
            except ApiError as err:
                status, payload = err.code, err.body()
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> Any:
            for m, pattern, handler in _ROUTES:
                hit = pattern.match(path)
                if hit and m == method:
                    args = hit.groupdict()
                    with fake.lock:
                        fake.project_check(args.pop("project"))
                        zone, name, op = args.get("zone"), args.get("name"), args.get("op")
                        if handler == "aggregated":
                            return fake.aggregated(query)
                        if handler == "insert":
                            return fake.insert(zone, body, query)  # type: ignore[arg-type]
                        if handler == "list":
                            return fake.list(zone, query)  # type: ignore[arg-type]
                        if handler == "get":
                            return fake.get(zone, name)  # type: ignore[arg-type]
                        if handler in ("stop", "start", "delete"):
                            return fake.lifecycle(handler, zone, name)  # type: ignore[arg-type]
                        if handler == "guest":
                            return fake.guest_attributes(zone, name, query)  # type: ignore[arg-type]
                        if handler == "ops":
                            return fake.list_operations(zone, query)  # type: ignore[arg-type]
                        return fake.operation(zone, op, wait=handler == "wait")  # type: ignore[arg-type]
            raise ApiError(404, f"No such method: {method} {path}", "notFound", "NOT_FOUND")

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

    return Handler


def serve(fake: FakeCompute) -> tuple[ThreadingHTTPServer, str]:
    """Start serving on a free loopback port in a daemon thread; returns (server, endpoint URL)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="gcp-fake", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
