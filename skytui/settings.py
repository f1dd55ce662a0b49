"""Every config.yaml setting, declared once: its YAML key and the `Config` attribute it sets.

Defaults are not repeated here: they are the `Config` dataclasses' own (`default_of`). The
reader (`skytui.config`) takes the keys each section accepts from this table, so a setting
that is not declared is refused as unknown; tests hold the README's configuration table,
`examples/config.yaml` and the `Config` attributes to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from skytui.config_model import Config


@dataclass(frozen=True)
class Setting:
    key: str  # the YAML path, e.g. "recovery.backoff_seconds"
    attr: str  # the attribute path on Config, e.g. "recovery_backoff_seconds", "local.prices.spot_ratio"
    free_keys: bool = False  # a mapping whose keys are the user's (regions, zones, clouds, GPUs)


SETTINGS: tuple[Setting, ...] = (
    Setting("clouds", "clouds"),
    Setting("allowed_regions", "allowed_regions", free_keys=True),
    Setting("private_ips_only", "private_ips_only"),
    Setting("ssh_user", "ssh_user"),
    Setting("autostop.idle_minutes", "autostop_idle_minutes"),
    Setting("autostop.down", "autostop_down"),
    Setting("recovery.strategy", "recovery_strategy"),
    Setting("recovery.max_restarts_on_errors", "max_restarts_on_errors"),
    Setting("recovery.backoff_seconds", "recovery_backoff_seconds"),
    Setting("recovery.backoff_max_seconds", "recovery_backoff_max_seconds"),
    Setting("recovery.no_resource_timeout_seconds", "no_resource_timeout_seconds"),
    Setting("watcher.poll_seconds", "watcher_poll_seconds"),
    Setting("dashboard.provider_refresh_seconds", "provider_refresh_seconds"),
    Setting("telemetry.interval_seconds", "telemetry_interval_seconds"),
    Setting("theme", "theme"),
    Setting("local.regions", "local.regions", free_keys=True),
    Setting("local.capacity", "local.capacity", free_keys=True),
    Setting("local.spot_preemptions_per_hour", "local.spot_preemptions_per_hour"),
    Setting("local.prices.vcpu_hour", "local.prices.vcpu_hour"),
    Setting("local.prices.gib_hour", "local.prices.gib_hour"),
    Setting("local.prices.gpu_hour", "local.prices.gpu_hour", free_keys=True),
    Setting("local.prices.spot_ratio", "local.prices.spot_ratio"),
    Setting("local.preemption_notice_seconds", "local.preemption_notice_seconds"),
    Setting("aws.profile", "aws.profile"),
    Setting("aws.endpoint_url", "aws.endpoint_url"),
    Setting("gcp.project", "gcp.project"),
    Setting("gcp.endpoint", "gcp.endpoint"),
    Setting("gcp.ssh_port", "gcp.ssh_port"),
    Setting("ssh_proxy", "ssh_proxy", free_keys=True),
    Setting("nearest.urls", "nearest.urls", free_keys=True),
    Setting("nearest.ttl_hours", "nearest.ttl_hours"),
    Setting("nearest.prefer_cheaper_share", "nearest.prefer_cheaper_share"),
    Setting("nearest.probe_seconds", "nearest.probe_seconds"),
    Setting("retention.events_days", "retention_events_days"),
    Setting("retention.gpu_minutes_days", "retention_gpu_minutes_days"),
    Setting("notify.webhook", "notify.webhook"),
    Setting("notify.desktop", "notify.desktop"),
    Setting("notify.gpu_idle_minutes", "notify.gpu_idle_minutes"),
    Setting("notify.timeout_seconds", "notify.timeout_seconds"),
    Setting("budget.hourly_usd", "budget.hourly_usd"),
    Setting("budget.monthly_usd", "budget.monthly_usd"),
)


def keys_under(section: str) -> tuple[str, ...]:
    """The keys a section accepts ("" for the top level), in declaration order."""
    prefix = f"{section}." if section else ""
    out: dict[str, None] = {}
    for s in SETTINGS:
        if s.key.startswith(prefix):
            out[s.key[len(prefix):].split(".", 1)[0]] = None
    return tuple(out)


def value_of(config: Config, attr: str) -> object:
    value: object = config
    for part in attr.split("."):
        value = getattr(value, part)
    return value


def default_of(setting: Setting) -> object:
    return value_of(Config(), setting.attr)
