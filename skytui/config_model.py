"""The typed settings skytui reads from config.yaml (defaults are what a new user gets)."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_LOCAL_REGIONS: dict[str, tuple[str, ...]] = {"local-1": ("a", "b"), "local-2": ("a", "b")}


@dataclass(frozen=True)
class ZoneCapacity:
    """How many nodes a local zone holds; None is unlimited, spot 0 simulates a stock-out."""

    on_demand: int | None = None
    spot: int | None = None


@dataclass(frozen=True)
class LocalPriceSettings:
    """Reference prices for the local cloud: estimates, so a demo's costs mean something."""

    vcpu_hour: float = 0.04
    gib_hour: float = 0.005
    gpu_hour: dict[str, float] = field(default_factory=dict)  # by GPU name; else the catalog median
    spot_ratio: float = 0.35


@dataclass(frozen=True)
class LocalSettings:
    regions: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_LOCAL_REGIONS))
    capacity: dict[str, ZoneCapacity] = field(default_factory=dict)  # "region/zone" or "region"
    spot_preemptions_per_hour: float = 0.0
    prices: LocalPriceSettings = field(default_factory=LocalPriceSettings)
    # The warning before a spot node is reclaimed, as AWS (120 s) and GCP (~30 s) give one.
    preemption_notice_seconds: float = 5.0

    def zone_capacity(self, region: str, zone: str) -> ZoneCapacity:
        return self.capacity.get(f"{region}/{zone}") or self.capacity.get(region) or ZoneCapacity()


@dataclass(frozen=True)
class AwsSettings:
    """`aws:` in config.yaml; credentials come from boto3's own chain, never from here."""

    profile: str | None = None  # a profile in ~/.aws/config; None: the default chain
    endpoint_url: str | None = None  # moto, LocalStack or a VPC endpoint instead of AWS


@dataclass(frozen=True)
class GcpSettings:
    """`gcp:` in config.yaml; credentials come from Application Default Credentials."""

    project: str | None = None  # None: the ADC's own project, if it names one
    endpoint: str | None = None  # an emulator or a private endpoint instead of compute.googleapis.com
    ssh_port: int = 22  # the port sshd listens on in the VMs' image


@dataclass(frozen=True)
class SshProxy:
    """How to reach VMs that have only private IPs: a jump host, or a command (one of the two)."""

    jump: str | None = None  # OpenSSH ProxyJump: [user@]host[:port]
    command: str | None = None  # OpenSSH ProxyCommand, with %h and %p


@dataclass(frozen=True)
class NearestSettings:
    """How dev VMs find the nearest region (`skytui regions`, `skytui dev`)."""

    urls: dict[str, str] = field(default_factory=dict)  # "cloud/region" -> probe URL (overrides)
    ttl_hours: float = 24.0  # measured latencies are reused this long on the same network
    prefer_cheaper_share: float = 0.3  # name a cheaper region when it saves more than this share
    probe_seconds: float = 3.0  # the hard bound on one round of probes


@dataclass(frozen=True)
class NotifySettings:
    """Where alerts go (issue 13): a webhook (JSON POST, Slack-compatible `text`) and/or the desktop."""

    webhook: str | None = None
    desktop: bool = False  # notify-send (Linux) or osascript (macOS), when present
    gpu_idle_minutes: float | None = None  # alert when a billed GPU idled this long; None: never
    timeout_seconds: float = 5.0  # per webhook delivery


@dataclass(frozen=True)
class BudgetSettings:
    """A spend guard: warn when the fleet's live $/h or this month's spend crosses these."""

    hourly_usd: float | None = None
    monthly_usd: float | None = None


@dataclass(frozen=True)
class Config:
    clouds: tuple[str, ...] = ()  # enabled clouds besides the local cloud
    allowed_regions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    private_ips_only: bool = False
    ssh_user: str | None = None
    autostop_idle_minutes: int = 60  # default for dev VMs
    autostop_down: bool = False
    recovery_strategy: str | None = None  # None: EAGER_NEXT_REGION unless a job pins a region
    max_restarts_on_errors: int = 0
    watcher_poll_seconds: float = 5.0
    recovery_backoff_seconds: float = 5.0
    recovery_backoff_max_seconds: float = 120.0
    no_resource_timeout_seconds: float = 600.0
    provider_refresh_seconds: float = 30.0
    telemetry_interval_seconds: float = 5.0
    theme: str = "skytui-dark"
    local: LocalSettings = field(default_factory=LocalSettings)
    # hardening (issue 12): the event log and per-minute GPU history are pruned past these ages
    # (0 keeps everything); cost intervals, jobs and attempts are never pruned.
    retention_events_days: float = 90.0
    retention_gpu_minutes_days: float = 30.0
    aws: AwsSettings = field(default_factory=AwsSettings)
    gcp: GcpSettings = field(default_factory=GcpSettings)
    ssh_proxy: dict[str, SshProxy] = field(default_factory=dict)  # "aws", "aws/us-east-1", "gcp", ...
    nearest: NearestSettings = field(default_factory=NearestSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    budget: BudgetSettings = field(default_factory=BudgetSettings)

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
