"""Reading config.yaml into a typed Config, with errors as good as the task loader's."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skytui.config_model import (
    AwsSettings,
    BudgetSettings,
    Config,
    GcpSettings,
    LocalPriceSettings,
    LocalSettings,
    NotifySettings,
    SshProxy,
    ZoneCapacity,
)
from skytui.errors import ConfigError
from skytui.names import USER_NAME_RE
from skytui.settings import keys_under

if TYPE_CHECKING:
    from skytui.yamlsrc import Source

CLOUDS = ("aws", "gcp", "local")
STRATEGIES = ("FAILOVER", "EAGER_NEXT_REGION")

# key -> (type check, description) for the flat settings; nested sections are handled below.
# The keys each section accepts come from the one declaration of every setting.
_TOP = keys_under("")


def load_config(path: Path | None = None) -> Config:
    """The user's config, or the defaults when there is no file."""
    if path is None:
        from skytui.paths import config_file

        path = config_file()
    try:
        text = path.read_text()
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the config file ({exc})", "fix its permissions or encoding",
                          file=str(path)) from None
    return parse_config(text, str(path))


def parse_config(text: str, file: str = "config.yaml") -> Config:
    # Imported here: a start without a config file never loads the YAML reader.
    from skytui.yamlsrc import load

    src = load(text, file, ConfigError)
    data = src.data
    if data is None:
        return Config()
    if not isinstance(data, dict):
        raise src.error(ConfigError, "", "the config must be a mapping of settings", "see examples/config.yaml")
    _no_unknown(src, "", data, _TOP)
    v = _Validator(src)
    kw: dict[str, Any] = {}
    if "clouds" in data:
        clouds = v.str_list("clouds", data["clouds"])
        for i, c in enumerate(clouds):
            if c.lower() not in CLOUDS:
                raise v.bad(f"clouds[{i}]", f"unknown cloud {c!r}", f"use one of {', '.join(CLOUDS)}")
        kw["clouds"] = tuple(c.lower() for c in clouds if c.lower() != "local")
    if "allowed_regions" in data:
        regions = v.mapping("allowed_regions", data["allowed_regions"])
        out = {}
        for cloud, rs in regions.items():
            if str(cloud).lower() not in CLOUDS:
                raise v.bad(f"allowed_regions.{cloud}", f"unknown cloud {cloud!r}", f"use one of {', '.join(CLOUDS)}")
            out[str(cloud).lower()] = tuple(v.str_list(f"allowed_regions.{cloud}", rs))
        kw["allowed_regions"] = out
    if "private_ips_only" in data:
        kw["private_ips_only"] = v.boolean("private_ips_only", data["private_ips_only"])
    if "ssh_user" in data and data["ssh_user"] is not None:
        kw["ssh_user"] = v.string("ssh_user", data["ssh_user"])
        if not USER_NAME_RE.fullmatch(kw["ssh_user"]):  # it is written into the SSH config verbatim
            raise v.bad("ssh_user", f"{kw['ssh_user']!r} is not a valid user name",
                        "use letters, digits, '_', '.', '-' (at most 32), starting with a letter or '_'")
    if "theme" in data:
        kw["theme"] = v.string("theme", data["theme"])
    if "autostop" in data:
        a = v.section("autostop", data["autostop"], keys_under("autostop"))
        if "idle_minutes" in a:
            kw["autostop_idle_minutes"] = v.integer("autostop.idle_minutes", a["idle_minutes"], minimum=0)
        if "down" in a:
            kw["autostop_down"] = v.boolean("autostop.down", a["down"])
    if "recovery" in data:
        r = v.section("recovery", data["recovery"], keys_under("recovery"))
        if "strategy" in r and r["strategy"] is not None:
            s = v.string("recovery.strategy", r["strategy"]).upper()
            if s not in STRATEGIES:
                raise v.bad("recovery.strategy", f"unknown recovery strategy {r['strategy']!r}",
                            f"use one of {', '.join(STRATEGIES)}")
            kw["recovery_strategy"] = s
        if "max_restarts_on_errors" in r:
            kw["max_restarts_on_errors"] = v.integer("recovery.max_restarts_on_errors",
                                                     r["max_restarts_on_errors"], minimum=0)
        for key, target in (("backoff_seconds", "recovery_backoff_seconds"),
                            ("backoff_max_seconds", "recovery_backoff_max_seconds"),
                            ("no_resource_timeout_seconds", "no_resource_timeout_seconds")):
            if key in r:
                kw[target] = v.number(f"recovery.{key}", r[key], minimum=0)
    if "watcher" in data:
        w = v.section("watcher", data["watcher"], keys_under("watcher"))
        if "poll_seconds" in w:
            kw["watcher_poll_seconds"] = v.number("watcher.poll_seconds", w["poll_seconds"], minimum=0.05)
    if "dashboard" in data:
        d = v.section("dashboard", data["dashboard"], keys_under("dashboard"))
        if "provider_refresh_seconds" in d:
            kw["provider_refresh_seconds"] = v.number("dashboard.provider_refresh_seconds",
                                                      d["provider_refresh_seconds"], minimum=1)
    if "telemetry" in data:
        t = v.section("telemetry", data["telemetry"], keys_under("telemetry"))
        if "interval_seconds" in t:
            kw["telemetry_interval_seconds"] = v.number("telemetry.interval_seconds", t["interval_seconds"],
                                                        minimum=0.5)
    if "local" in data:
        kw["local"] = _local(v, data["local"])
    if "aws" in data:
        a = v.section("aws", data["aws"], keys_under("aws"))
        kw["aws"] = AwsSettings(
            profile=None if a.get("profile") is None else v.string("aws.profile", a["profile"]),
            endpoint_url=None if a.get("endpoint_url") is None else v.url("aws.endpoint_url", a["endpoint_url"]))
    if "gcp" in data:
        g = v.section("gcp", data["gcp"], keys_under("gcp"))
        project = None if g.get("project") is None else v.string("gcp.project", g["project"])
        if project is not None and not _GCP_PROJECT.fullmatch(project):
            raise v.bad("gcp.project", f"{project!r} is not a GCP project id",
                        "use the project ID (6-30 lowercase letters, digits, hyphens), not its name or number")
        kw["gcp"] = GcpSettings(
            project=project,
            endpoint=None if g.get("endpoint") is None else v.url("gcp.endpoint", g["endpoint"]),
            ssh_port=22 if g.get("ssh_port") is None else v.integer("gcp.ssh_port", g["ssh_port"], minimum=1))
    if "ssh_proxy" in data:
        kw["ssh_proxy"] = _ssh_proxy(v, data["ssh_proxy"])
    if "nearest" in data:
        kw["nearest"] = _nearest(v, data["nearest"], kw.get("local"))
    if "retention" in data:
        kw.update(_retention(v, data["retention"]))
    if "notify" in data:
        kw["notify"] = _notify(v, data["notify"])
    if "budget" in data:
        b = v.section("budget", data["budget"], keys_under("budget"))
        kw["budget"] = BudgetSettings(**{k: v.number(f"budget.{k}", b[k], minimum=0)
                                         for k in ("hourly_usd", "monthly_usd") if b.get(k) is not None})
    return Config(**kw)


