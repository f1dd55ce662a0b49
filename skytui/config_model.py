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
    notify: NotifySettings = field(default_factory=NotifySettings)
    budget: BudgetSettings = field(default_factory=BudgetSettings)

    @property
    def enabled_clouds(self) -> tuple[str, ...]:
        """The local cloud is always there; it is the default while no other cloud is enabled."""
        return tuple(dict.fromkeys((*self.clouds, "local")))

    @property
    def default_cloud(self) -> str:
        return self.clouds[0] if self.clouds else "local"
