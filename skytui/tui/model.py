"""What each view shows, as plain rows keyed by identity: formatting, filtering and sorting, no Textual."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from skytui.core import units_text


class Record(Protocol):
    """A store row read by column name: sqlite3.Row from the loader, a dict in tests."""

    def __getitem__(self, key: str, /) -> Any: ...

# Statuses map to theme colours by meaning, so every theme colours them consistently.
STATUS_TONE: dict[str, str] = {
    "UP": "success", "RUNNING": "success", "SUCCEEDED": "success",
    "INIT": "warning", "STARTING": "warning", "PENDING": "warning", "RECOVERING": "warning",
    "CANCELLING": "warning", "STOPPED": "secondary",
    "PREEMPTED": "error", "FAILED": "error", "FAILED_SETUP": "error", "FAILED_NO_RESOURCE": "error",
    "TERMINATED": "secondary", "CANCELLED": "secondary",
}
EVENT_TONE: dict[str, str] = {
    "capacity": "warning", "preempted": "error", "recovery": "warning", "failed": "error",
    "autostop": "accent", "orphan": "warning",
    "notice": "warning", "recovering": "warning", "notify-failed": "error",  # issue 13's story
}


@dataclass(frozen=True)
class Column:
    """One column of a view: its key, its header and what colours it."""

    key: str
    label: str
    tone: Callable[[str], str | None] | None = None
    priority: int = 0  # 0: always shown; higher ones are left out first when the terminal is narrow


@dataclass(frozen=True)
class Row:
    """One table row: shown cells (strings) and the raw values to sort by."""

    key: str
    cells: tuple[str, ...]
    sort: tuple[Any, ...]
    pinned: bool = False  # a totals row: shown last, whatever the sort or filter

    def text(self) -> str:
        return " ".join(self.cells)


def _status_tone(value: str) -> str | None:
    return STATUS_TONE.get(value)


def _event_tone(value: str) -> str | None:
    return EVENT_TONE.get(value)


CLUSTER_COLUMNS = (
    Column("name", "NAME"), Column("where", "CLOUD/REGION/ZONE", priority=1), Column("status", "STATUS", _status_tone),
    Column("resources", "RESOURCES"), Column("spot", "SPOT", priority=2), Column("uptime", "UPTIME", priority=1),
    Column("price", "$/H"), Column("autostop", "AUTOSTOP", priority=2), Column("owner", "OWNER", priority=3),
)
JOB_COLUMNS = (
    Column("id", "ID"), Column("name", "NAME"), Column("status", "STATUS", _status_tone),
    Column("recoveries", "RECOVERIES", priority=1), Column("cluster", "CLUSTER"), Column("region", "REGION", priority=2),
    Column("duration", "DURATION", priority=1), Column("last_event", "LAST EVENT", priority=3),
)
EVENT_COLUMNS = (
    Column("time", "TIME"), Column("kind", "KIND", _event_tone), Column("cluster", "CLUSTER"),
    Column("job", "JOB", priority=2), Column("message", "WHAT HAPPENED"), Column("reason", "REASON", priority=1),
)
COST_COLUMNS = (
    Column("key", "CLUSTER"), Column("hours", "NODE HOURS"), Column("gpu_hours", "GPU HOURS", priority=1),
    Column("cost", "COST USD"), Column("on_demand", "ON-DEMAND USD", priority=2), Column("savings", "SPOT SAVED USD", priority=1),
    Column("prices", "PRICES", priority=3),
)


def _gpu_state_tone(value: str) -> str | None:
    if "idle" in value:
        return "error"  # idle GPUs on a billing cluster: money burning
    return STATUS_TONE.get(value.partition(" ")[0])


GPU_COLUMNS = (
    Column("cluster", "CLUSTER"), Column("node", "NODE", priority=1), Column("gpu", "GPU"), Column("util", "UTIL"),
    Column("memory", "MEMORY"), Column("temp", "TEMP", priority=2), Column("power", "POWER", priority=2), Column("procs", "PROCS", priority=3),
    Column("recent", "LAST 15 MIN"), Column("state", "STATE", _gpu_state_tone), Column("price", "$/H", priority=1),
)
LONG_TEXT = 60  # messages are cut here so one long line cannot widen a table forever


duration = units_text.duration  # one duration and one money for the CLI and the dashboard
money = units_text.money


def clock_time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _cut(text: str | None) -> str:
    if not text:
        return ""
    line = text.splitlines()[0] if text.strip() else ""
    return line if len(line) <= LONG_TEXT else line[:LONG_TEXT - 1] + "…"


def cluster_row(r: Record, now: float) -> Row:
    acc, count, nodes = r["accelerator"], r["accelerator_count"], r["num_nodes"]
    resources = f"{nodes}x {acc}:{count}" if acc else f"{nodes}x {r['instance_type'] or '?'}"
    where = "/".join(str(p) for p in (r["cloud"], r["region"], r["zone"]) if p)
    up = r["status"] == "UP" and r["launched_at"] is not None
    uptime_s = now - r["launched_at"] if up else None
    minutes = r["autostop_minutes"]
    autostop = f"{minutes}m{' down' if r['autostop_down'] else ''}" if minutes else "-"
    price = r["price_per_hour"]
    status = r["status"]
    cells = (r["name"], where, status, resources, "spot" if r["spot"] else "", duration(uptime_s),
             money(price), autostop, r["user"])
    sort = (r["name"], where, status, (acc or "", count, nodes), r["spot"], uptime_s or -1.0,
            price or 0.0, minutes or 0, r["user"])
    return Row(r["name"], cells, sort)


ACTIVE_JOB = frozenset({"PENDING", "STARTING", "RUNNING", "RECOVERING", "CANCELLING"})


def job_row(r: Record, now: float) -> Row:
    started = r["started_at"] or r["submitted_at"]
    end = r["ended_at"] if r["ended_at"] is not None else (now if r["status"] in ACTIVE_JOB else None)
    took = end - started if end is not None and started is not None else None
    region = "/".join(str(p) for p in (r["region"], r["zone"]) if p)
    cells = (str(r["id"]), r["name"], r["status"], str(r["recoveries"]), r["cluster"] or "", region,
             duration(took), _cut(r["last_event"]))
    sort = (r["id"], r["name"], r["status"], r["recoveries"], r["cluster"] or "", region, took or -1.0,
            r["last_event"] or "")
    return Row(str(r["id"]), cells, sort)


def event_row(e: Any) -> Row:
    job = "" if e.job_id is None else str(e.job_id)
    cells = (clock_time(e.ts), e.kind, e.cluster or "", job, _cut(e.message), e.reason or "")
    sort = (e.ts, e.kind, e.cluster or "", e.job_id or 0, e.message, e.reason or "")
    return Row(str(e.id), cells, sort)


def gpu_row(r: Record) -> Row | None:
    """A cluster's line in the GPUs view (its nodes and GPUs follow it once telemetry reads them)."""
    if not r["accelerator"] and r["status"] != "UP":
        return None
    nodes = r["num_nodes"] or 1
    total = (r["accelerator_count"] or 0) * nodes
    gpu = f"{r['accelerator']} x{total}" if r["accelerator"] else "no GPUs"
    spot = " spot" if r["spot"] else ""
    cells = (r["name"], f"{nodes} node{'s' if nodes != 1 else ''}", gpu, "", "", "", "", "", "",
             r["status"], money(r["price_per_hour"]) + spot)
    sort = (r["name"], -1, (r["accelerator"] or "", total), -1.0, -1.0, -1.0, -1.0, -1, "", r["status"],
            r["price_per_hour"] or 0.0)
    return Row(r["name"], cells, sort)


