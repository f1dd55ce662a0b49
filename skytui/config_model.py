"""The typed settings skytui reads from config.yaml (defaults are what a new user gets).

This file is the one declaration of every setting: each field of `Config` (and of the section
dataclasses under it) carries its type (the annotation), its default, and in its metadata
(`setting(...)`, a `Rule`) its YAML key, allowed range or choices, docs and, where a setting
has a rule of its own, a `check` written beside it. The reader (`skytui.config`) validates
every key from these declarations with generic code and `skytui.settings` lists them. Adding a
setting is adding one field here; then `python -m skytui.settings README.md` regenerates the
README's table and `examples/config.yaml` gets its line (tests fail until both are current).

Plain dataclasses with field metadata, not msgspec: no new dependency, the public types stay
the dataclasses every caller already builds and compares, and errors need the YAML position of
each value (FILE:LINE:COL), which the reader has and a msgspec decode of plain data would not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

DEFAULT_LOCAL_REGIONS: dict[str, tuple[str, ...]] = {"local-1": ("a", "b"), "local-2": ("a", "b")}
CLOUDS = ("aws", "gcp", "local")
# A task file's job_recovery.strategy has the same choices (skytui.task.spec.RECOVERY_STRATEGIES;
# importing it would close a cycle through the catalog, so a test holds the two equal).
STRATEGIES = ("FAILOVER", "EAGER_NEXT_REGION")

RULE = "skytui.setting"  # the key of a field's `Rule` in its dataclass metadata


class Problem(NamedTuple):
    """What a setting's own check found: `where` is relative to the setting ("" for the value
    itself, "KEY" for an entry of a mapping), so the error still points at the line."""

    where: str
    problem: str
    fix: str | None = None


@dataclass(frozen=True)
class Rule:
    """How one setting is read and documented; the type is the field's annotation."""

    doc: str  # one line for the README table
    key: str | None = None  # YAML path under the enclosing section; None: the field's name
    minimum: float | None = None  # for numbers, and for every number a list or mapping holds
    maximum: float | None = None
    choices: tuple[str, ...] = ()  # for text (and each item of a list); matched ignoring case
    keys: tuple[str, ...] = ()  # the keys a mapping may have (else the user's own names)
    noun: str = "value"  # what it is called in errors: "unknown cloud 'azure'", "must be a share between"
    hint: str | None = None  # the fix shown with a value out of range
    check: Callable[[Any], Problem | None] | None = None  # a rule of this setting's own
    convert: Callable[[Any], Any] | None = None  # applied after every check passed
    null_is_default: bool = False  # `key: null` means the default rather than an error
    shown_default: str | None = None  # the README's default when the value alone says too little
    example: Any = None  # a valid value other than the default (docs, fixes, the tests)


def setting(doc: str, **rule: Any) -> dict[str, Rule]:
    """The metadata that makes a dataclass field a config.yaml setting (see `Rule`)."""
    return {RULE: Rule(doc, **rule)}


# Rules a setting has of its own, each named by the field that uses it.

def _user_name(value: str) -> Problem | None:
    from skytui.names import USER_NAME_RE

    if USER_NAME_RE.fullmatch(value):  # it is written into the SSH config verbatim
        return None
    return Problem("", f"{value!r} is not a valid user name",
                   "use letters, digits, '_', '.', '-' (at most 32), starting with a letter or '_'")


def _endpoint(value: str) -> Problem | None:
    if re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        return None
    return Problem("", f"{value!r} is not an http(s) URL", "e.g. http://127.0.0.1:5000")


_GCP_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")


def _gcp_project(value: str) -> Problem | None:
    if _GCP_PROJECT.fullmatch(value):
        return None
    return Problem("", f"{value!r} is not a GCP project id",
                   "use the project ID (6-30 lowercase letters, digits, hyphens), not its name or number")


def _without_local(clouds: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for c in clouds if c != "local")  # the local cloud is always there


def _local_regions(regions: dict[str, tuple[str, ...]]) -> Problem | None:
    if not regions:
        return Problem("", "the local cloud needs at least one region", "e.g. {local-1: [a, b]}")
    for name, zones in regions.items():
        if not zones:
            return Problem(name, "a region needs at least one zone", "e.g. [a, b]")
    return None