_GCP_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_JUMP = re.compile(r"(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9._\[\]:-]+")


def _ssh_proxy(v: _Validator, raw: Any) -> dict[str, SshProxy]:
    """`ssh_proxy: {aws: {jump: bastion}, "gcp/us-central1": {command: "ssh -W %h:%p gw"}}`."""
    out: dict[str, SshProxy] = {}
    for where, spec in v.mapping("ssh_proxy", raw).items():
        key = str(where)
        cloud, _, region = key.partition("/")
        if cloud not in ("aws", "gcp") or (region == "" and "/" in key):
            raise v.bad(f"ssh_proxy.{key}", f"{key!r} is not a cloud or cloud/region",
                        "use aws, gcp, or e.g. aws/us-east-1")
        p = f"ssh_proxy.{key}"
        s = v.section(p, spec, ("jump", "command"))
        jump = None if s.get("jump") is None else v.string(f"{p}.jump", s["jump"])
        command = None if s.get("command") is None else v.string(f"{p}.command", s["command"])
        if (jump is None) == (command is None):
            raise v.bad(p, "set exactly one of jump or command",
                        "jump: [user@]host[:port], or command: 'ssh -W %h:%p bastion'")
        # Both end up in an OpenSSH config file: a newline there would write new directives.
        if jump is not None and not _JUMP.fullmatch(jump):
            raise v.bad(f"{p}.jump", f"{jump!r} is not [user@]host[:port]", "e.g. ubuntu@bastion.example.com")
        if command is not None and any(c in command for c in "\r\n\0"):
            raise v.bad(f"{p}.command", "a proxy command must be one line", None)
        out[key] = SshProxy(jump=jump, command=command)
    return out