@dataclass(frozen=True)
class Summary:
    """The header line: what is up, what it costs, who watches."""

    clusters_up: int = 0
    clusters: int = 0
    gpus_in_use: int = 0
    spend_per_hour: float = 0.0
    jobs_running: int = 0
    jobs_recovering: int = 0
    watcher: str = "nobody"
    month_spend: float | None = None  # read only when a monthly budget is set

    def line(self, gpus: str = "", budget: float | None = None, monthly: float | None = None) -> str:
        """`gpus`: telemetry's fleet figures (busy, idle, mean utilisation), when it has read any;
        `budget`: the config's hourly spend guard, shown beside the rate (and crossed, loudly)."""
        return SEP.join(p.wide for p in self.parts(gpus, budget, monthly))

    def parts(self, gpus: str = "", budget: float | None = None, monthly: float | None = None) -> list[Part]:
        """The header's figures, each worded in full and in short (for a narrow terminal)."""
        guard = short_guard = ""
        if budget is not None:
            over = self.spend_per_hour > budget
            guard = f" OVER the ${budget:,.2f}/h budget" if over else f" of ${budget:,.2f}/h"
            short_guard = f" OVER ${budget:,.2f}/h" if over else ""
        if monthly is not None and self.month_spend is not None:
            m = self.month_spend
            guard += (f", month ${m:,.2f} OVER the ${monthly:,.2f} budget" if m > monthly
                      else f", month ${m:,.2f} of ${monthly:,.2f}")
            short_guard += f", month OVER ${monthly:,.2f}" if m > monthly else ""  # the sum is in Costs
        rate = f"${self.spend_per_hour:,.2f}/h"
        running, recovering = self.jobs_running, self.jobs_recovering
        short_jobs = f"{running} running" + (f", {recovering} recovering" if recovering else "")
        who = self.watcher.split(" (")[0].removeprefix("this ")  # "daemon (pid 7)" -> "daemon"
        return [
            Part(f"clusters up {self.clusters_up}/{self.clusters}", f"up {self.clusters_up}/{self.clusters}", 3),
            Part(f"GPUs in use {self.gpus_in_use}{f' ({gpus})' if gpus else ''}", f"GPUs {self.gpus_in_use}", 1),
            Part(f"spend {rate}{guard}", f"{rate}{short_guard}", 4),
            Part(f"jobs running {running}, recovering {recovering}", short_jobs, 5),
            # Who recovers preemptions: "nobody" is a warning, so it goes last of the words.
            Part(f"watching: {self.watcher}", f"watch: {who}", 6, droppable=True),
        ]