def url_problem(url: str) -> str | None:
    """Why `url` cannot be probed (not an absolute http(s) URL with a host), or None."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"{url!r} is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL"
    if port == 0:
        return f"{url!r} has port 0"
    return None


def _probe_urls(urls: dict[str, str]) -> Problem | None:
    for key, url in urls.items():
        cloud, sep, _ = key.partition("/")
        if not sep or cloud not in CLOUDS:
            return Problem(key, f"{key!r} is not CLOUD/REGION", f"e.g. aws/us-east-1 (clouds: {', '.join(CLOUDS)})")
        problem = url_problem(url)
        if problem:
            return Problem(key, problem, "use http://HOST[:PORT]/PATH or https://...")
    # Whether the region exists is checked by the reader (`skytui.config._nearest_regions`): it
    # needs this config's local.regions and the catalog, which imports this module.
    return None


def webhook_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook (None when it can): http(s) with a host, nothing else."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"a webhook must be http or https, got {parts.scheme + '://' if parts.scheme else url!r}"
    if not parts.hostname:
        return f"the webhook URL {url!r} names no host"
    return None


def _webhook(url: str) -> Problem | None:
    problem = webhook_problem(url)
    return Problem("", problem, "use an http:// or https:// URL, e.g. a Slack incoming webhook") if problem else None


def _proxy_places(proxies: dict[str, SshProxy]) -> Problem | None:
    for key in proxies:
        cloud, _, region = key.partition("/")
        if cloud not in ("aws", "gcp") or (region == "" and "/" in key):
            return Problem(key, f"{key!r} is not a cloud or cloud/region", "use aws, gcp, or e.g. aws/us-east-1")
    return None


# Both end up in an OpenSSH config file: a newline there would write new directives.
_JUMP = re.compile(r"(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9._\[\]:-]+")


def _jump(value: str) -> Problem | None:
    return None if _JUMP.fullmatch(value) else Problem("", f"{value!r} is not [user@]host[:port]",
                                                       "e.g. ubuntu@bastion.example.com")


def _one_line(value: str) -> Problem | None:
    return Problem("", "a proxy command must be one line") if any(c in value for c in "\r\n\0") else None


@dataclass(frozen=True)
class ZoneCapacity:
    """How many nodes a local zone holds; None is unlimited, spot 0 simulates a stock-out."""

    on_demand: int | None = field(default=None, metadata=setting(
        "on-demand nodes the zone holds", minimum=0, example=4))
    spot: int | None = field(default=None, metadata=setting(
        "spot nodes the zone holds", minimum=0, example=0))


@dataclass(frozen=True)
class LocalPriceSettings:
    """Reference prices for the local cloud: estimates, so a demo's costs mean something."""

    vcpu_hour: float = field(default=0.04, metadata=setting(
        "the local cloud's reference $ per vCPU-hour (an estimate)", minimum=0))
    gib_hour: float = field(default=0.005, metadata=setting(
        "the local cloud's reference $ per GiB-hour of memory", minimum=0))
    gpu_hour: dict[str, float] = field(default_factory=dict, metadata=setting(
        "$ per GPU-hour by GPU name; else the catalog's median price for that GPU",
        minimum=0, shown_default="catalog median", example={"H200": 3.5}))
    spot_ratio: float = field(default=0.35, metadata=setting(
        "a spot node's price as a share of on-demand", minimum=0))


@dataclass(frozen=True)
class LocalSettings:
    regions: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_LOCAL_REGIONS), metadata=setting(
        "the local cloud's regions and their zones (failure domains on one host)",
        check=_local_regions, example={"r1": ["x"]}))
    capacity: dict[str, ZoneCapacity] = field(default_factory=dict, metadata=setting(
        "nodes per `region/zone` or `region` (`spot: 0` simulates a stock-out)",
        shown_default="unlimited", example={"local-1/a": {"spot": 0}}))
    spot_preemptions_per_hour: float = field(default=0.0, metadata=setting(
        "random preemptions of local spot nodes", minimum=0))
    prices: LocalPriceSettings = field(default_factory=LocalPriceSettings, metadata=setting(
        "reference prices (estimates)"))
    # The warning before a spot node is reclaimed, as AWS (120 s) and GCP (~30 s) give one.
    preemption_notice_seconds: float = field(default=5.0, metadata=setting(
        "the warning (SIGTERM to the job) before a local spot node is reclaimed", minimum=0))

    def zone_capacity(self, region: str, zone: str) -> ZoneCapacity:
        return self.capacity.get(f"{region}/{zone}") or self.capacity.get(region) or ZoneCapacity()