def _nearest(v: _Validator, raw: Any, local: LocalSettings | None) -> Any:
    from skytui.catalog.places import known_regions
    from skytui.config_model import NearestSettings

    n = v.section("nearest", raw, keys_under("nearest"))
    kw: dict[str, Any] = {}
    if "urls" in n:
        urls = {}
        for key, url in v.mapping("nearest.urls", n["urls"]).items():
            path = f"nearest.urls.{key}"
            cloud, sep, region = str(key).partition("/")
            if not sep or cloud not in CLOUDS:
                raise v.bad(path, f"{key!r} is not CLOUD/REGION", f"e.g. aws/us-east-1 (clouds: {', '.join(CLOUDS)})")
            known = set((local or LocalSettings()).regions) if cloud == "local" else known_regions(cloud)
            if region not in known:
                hint = difflib.get_close_matches(region, sorted(known), n=1)
                raise v.bad(path, f"{region!r} is not a region of {cloud}",
                            f"did you mean {cloud}/{hint[0]}?" if hint else f"see `skytui regions --cloud {cloud}`")
            problem = _url_problem(v.string(path, url))
            if problem:
                raise v.bad(path, problem, "use http://HOST[:PORT]/PATH or https://...")
            urls[f"{cloud}/{region}"] = url
        kw["urls"] = urls
    if "ttl_hours" in n:
        kw["ttl_hours"] = v.number("nearest.ttl_hours", n["ttl_hours"], minimum=0)
    if "prefer_cheaper_share" in n:
        share = v.number("nearest.prefer_cheaper_share", n["prefer_cheaper_share"], minimum=0)
        if share > 1:
            raise v.bad("nearest.prefer_cheaper_share", f"must be a share between 0 and 1, got {share:g}",
                        "e.g. 0.3 names a region that costs 30 % less")
        kw["prefer_cheaper_share"] = share
    if "probe_seconds" in n:
        kw["probe_seconds"] = v.number("nearest.probe_seconds", n["probe_seconds"], minimum=0.05)
    return NearestSettings(**kw)


def _retention(v: _Validator, raw: Any) -> dict[str, Any]:
    """`retention: {events_days, gpu_minutes_days}`; 0 keeps everything."""
    r = v.section("retention", raw, keys_under("retention"))
    out: dict[str, Any] = {}
    for key in ("events_days", "gpu_minutes_days"):
        if key in r:
            out[f"retention_{key}"] = v.number(f"retention.{key}", r[key], minimum=0)
    return out


def _notify(v: _Validator, raw: Any) -> NotifySettings:
    n = v.section("notify", raw, keys_under("notify"))
    kw: dict[str, Any] = {}
    if n.get("webhook") is not None:
        url = v.string("notify.webhook", n["webhook"])
        problem = webhook_problem(url)
        if problem:
            raise v.bad("notify.webhook", problem, "use an http:// or https:// URL, e.g. a Slack incoming webhook")
        kw["webhook"] = url
    if "desktop" in n:
        kw["desktop"] = v.boolean("notify.desktop", n["desktop"])
    if n.get("gpu_idle_minutes") is not None:
        kw["gpu_idle_minutes"] = v.number("notify.gpu_idle_minutes", n["gpu_idle_minutes"], minimum=1)
    if "timeout_seconds" in n:
        kw["timeout_seconds"] = v.number("notify.timeout_seconds", n["timeout_seconds"], minimum=0.1)
    return NotifySettings(**kw)


