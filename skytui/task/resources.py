"""The `resources:` block of a task file: one base request plus any_of/ordered alternatives."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

from skytui.catalog.accelerators import KNOWN, canonical, closest
from skytui.task import compat
from skytui.task.fields import OutOfReach, Reader
from skytui.task.spec import RECOVERY_STRATEGIES, Accelerator, Autostop, JobRecovery, Resources
from skytui.task.yamlnodes import Node

CLOUDS = ("aws", "gcp", "local")
DEFAULT_AUTOSTOP_MINUTES = 5  # what `autostop: true` means, as in SkyPilot

# Fields one alternative (an any_of/ordered entry) may set.
ALTERNATIVE_FIELDS = (
    "cloud", "region", "zone", "infra", "accelerators", "cpus", "memory", "instance_type",
    "use_spot", "disk_size", "ports", "image_id", "labels", "job_recovery", "spot_recovery",
    "autostop", "gpus", "disk_tier", "network_tier", "accelerator_args",
)
DISK_TIERS = ("low", "medium", "high", "ultra", "best")
NETWORK_TIERS = ("standard", "best")
RESOURCE_FIELDS = ALTERNATIVE_FIELDS + ("any_of", "ordered")

# SkyPilot fields skytui knows of but does not act on: say so rather than ignore them.
_NOT_SUPPORTED = {
    name: f"skytui does not support '{name}'; remove it"
    for name in ("docker_login_config", "priority", "local_disk", "ephemeral_storage",
                 "max_hourly_cost")
}
_NOT_SUPPORTED["volumes"] = compat.TOP_LEVEL["volumes"][0] + "; " + compat.TOP_LEVEL["volumes"][1]
_TOP_LEVEL = ("name", "workdir", "num_nodes", "envs", "secrets", "file_mounts", "setup", "run")
_HINTS = {
    **_NOT_SUPPORTED,
    **{n: f"'{n}' belongs at the top level of the task, not under resources" for n in _TOP_LEVEL},
}
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)(\+?)")
_PORT = re.compile(r"(\d{1,5})(?:\s*-\s*(\d{1,5}))?")
_DURATION = re.compile(r"(\d+)\s*([mhd]?)", re.IGNORECASE)
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:([kmgtp])(?:ib|b|i)?|(b))?", re.IGNORECASE)
_SIZE_GIB = {"k": 1 / 1024 ** 2, "m": 1 / 1024, "g": 1.0, "t": 1024.0, "p": 1024.0 ** 2}
_MINUTES = {"": 1, "m": 1, "h": 60, "d": 24 * 60}
_LOCATION = ("cloud", "region", "zone")
_DEFAULTS: dict[str, Any] = {
    f.name: f.default if f.default is not MISSING else f.default_factory()  # type: ignore[operator]
    for f in dataclass_fields(Resources)
}


@dataclass(frozen=True)
class Resolved:
    """What `resources:` came to: the alternatives skytui can run, and notes on the rest."""

    resources: tuple[Resources, ...]
    ordered: bool  # `ordered:` gave a preference order
    notes: tuple[str, ...]  # FILE:LINE:COL: what was left out and why


def read_resources(r: Reader, node: Node | None,
                   extra: tuple[str, ...] = ()) -> tuple[tuple[Resources, ...], bool]:
    """The candidate Resources and whether their order is a preference (`ordered:`)."""
    got = resolve_resources(r, node, extra)
    return got.resources, got.ordered


def resolve_resources(r: Reader, node: Node | None, extra: tuple[str, ...] = ()) -> Resolved:
    """Read `resources:`, dropping (with a note) alternatives no cloud skytui has can meet.

    Problems are gathered on `r`; the caller calls `r.finish()`. When every alternative is
    out of reach, the one line says why (the first reason), as a TaskError.
    """
    if node is None or (node.kind == "scalar" and node.value is None):
        return Resolved((Resources(),), False, ())
    fields = r.mapping(node, "resources")
    r.check_keys(node, "resources", RESOURCE_FIELDS, _HINTS)
    base = _Layer(r, node, "resources", extra)
    if "any_of" in fields and "ordered" in fields:
        r.problems.append(r.fail(node.keys["ordered"], "resources",
                                 "both any_of and ordered are given",
                                 "use any_of (any will do) or ordered (in preference order), "
                                 "not both"))
    key = "ordered" if "ordered" in fields else "any_of" if "any_of" in fields else None
    layers: list[tuple[_Layer | None, Node]] = []
    if key is None:
        layers.append((None, node))
    else:
        items = fields[key]
        path = f"resources.{key}"
        if items.kind != "seq" or not items.value:
            raise r.fail(items, path, f"expected a non-empty list, got {items.describe()}",
                         "list alternatives as '- accelerators: H100:8' entries")
        hints = {**_HINTS, "any_of": "any_of/ordered cannot nest; flatten the alternatives",
                 "ordered": "any_of/ordered cannot nest; flatten the alternatives"}
        for i, item in enumerate(items.value):
            where = f"{path}[{i}]"
            if item.kind == "scalar" and item.value is None:
                layers.append((None, item))
                continue
            with r.gather():
                r.mapping(item, where)
                r.check_keys(item, where, ALTERNATIVE_FIELDS, hints)
                layers.append((_Layer(r, item, where, extra), item))
    out: list[Resources] = []
    left_out: list[tuple[Node, str, str]] = []
    for layer, _ in layers:
        with r.gather():
            built, why = base.build(layer)
            if built is None:
                left_out.append(why[0])
                continue
            out.append(built)
    notes = list(dict.fromkeys(r.notes))  # the base's dropped members, once
    if r.problems:
        return Resolved(tuple(out) or (Resources(),), key == "ordered", tuple(notes))
    if not out:
        node_, problem, fix = left_out[0]
        others = f" (and {len(left_out) - 1} other alternative(s))" if len(left_out) > 1 else ""
        raise OutOfReach(problem + others, fix, file=r.source, line=node_.line, col=node_.col,
                         field="resources")
    if len(layers) > 1:
        notes.extend(_note(r, n, f"left out this alternative: {p}")
                     for n, p, _ in left_out)
    return Resolved(tuple(out), key == "ordered", tuple(notes))


def _note(r: Reader, node: Node, text: str) -> str:
    return f"{r.source}:{node.line}:{node.col}: {text}"


class _Layer:
    """The fields one mapping sets, parsed; an alternative's layer overrides the base's.

    `blocked` holds, per field, why the value asks for something no cloud skytui has
    (another cloud, a TPU, a GPU no catalog has); `dropped` the accelerator set members
    left out while others remain.
    """

    def __init__(self, r: Reader, node: Node, path: str, extra: tuple[str, ...]) -> None:
        self.r, self.path = r, path
        self.values: dict[str, Any] = {}
        self.nodes: dict[str, tuple[Node, str]] = {}  # field -> (node, dotted name) for errors
        self.blocked: dict[str, tuple[Node, str, str]] = {}
        self.dropped: list[tuple[Node, str]] = []
        self.infra_given = False
        fields: dict[str, Node] = node.value
        if "spot_recovery" in fields and "job_recovery" in fields:
            r.problems.append(r.fail(node.keys["spot_recovery"], path,
                                     "both job_recovery and spot_recovery",
                                     "keep job_recovery (spot_recovery is its old name)"))
        if "gpus" in fields and "accelerators" in fields:
            r.problems.append(r.fail(node.keys["gpus"], path, "both accelerators and gpus",
                                     "keep one: gpus is another name for accelerators"))
        if "accelerator_args" in fields:  # TPU settings: the request is for a TPU
            self.blocked["accelerators"] = (node.keys["accelerator_args"], *compat.TPU_REFUSAL)
        for name, value in fields.items():
            if name in ("any_of", "ordered", "infra", "accelerator_args") or name in _LOCATION:
                continue
            if name not in _PARSERS and name not in ("spot_recovery", "gpus"):
                continue  # an unknown field, already reported by check_keys
            field = f"{path}.{name}"
            key = {"spot_recovery": "job_recovery", "gpus": "accelerators"}.get(name, name)
            self.nodes[key] = (value, field)
            if value.kind == "scalar" and value.value is None:  # null: back to the default
                for k in (key, f"{key}_at_least"):
                    if k in _DEFAULTS:
                        self.values[k] = _DEFAULTS[k]
                continue
            with r.gather():
                parsed = _PARSERS[key](r, value, field, extra)
                if key in ("cpus", "memory"):
                    self.values[key], self.values[f"{key}_at_least"] = parsed
                elif key == "accelerators":
                    kept, ordered, dropped = parsed
                    self.values["accelerators"] = kept
                    self.values["accelerators_ordered"] = ordered
                    if not kept and dropped:
                        self.blocked["accelerators"] = dropped[0]
                    elif kept:
                        self.dropped.extend((n, p) for n, p, _ in dropped)
                elif key == "image_id" and isinstance(parsed, dict):
                    self.values["image_ids"], self.values["image_id"] = parsed, None
                else:
                    self.values[key] = parsed
        with r.gather():
            self._location(node, fields)

    def _location(self, node: Node, fields: dict[str, Node]) -> None:
        r, path = self.r, self.path
        given: dict[str, str | None] = {}
        for name in _LOCATION:
            if name in fields:
                field = f"{path}.{name}"
                value = r.text(fields[name], field, what=f"a {name} name")
                if name == "cloud":
                    value = self._cloud(fields[name], field, value)
                given[name] = value
                self.nodes[name] = (fields[name], field)
        if "infra" not in fields:
            self.values.update(given)
            return
        infra_node, field = fields["infra"], f"{path}.infra"
        raw = r.text(infra_node, field, what="an infra string")
        if raw is None:
            self.values.update(given)
            return
        parsed = _infra(r, infra_node, field, raw)
        self.infra_given = True
        cloud = self._cloud(infra_node, field, parsed[0])
        parsed = (cloud,) + tuple(parsed[1:])
        for name, value in zip(_LOCATION, parsed, strict=False):
            other = given.get(name)
            if value is not None and other is not None and value != other:
                raise r.fail(infra_node, field,
                             f"infra '{raw}' says {name} {value!r} but {name} is {other!r}",
                             "give the location once: infra, or cloud/region/zone")
            self.values[name] = value if value is not None else other
            if value is not None:
                self.nodes[name] = (infra_node, field)

    def _cloud(self, node: Node, field: str, value: str | None) -> str | None:
        """A cloud skytui runs on; another known cloud blocks this alternative (None)."""
        if value is None:
            return None
        folded = value.strip().lower()
        if folded in compat.OTHER_CLOUDS:
            problem, fix = compat.cloud_refusal(folded)
            self.blocked["cloud"] = (node, problem, fix)
            return None
        return _cloud(self.r, node, field, value)

    def build(self, override: _Layer | None
              ) -> tuple[Resources | None, list[tuple[Node, str, str]]]:
        """The Resources of base + override, or None with why it cannot be met."""
        values = dict(self.values)
        nodes = dict(self.nodes)
        blocked = dict(self.blocked)
        dropped = list(self.dropped)
        if override is not None:
            if override.infra_given or "cloud" in override.values:  # a new place replaces it
                for name in _LOCATION:
                    values.pop(name, None)
                blocked.pop("cloud", None)
            for name in ("accelerators", "accelerators_ordered"):
                if name in override.values or "accelerators" in override.blocked:
                    values.pop(name, None)
                    blocked.pop("accelerators", None)
                    dropped = []
            values.update(override.values)
            nodes.update(override.nodes)
            blocked.update(override.blocked)
            dropped.extend(override.dropped)
        if blocked:  # the place first: "not on Kubernetes" says more than "no MI300 there"
            return None, [blocked[k] for k in sorted(blocked, key=lambda k: k != "cloud")]
        for n, problem in dropped:
            self.r.notes.append(_note(self.r, n, f"left out {problem}"))
        region, zone = values.get("region"), values.get("zone")
        if region and zone and values.get("cloud") != "local" and not zone.startswith(region):
            node, field = nodes["zone"]
            raise self.r.fail(node, field, f"zone {zone!r} is not in region {region!r}",
                              f"pick a zone of {region} (e.g. {region}a) or drop the region")
        return Resources(**values), []


def _cloud(r: Reader, node: Node, field: str, value: str | None) -> str | None:
    if value is None:
        return None
    folded = value.strip().lower()
    if folded in CLOUDS:
        return folded
    # Only a slip of the same name gets a hint: oci is a cloud of its own, not local.
    near = difflib.get_close_matches(folded, CLOUDS, n=1, cutoff=0.6)
    hint = f"did you mean '{near[0]}'? " if near else ""
    raise r.fail(node, field, f"unknown cloud {value!r}", f"{hint}skytui runs on aws, gcp and local")


def _infra(r: Reader, node: Node, field: str, raw: str) -> tuple[str | None, ...]:
    parts = [p.strip() for p in raw.strip().split("/")]
    if len(parts) > 3 or not all(parts):
        raise r.fail(node, field, f"cannot read infra {raw!r}",
                     "write cloud[/region[/zone]], e.g. aws/us-east-1 or */us-east-1")
    parts += [""] * (3 - len(parts))
    cloud, region, zone = (None if p in ("*", "") else p for p in parts)
    return cloud, region, zone


Dropped = tuple[Node, str, str]  # where, why (problem), what to do


def _accelerators(r: Reader, node: Node, field: str, extra: tuple[str, ...]
                  ) -> tuple[tuple[Accelerator, ...], bool, list[Dropped]]:
    """A100, A100:8, {A100: 8}, {H100: 1, H200: 1} (any of) or a list (in preference order).

    Returns the accelerators skytui can run, whether their order is a preference, and the
    members left out (a TPU, a GPU no catalog skytui has) with why.
    """
    pairs: list[tuple[Node, str, Node | None]] = []  # (where, name or spec, count node)
    ordered = False
    if node.kind == "scalar":
        if node.value is None:
            return (), False, []
        spec = r.scalar_text(node, field) or ""
        pairs.extend((node, part, None) for part in _set_members(spec))
    elif node.kind == "map":
        for name, count in node.value.items():
            pairs.append((node.keys[name], name, count))
    else:
        ordered = len(node.value) > 1
        for item in node.value:
            if item.kind == "map" and len(item.value) == 1:
                (name, count), = item.value.items()
                pairs.append((item.keys[name], name, count))
            else:
                spec = r.text(item, field, allow_null=False, what="a GPU like 'A100:8'") or ""
                pairs.append((item, spec, None))
    out: list[Accelerator] = []
    dropped: list[Dropped] = []
    for where, spec, count_node in pairs:
        with r.gather():
            got = _one_accelerator(r, where, field, spec, count_node, extra)
            if isinstance(got, Accelerator):
                if got not in out:
                    out.append(got)
            else:
                dropped.append(got)
    return tuple(out), ordered, dropped


def _set_members(spec: str) -> list[str]:
    """`{A100:1, H100:1}` or `A100:1, H100:1` written as one string: its members."""
    text = spec.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    parts = [p.strip().strip("'\"") for p in text.split(",")]
    return [p for p in parts if p] or [spec]


def _one_accelerator(r: Reader, where: Node, field: str, spec: str, count_node: Node | None,
                     extra: tuple[str, ...]) -> Accelerator | Dropped:
    name, count_text = spec, None
    if count_node is not None and count_node.kind == "scalar" and count_node.value is None \
            and ":" in spec:
        count_node = None  # `{H100:1, H200:1}` in flow style: keys 'H100:1' with no value
    if count_node is None and ":" in spec:
        name, _, count_text = spec.rpartition(":")
    name = name.strip()
    if count_node is not None:
        if count_node.kind == "scalar" and count_node.value is None:
            count: int | float = 1
        else:
            value = count_node.value if count_node.kind == "scalar" else None
            text = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
                else (count_node.text or count_node.describe())
            count = _count(r, count_node, field, text)
    else:
        count = 1 if count_text is None else _count(r, where, field, count_text)
    known = canonical(name, extra) if name else None
    if known is not None:
        return Accelerator(known, count)
    folded = name.lower()
    if compat.is_tpu(name):
        return (where, compat.TPU_REFUSAL[0], compat.TPU_REFUSAL[1])
    if folded in compat.NEURON:
        return (where, f"AWS {name} is not in skytui's bundled catalog (it has GPUs, Inferentia, "
                       "Inferentia2 and Trainium)",
                "ask for a GPU (see `skytui show-gpus`), or run this task with SkyPilot")
    if folded in compat.OTHER_ACCELERATORS:  # real, but on no cloud skytui runs on
        return (where, f"{name} (no cloud skytui runs on offers it)",
                f"ask for one of {', '.join(KNOWN)} (see `skytui show-gpus`)")
    near = closest(name, extra) if name else None
    hint = f"did you mean '{near}'? " if near else ""
    names = ", ".join(list(KNOWN) + [e for e in extra if e not in KNOWN])
    raise r.fail(where, field, f"unknown GPU {name!r}", f"{hint}known: {names}")


def _count(r: Reader, node: Node, field: str, text: str) -> int | float:
    """A whole count of 1 or more, or a fraction below 1 (jobs sharing one GPU)."""
    try:
        return gpu_count(text)
    except ValueError as e:
        problem, _, fix = str(e).partition("; ")
        raise r.fail(node, field, problem, fix) from None


def gpu_count(text: str) -> int | float:
    """A GPU count as a task file or `--gpus` writes it: a whole count of 1 or more, or a
    fraction below 1 (jobs sharing one GPU). ValueError("problem; fix") otherwise."""
    raw = text.strip()
    if re.fullmatch(r"-\d{1,9}(?:\.\d*)?", raw):
        raise ValueError(f"GPU count must be more than 0, got {raw}; "
                         "ask for 1 or more, or remove accelerators for a CPU-only task")
    if re.fullmatch(r"\d{1,9}", raw):
        count: int | float = int(raw)
    elif re.fullmatch(r"\d{0,9}\.\d{1,9}", raw):
        count = float(raw)
        if count.is_integer():
            count = int(count)
    else:
        raise ValueError(f"GPU count {raw!r} is not a number; "
                         "ask for whole GPUs (A100:1) or a share of one (T4:0.5)")
    if count <= 0:
        raise ValueError(f"GPU count must be more than 0, got {raw}; "
                         "ask for 1 or more, or remove accelerators for a CPU-only task")
    if isinstance(count, float) and count > 1:
        raise ValueError(f"GPU count {raw} is a fraction above 1; "
                         "ask for whole GPUs above 1 (A100:2), or a share below 1 (T4:0.5)")
    return count


def _amount(r: Reader, node: Node, field: str, unit: str) -> tuple[float | None, bool]:
    """cpus/memory: 8, 8.5 or '8+' (at least 8)."""
    if node.kind == "scalar" and node.value is None:
        return None, False
    value = node.value if node.kind == "scalar" else None
    at_least = False
    if isinstance(value, str):
        m = _AMOUNT.fullmatch(value.strip())
        value = float(m.group(1)) if m else None
        at_least = bool(m and m.group(2))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise r.fail(node, field, f"expected a number of {unit}, got {node.describe()}",
                     f"write e.g. 8 or '8+' (at least 8 {unit})")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise r.fail(node, field, f"must be more than 0 {unit}, got {node.text}",
                     "give a positive amount")
    return value, at_least


def _ports(r: Reader, node: Node, field: str, extra: tuple[str, ...]) -> tuple[str, ...]:
    if node.kind == "scalar" and node.value is None:
        return ()
    items = node.value if node.kind == "seq" else [node]
    out: list[str] = []
    for item in items:
        v = item.value if item.kind == "scalar" else None
        m = _PORT.fullmatch(v.strip()) if isinstance(v, str) else None
        if isinstance(v, int) and not isinstance(v, bool):
            lo = hi = v
        elif m:
            lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        else:
            raise r.fail(item, field, f"cannot read port {item.describe()}",
                         "write a port (8080) or a range ('10000-10010')")
        if not (1 <= lo <= hi <= 65535):
            raise r.fail(item, field, f"bad port {item.text!r}",
                         "ports run from 1 to 65535, ranges low-high")
        port = str(lo) if lo == hi else f"{lo}-{hi}"
        if port not in out:
            out.append(port)
    return tuple(out)


def _labels(r: Reader, node: Node, field: str, extra: tuple[str, ...]) -> dict[str, str]:
    if node.kind == "scalar" and node.value is None:
        return {}
    out: dict[str, str] = {}
    for name, value in r.mapping(node, field).items():
        if not name.strip():
            raise r.fail(node.keys[name], field, "empty label name", "give the label a name")
        out[name] = r.scalar_text(value, f"{field}.{name}") or ""
    return out


def _strategy(r: Reader, node: Node, field: str) -> str | None:
    raw = r.text(node, field, what="a recovery strategy")
    if raw is None:
        return None
    folded = raw.strip().upper().replace("-", "_")
    if folded in RECOVERY_STRATEGIES:
        return folded
    near = difflib.get_close_matches(folded, RECOVERY_STRATEGIES, n=1, cutoff=0.5)
    hint = f"did you mean '{near[0]}'? " if near else ""
    raise r.fail(node, field, f"unknown recovery strategy {raw!r}",
                 f"{hint}choose one of {', '.join(RECOVERY_STRATEGIES)}")


def _job_recovery(r: Reader, node: Node, field: str, extra: tuple[str, ...]) -> JobRecovery | None:
    if node.kind == "scalar":
        if node.value is None:
            return None
        return JobRecovery(strategy=_strategy(r, node, field))
    fields = r.mapping(node, field)
    r.check_keys(node, field, ("strategy", "max_restarts_on_errors", "recover_on_exit_codes"))
    strategy = _strategy(r, fields["strategy"], f"{field}.strategy") if "strategy" in fields \
        else None
    restarts = 0
    if "max_restarts_on_errors" in fields:
        restarts = r.integer(fields["max_restarts_on_errors"], f"{field}.max_restarts_on_errors",
                             minimum=0, what="max_restarts_on_errors")
    codes: list[int] = []
    if "recover_on_exit_codes" in fields:
        where, codes_node = f"{field}.recover_on_exit_codes", fields["recover_on_exit_codes"]
        items = codes_node.value if codes_node.kind == "seq" else [codes_node]
        if codes_node.kind == "scalar" and codes_node.value is None:
            items = []
        for item in items:
            code = r.integer(item, where, minimum=0, what="an exit code")
            if code > 255:
                raise r.fail(item, where, f"exit code {code} is above 255",
                             "exit codes run from 0 to 255")
            if code not in codes:
                codes.append(code)
    return JobRecovery(strategy, restarts, tuple(codes))


def _minutes(r: Reader, node: Node, field: str) -> int:
    v = node.value if node.kind == "scalar" else None
    if isinstance(v, str):
        m = _DURATION.fullmatch(v.strip())
        if m:
            return int(m.group(1)) * _MINUTES[m.group(2).lower()]
    if isinstance(v, int) and not isinstance(v, bool):
        return r.integer(node, field, minimum=0, what="idle minutes")
    raise r.fail(node, field, f"expected idle minutes, got {node.describe()}",
                 "write minutes (10) or a duration ('30m', '2h', '1d')")


def _autostop(r: Reader, node: Node, field: str, extra: tuple[str, ...]) -> Autostop | None:
    """10 (idle minutes), true (the default wait), false/null (off), or a mapping."""
    if node.kind == "scalar":
        if node.value is None or node.value is False:
            return None
        if node.value is True:
            return Autostop(DEFAULT_AUTOSTOP_MINUTES)
        return Autostop(_minutes(r, node, field))
    fields = r.mapping(node, field)
    r.check_keys(node, field, ("idle_minutes", "down"))
    minutes = DEFAULT_AUTOSTOP_MINUTES
    if "idle_minutes" in fields:
        minutes = _minutes(r, fields["idle_minutes"], f"{field}.idle_minutes")
    down = r.boolean(fields["down"], f"{field}.down") if "down" in fields else False
    return Autostop(minutes, down)


def _text_field(what: str) -> Callable[[Reader, Node, str, tuple[str, ...]], str | None]:
    def read(r: Reader, node: Node, field: str, extra: tuple[str, ...]) -> str | None:
        if node.kind == "map":
            raise r.fail(node, field, f"expected {what}, got a mapping",
                         "give a single value; per-region mappings are not supported")
        return r.text(node, field, what=what)
    return read


def _cpus(r: Reader, node: Node, field: str, extra: tuple[str, ...]) -> tuple[float | None, bool]:
    return _amount(r, node, field, "CPUs")


def _memory(r: Reader, node: Node, field: str, extra: tuple[str, ...]) -> tuple[float | None, bool]:
    return _amount(r, node, field, "GiB")


def _use_spot(r: Reader, node: Node, field: str, extra: tuple[str, ...]) -> bool:
    return r.boolean(node, field)


def _disk(r: Reader, node: Node, field: str, extra: tuple[str, ...]) -> int:
    """GiB: 256, or with a unit: '1024GB', '1TB', '512Gi' (GB counts as GiB, as in SkyPilot)."""
    value = node.value if node.kind == "scalar" else None
    if isinstance(value, str):
        m = _SIZE.fullmatch(value.strip())
        if m is None or m.group(3):
            raise r.fail(node, field, f"cannot read disk_size {value!r}",
                         "write GiB (256) or a size with a unit ('1024GB', '1TB')")
        gib = float(m.group(1)) * _SIZE_GIB[(m.group(2) or "g").lower()]
        if gib < 1:
            raise r.fail(node, field, f"disk_size {value!r} is below 1 GiB", "ask for more")
        return math.ceil(gib - 1e-9)
    return r.integer(node, field, minimum=1, what="disk_size (GiB)")


def _choice(what: str, choices: tuple[str, ...]
            ) -> Callable[[Reader, Node, str, tuple[str, ...]], str | None]:
    def read(r: Reader, node: Node, field: str, extra: tuple[str, ...]) -> str | None:
        raw = r.text(node, field, what=what)
        if raw is None:
            return None
        folded = raw.strip().lower()
        if folded in choices:
            return folded
        raise r.fail(node, field, f"unknown {what} {raw!r}", f"choose one of {', '.join(choices)}")
    return read


def _image_id(r: Reader, node: Node, field: str,
              extra: tuple[str, ...]) -> str | dict[str, str] | None:
    """One image, or a per-region map (region: image) that limits where the task runs."""
    if node.kind != "map":
        return r.text(node, field, what="an image id")
    out: dict[str, str] = {}
    for region, value in r.mapping(node, field).items():
        if not region.strip():
            raise r.fail(node.keys[region], field, "empty region name",
                         "write 'region: image id' lines")
        out[region.strip()] = r.text(value, f"{field}.{region}", allow_null=False,
                                     what="an image id") or ""
    if not out:
        raise r.fail(node, field, "the per-region image map is empty",
                     "give 'region: image id' lines, or remove image_id")
    return out


_PARSERS: dict[str, Any] = {
    "accelerators": _accelerators,
    "cpus": _cpus,
    "memory": _memory,
    "instance_type": _text_field("an instance type"),
    "use_spot": _use_spot,
    "disk_size": _disk,
    "ports": _ports,
    "image_id": _image_id,
    "disk_tier": _choice("disk tier", DISK_TIERS),
    "network_tier": _choice("network tier", NETWORK_TIERS),
    "labels": _labels,
    "job_recovery": _job_recovery,
    "autostop": _autostop,
}