@dataclass(frozen=True)
class AwsSettings:
    """`aws:` in config.yaml; credentials come from boto3's own chain, never from here."""

    profile: str | None = field(default=None, metadata=setting(
        "a profile in ~/.aws/config; `null`: boto3's default chain", example="dev"))
    endpoint_url: str | None = field(default=None, metadata=setting(
        "moto, LocalStack or a VPC endpoint instead of AWS",
        check=_endpoint, example="http://127.0.0.1:5000"))


@dataclass(frozen=True)
class GcpSettings:
    """`gcp:` in config.yaml; credentials come from Application Default Credentials."""

    project: str | None = field(default=None, metadata=setting(
        "the GCP project ID; `null`: the one your ADC names",
        check=_gcp_project, example="my-proj-1"))
    endpoint: str | None = field(default=None, metadata=setting(
        "an emulator or private endpoint instead of compute.googleapis.com",
        check=_endpoint, example="http://localhost:8080"))
    ssh_port: int = field(default=22, metadata=setting(
        "the port sshd listens on in your VM image",
        minimum=1, maximum=65535, null_is_default=True))


@dataclass(frozen=True)
class SshProxy:
    """How to reach VMs that have only private IPs: a jump host, or a command (one of the two)."""

    jump: str | None = field(default=None, metadata=setting(
        "OpenSSH ProxyJump: [user@]host[:port]", check=_jump))
    command: str | None = field(default=None, metadata=setting(
        "OpenSSH ProxyCommand, with %h and %p", check=_one_line))

    def settings_problem(self) -> Problem | None:
        if (self.jump is None) == (self.command is None):
            return Problem("", "set exactly one of jump or command",
                           "jump: [user@]host[:port], or command: 'ssh -W %h:%p bastion'")
        return None


@dataclass(frozen=True)
class NearestSettings:
    """How dev VMs find the nearest region (`skytui regions`, `skytui dev`)."""

    urls: dict[str, str] = field(default_factory=dict, metadata=setting(
        "probe URL per `cloud/region`, overriding the built-in ones (proxies, private endpoints)",
        check=_probe_urls, shown_default="per cloud",
        example={"local/local-1": "http://127.0.0.1:9/ping"}))
    ttl_hours: float = field(default=24.0, metadata=setting(
        "measured round trips are reused this long on the same network", minimum=0))
    prefer_cheaper_share: float = field(default=0.3, metadata=setting(
        "`skytui dev` names a cheaper region when it saves more than this share",
        minimum=0, maximum=1, noun="share", hint="e.g. 0.3 names a region that costs 30 % less"))
    probe_seconds: float = field(default=3.0, metadata=setting(
        "the hard bound on one round of probes", minimum=0.05))


@dataclass(frozen=True)
class NotifySettings:
    """Where alerts go (issue 13): a webhook (JSON POST, Slack-compatible `text`) and/or the desktop."""

    webhook: str | None = field(default=None, metadata=setting(
        "alerts as a JSON POST with Slack's `text` field",
        check=_webhook, example="https://hooks.example.com/T0/B0"))
    desktop: bool = field(default=False, metadata=setting(
        "alerts through notify-send (Linux) or osascript (macOS), when present"))
    gpu_idle_minutes: float | None = field(default=None, metadata=setting(
        "alert when a billed GPU idled this long; `null`: never", minimum=1, example=30))
    timeout_seconds: float = field(default=5.0, metadata=setting(
        "the timeout of one webhook delivery", minimum=0.1))


@dataclass(frozen=True)
class BudgetSettings:
    """A spend guard: warn when the fleet's live $/h or this month's spend crosses these."""

    hourly_usd: float | None = field(default=None, metadata=setting(
        "alert (and the header warns) when the fleet's live $/h crosses it", minimum=0, example=20))
    monthly_usd: float | None = field(default=None, metadata=setting(
        "alert when this calendar month's spend crosses it", minimum=0, example=3000))