def _local(v: _Validator, raw: Any) -> LocalSettings:
    loc = v.section("local", raw, keys_under("local"))
    kw: dict[str, Any] = {}
    if "regions" in loc:
        regions = v.mapping("local.regions", loc["regions"])
        if not regions:
            raise v.bad("local.regions", "the local cloud needs at least one region", "e.g. {local-1: [a, b]}")
        out = {}
        for name, zones in regions.items():
            zs = v.str_list(f"local.regions.{name}", zones)
            if not zs:
                raise v.bad(f"local.regions.{name}", "a region needs at least one zone", "e.g. [a, b]")
            out[str(name)] = tuple(zs)
        kw["regions"] = out
    if "capacity" in loc:
        caps = v.mapping("local.capacity", loc["capacity"])
        out_caps = {}
        for where, spec in caps.items():
            p = f"local.capacity.{where}"
            c = v.section(p, spec, ("on_demand", "spot"))
            out_caps[str(where)] = ZoneCapacity(
                on_demand=None if c.get("on_demand") is None else v.integer(f"{p}.on_demand", c["on_demand"], minimum=0),
                spot=None if c.get("spot") is None else v.integer(f"{p}.spot", c["spot"], minimum=0))
        kw["capacity"] = out_caps
    if "spot_preemptions_per_hour" in loc:
        kw["spot_preemptions_per_hour"] = v.number("local.spot_preemptions_per_hour",
                                                   loc["spot_preemptions_per_hour"], minimum=0)
    if "preemption_notice_seconds" in loc:
        kw["preemption_notice_seconds"] = v.number("local.preemption_notice_seconds",
                                                   loc["preemption_notice_seconds"], minimum=0)
    if "prices" in loc:
        pr = v.section("local.prices", loc["prices"], keys_under("local.prices"))
        pkw: dict[str, Any] = {}
        for key in ("vcpu_hour", "gib_hour", "spot_ratio"):
            if key in pr:
                pkw[key] = v.number(f"local.prices.{key}", pr[key], minimum=0)
        if "gpu_hour" in pr:
            g = v.mapping("local.prices.gpu_hour", pr["gpu_hour"])
            pkw["gpu_hour"] = {str(k): v.number(f"local.prices.gpu_hour.{k}", x, minimum=0) for k, x in g.items()}
        kw["prices"] = LocalPriceSettings(**pkw)
    return LocalSettings(**kw)


def _url_problem(url: str) -> str | None:
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


def _no_unknown(src: Source, path: str, data: dict[Any, Any], allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            sub = f"{path}.{key}" if path else str(key)
            raise src.error(ConfigError, sub, f"unknown setting {key!r}",
                            f"did you mean {hint[0]!r}?" if hint else f"known: {', '.join(allowed)}")


class _Validator:
    def __init__(self, src: Source) -> None:
        self.src = src

    def bad(self, path: str, problem: str, fix: str | None = None) -> ConfigError:
        return self.src.error(ConfigError, path, problem, fix)  # type: ignore[return-value]

    def section(self, path: str, value: Any, allowed: tuple[str, ...]) -> dict[Any, Any]:
        m = self.mapping(path, value)
        _no_unknown(self.src, path, m, allowed)
        return m

    def mapping(self, path: str, value: Any) -> dict[Any, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.bad(path, f"expected a mapping, got {_kind(value)}", "indent its settings under it")
        return value

    def url(self, path: str, value: Any) -> str:
        text = self.string(path, value)
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", text):
            raise self.bad(path, f"{text!r} is not an http(s) URL", "e.g. http://127.0.0.1:5000")
        return text

    def str_list(self, path: str, value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise self.bad(path, f"expected a list of names, got {_kind(value)}", "e.g. [us-east-1, us-west-2]")
        return value

    def string(self, path: str, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise self.bad(path, f"expected text, got {_kind(value)}", None)
        return value

    def boolean(self, path: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.bad(path, f"expected true or false, got {_kind(value)}", None)
        return value

    def integer(self, path: str, value: Any, *, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.bad(path, f"expected a whole number, got {_kind(value)}", None)
        if minimum is not None and value < minimum:
            raise self.bad(path, f"must be at least {minimum}, got {value}", None)
        return value

    def number(self, path: str, value: Any, *, minimum: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.bad(path, f"expected a number, got {_kind(value)}", None)
        if minimum is not None and value < minimum:
            raise self.bad(path, f"must be at least {minimum}, got {value}", None)
        return float(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {bool: "true/false", int: "a number", float: "a number", str: f"text {value!r}",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)