SEP = " │ "


@dataclass(frozen=True)
class Part:
    """One figure of the header: `wide` when there is room, `narrow` when not; `order` says which
    figures give way first (lower first), and a droppable one leaves the line last of all."""

    wide: str
    narrow: str
    order: int
    droppable: bool = False


def fit_header(title: str, parts: list[Part], width: int) -> str:
    """The header for `width` columns: every figure in full when it fits; else figures narrow one
    by one (lowest order first), then the app's name goes, then droppable figures."""
    words = [p.wide for p in parts]
    head = f" skytui \u203a {title}{SEP}"

    def text() -> str:
        return head + SEP.join(w for w in words if w)

    steps: list[tuple[int, str]] = [(i, p.narrow) for i, p in sorted(enumerate(parts), key=lambda ip: ip[1].order)]
    for i, narrow in steps:
        if len(text()) <= width:
            return text()
        words[i] = narrow
    if len(text()) > width:
        head = f" {title}{SEP}"
    for i, p in enumerate(parts):
        if len(text()) > width and p.droppable:
            words[i] = ""
    return text()


def summarize(clusters: Iterable[Record], job_counts: Mapping[str, int], watcher: str,
              spend_per_hour: float) -> Summary:
    """The header's numbers; the spend rate comes from cost accounting's open usage intervals."""
    up = total = gpus = 0
    for c in clusters:
        total += 1
        if c["status"] == "UP":
            up += 1
            gpus += (c["accelerator_count"] or 0) * (c["num_nodes"] or 1)
    return Summary(up, total, gpus, spend_per_hour, job_counts.get("RUNNING", 0),
                   job_counts.get("RECOVERING", 0), watcher)


def matcher(pattern: str) -> Callable[[str], bool]:
    """`/` filters: a case-insensitive regex; text that is not a valid regex matches literally."""
    if not pattern:
        return lambda _text: True
    try:
        rx = re.compile(pattern, re.IGNORECASE)
    except re.error:
        folded = pattern.lower()
        return lambda text: folded in text.lower()
    return lambda text: rx.search(text) is not None


def row_matcher(pattern: str, columns: tuple[Column, ...]) -> Callable[[Row], bool]:
    """`cluster:NAME` (any column key) matches that column exactly; anything else goes to `matcher`."""
    field, sep, value = pattern.partition(":")
    keys = [c.key for c in columns]
    if sep and field in keys and value:
        index = keys.index(field)
        return lambda r: r.cells[index] == value
    keep = matcher(pattern)
    return lambda r: keep(r.text())


def arrange(rows: dict[str, Row], *, pattern: str, sort_column: int | None, reverse: bool,
            columns: tuple[Column, ...] = ()) -> list[Row]:
    """The rows a table shows, in the order it shows them."""
    keep = row_matcher(pattern, columns)
    shown = [r for r in rows.values() if keep(r)] if pattern else list(rows.values())
    # A pinned row (a total) is the mapping's last: checking only that one keeps 10,000 rows cheap.
    last = next(reversed(rows.values()), None)
    pinned = [last] if last is not None and last.pinned else []
    if pinned and shown and shown[-1] is last:
        shown.pop()
    if sort_column is not None:
        def by(r: Row) -> tuple[bool, Any]:
            v = r.sort[sort_column]
            return (v is None, v if v is not None else 0)
        shown.sort(key=by, reverse=reverse)
    return shown + pinned