@dataclass(frozen=True)
class Config:
    clouds: tuple[str, ...] = field(default=(), metadata=setting(
        "clouds to use besides the local cloud, which is always there",
        choices=CLOUDS, noun="cloud", convert=_without_local, example=["gcp", "aws"]))
    allowed_regions: dict[str, tuple[str, ...]] = field(default_factory=dict, metadata=setting(
        "the regions each cloud may use; a cloud not listed may use all of its regions",
        keys=CLOUDS, noun="cloud", shown_default="all", example={"aws": ["us-east-1"]}))
    private_ips_only: bool = field(default=False, metadata=setting(
        "VMs get private IPs only (reach them through a VPN or `ssh_proxy`)"))
    ssh_user: str | None = field(default=None, metadata=setting(
        "the user to SSH in as", check=_user_name, shown_default="image default", example="ubuntu"))
    autostop_idle_minutes: int = field(default=60, metadata=setting(
        "dev VMs stop after this many idle minutes", key="autostop.idle_minutes", minimum=0))
    autostop_down: bool = field(default=False, metadata=setting(
        "idle dev VMs are torn down instead of stopped", key="autostop.down"))
    recovery_strategy: str | None = field(default=None, metadata=setting(
        "how spot jobs fail over; `null`: `EAGER_NEXT_REGION` unless the job pins a region",
        key="recovery.strategy", choices=STRATEGIES, noun="recovery strategy"))
    max_restarts_on_errors: int = field(default=0, metadata=setting(
        "restarts when the job's own code fails", key="recovery.max_restarts_on_errors", minimum=0))
    watcher_poll_seconds: float = field(default=5.0, metadata=setting(
        "how often the watcher lists instances (one call per region)",
        key="watcher.poll_seconds", minimum=0.05))
    recovery_backoff_seconds: float = field(default=5.0, metadata=setting(
        "the first wait when no zone has capacity (doubles, with jitter)",
        key="recovery.backoff_seconds", minimum=0))
    recovery_backoff_max_seconds: float = field(default=120.0, metadata=setting(
        "the longest wait between rounds", key="recovery.backoff_max_seconds", minimum=0))
    no_resource_timeout_seconds: float = field(default=600.0, metadata=setting(
        "then the job is `FAILED_NO_RESOURCE`, with the reason",
        key="recovery.no_resource_timeout_seconds", minimum=0))
    provider_refresh_seconds: float = field(default=30.0, metadata=setting(
        "how often the dashboard asks the clouds",
        key="dashboard.provider_refresh_seconds", minimum=1))
    telemetry_interval_seconds: float = field(default=5.0, metadata=setting(
        "GPU sampling per node", key="telemetry.interval_seconds", minimum=0.5))
    theme: str = field(default="skytui-dark", metadata=setting(
        "`skytui-dark`, `skytui-light`, `skytui-high-contrast`, or a file in the config dir's themes/",
        example="skytui-light"))
    local: LocalSettings = field(default_factory=LocalSettings, metadata=setting(
        "the embedded local cloud"))
    # hardening (issue 12): the event log and per-minute GPU history are pruned past these ages
    # (0 keeps everything); cost intervals, jobs and attempts are never pruned.
    retention_events_days: float = field(default=90.0, metadata=setting(
        "days the event log is kept (`0`: forever)", key="retention.events_days", minimum=0))
    retention_gpu_minutes_days: float = field(default=30.0, metadata=setting(
        "days the per-minute GPU history is kept (`0`: forever)",
        key="retention.gpu_minutes_days", minimum=0))
    aws: AwsSettings = field(default_factory=AwsSettings, metadata=setting(
        "AWS, with `clouds: [aws]`"))
    gcp: GcpSettings = field(default_factory=GcpSettings, metadata=setting(
        "GCP, with `clouds: [gcp]`"))
    ssh_proxy: dict[str, SshProxy] = field(default_factory=dict, metadata=setting(
        "per `cloud` or `cloud/region`: `{jump: user@bastion}` or `{command: \"ssh -W %h:%p gw\"}`",
        check=_proxy_places, example={"aws": {"jump": "ubuntu@bastion"}}))
    nearest: NearestSettings = field(default_factory=NearestSettings, metadata=setting(
        "how dev VMs find the nearest region"))
    notify: NotifySettings = field(default_factory=NotifySettings, metadata=setting(
        "where alerts go"))
    budget: BudgetSettings = field(default_factory=BudgetSettings, metadata=setting(
        "a spend guard"))

    def ssh_proxy_for(self, cloud: str, region: str) -> SshProxy | None:
        """The proxy for a node: the region's own entry wins over the cloud's."""
        return self.ssh_proxy.get(f"{cloud}/{region}") or self.ssh_proxy.get(cloud)

    @property
    def enabled_clouds(self) -> tuple[str, ...]:
        """The local cloud is always there; it is the default while no other cloud is enabled."""
        return tuple(dict.fromkeys((*self.clouds, "local")))

    @property
    def default_cloud(self) -> str:
        return self.clouds[0] if self.clouds else "local"
