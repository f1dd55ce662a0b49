"""Reading the store into view rows, off the UI thread; nothing here imports Textual."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from skytui.store import Store
from skytui.tui import model
from skytui.tui.costs import CostView, load_costs

EVENTS_KEPT = 2000  # the Events view keeps the newest this many; older ones stay in the store
# Open intervals accrue cost by the minute; other store writes (events, jobs) change no cost.
COSTS_STALE_S = 60.0
CLOCK_TICK_S = 30.0  # uptimes and durations have minute resolution: redraw them this often


@dataclass
class Snapshot:
    """What the views show, formatted; built in a worker thread, applied on the UI thread.

    Only the views asked for are loaded (None: not loaded this time), so a fleet with
    10,000 jobs costs nothing while the Clusters view is on screen.
    """

    version: int
    summary: model.Summary
    clusters: dict[str, model.Row] | None = None
    jobs: dict[str, model.Row] | None = None
    events: dict[str, model.Row] | None = None
    gpus: dict[str, model.Row] | None = None
    costs: dict[str, model.Row] | None = None
    cost_view: CostView | None = None
    views: frozenset[str] = field(default_factory=frozenset)


ALL_VIEWS = frozenset({"clusters", "jobs", "events", "costs", "gpus"})
WATCHED_JOBS = ("RUNNING", "RECOVERING")


class Loader:
    """Keeps the last raw rows so unchanged jobs and events are not formatted again."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._jobs: dict[int, tuple[tuple[Any, ...], model.Row]] = {}
        self._events: dict[str, model.Row] = {}
        self._last_event_id = 0
        self._costs: tuple[tuple[Any, ...], CostView] | None = None
        self._spend: tuple[tuple[Any, ...], float] | None = None
        self.monthly_budget: float | None = None  # config budget.monthly_usd: read the month's spend
        self._month: tuple[float, float] | None = None  # (when read, USD this month)

    def version(self) -> int:
        return self.store.data_version()

    def _month_spend(self, now: float) -> float:
        """USD spent this month, read at most once a minute (it scans the month's intervals)."""
        from skytui.core.notify.alerts import month_spend

        if self._month is None or not 0 <= now - self._month[0] < 60:
            self._month = (now, month_spend(self.store, now))
        return self._month[1]

    def load(self, now: float, watcher: str, views: frozenset[str] = ALL_VIEWS,
             cost_by: str = "cluster") -> Snapshot:
        version = self.store.data_version()
        cluster_raw = self.store.cluster_rows()
        usage = usage_signature(self.store)
        if self._spend is None or self._spend[0] != usage:  # the rate moves only when intervals open or close
            self._spend = (usage, spend_now(self.store, now))
        summary = model.summarize(cluster_raw, job_counts(self.store), watcher, self._spend[1])
        if self.monthly_budget is not None:
            summary = replace(summary, month_spend=self._month_spend(now))
        snap = Snapshot(version, summary, views=views)
        if "clusters" in views:
            snap.clusters = {r["name"]: model.cluster_row(r, now) for r in cluster_raw}
        if "gpus" in views:
            snap.gpus = {g.key: g for g in (model.gpu_row(r) for r in cluster_raw) if g is not None}
        if "jobs" in views:
            snap.jobs = self._load_jobs(now)
        if "events" in views:
            snap.events = self._load_events()
        if "costs" in views:
            snap.cost_view = self._load_costs(now, cost_by, usage)
            snap.costs = snap.cost_view.rows
        return snap

    def _load_jobs(self, now: float) -> dict[str, model.Row]:
        jobs: dict[str, model.Row] = {}
        fresh: dict[int, tuple[tuple[Any, ...], model.Row]] = {}
        for r in self.store.job_rows():
            raw = tuple(r)
            cached = self._jobs.get(r["id"])
            # Finished jobs never change their cells unless their row changed; active ones age.
            if cached is not None and cached[0] == raw and r["status"] not in model.ACTIVE_JOB:
                row = cached[1]
            else:
                row = model.job_row(r, now)
            fresh[r["id"]] = (raw, row)
            jobs[row.key] = row
        self._jobs = fresh
        return jobs

    def _load_costs(self, now: float, by: str, usage: tuple[Any, ...]) -> CostView:
        """Price the window again only when usage changed, the grouping changed, or a minute passed."""
        key = (usage, by, int(now // COSTS_STALE_S))
        if self._costs is None or self._costs[0] != key:
            self._costs = (key, load_costs(self.store, now, by))
        return self._costs[1]

    def _load_events(self) -> dict[str, model.Row]:
        for e in self.store.events(after_id=self._last_event_id, limit=EVENTS_KEPT):
            self._events[str(e.id)] = model.event_row(e)
            self._last_event_id = max(self._last_event_id, e.id)
        if len(self._events) > EVENTS_KEPT:
            for key in list(self._events)[: len(self._events) - EVENTS_KEPT]:
                del self._events[key]
        return dict(reversed(self._events.items()))  # newest first


def job_counts(store: Store) -> dict[str, int]:
    """Running and recovering jobs for the header: counted by SQLite, not read row by row."""
    counts = getattr(store, "job_counts", None)
    if counts is not None:
        return dict(counts(WATCHED_JOBS))
    # Until the store offers job_counts(): the same indexed query, read-only.
    marks = ",".join("?" * len(WATCHED_JOBS))
    rows = store.db.conn.execute(
        f"SELECT status, COUNT(*) FROM jobs WHERE status IN ({marks}) GROUP BY status", WATCHED_JOBS)
    return {status: int(n) for status, n in rows}


def usage_signature(store: Store) -> tuple[Any, ...]:
    """Changes whenever an interval opens (a new id) or closes (one fewer open): two index reads."""
    row = store.db.conn.execute(
        # INDEXED BY: without statistics SQLite would scan a whole index of every interval.
        "SELECT MAX(id), (SELECT COUNT(*) FROM usage_intervals INDEXED BY usage_still_open"
        " WHERE ended_at IS NULL) FROM usage_intervals"
    ).fetchone()
    return tuple(row)


def spend_now(store: Store, now: float) -> float:
    """USD per hour the open usage intervals bill right now (the header's spend rate).

    The sum `core.costs.spend_rate` makes (prices rounded to micro-dollars), done by SQLite
    over the open intervals' index: the header is read on every store change, and a long
    history must not slow it (nor the cost package's imports the first frame).
    """
    row = store.db.conn.execute(
        "SELECT TOTAL(ROUND(price_per_hour * 1000000)) FROM usage_intervals"
        " WHERE ended_at IS NULL AND started_at <= ?", (now,)).fetchone()
    return float(row[0]) / 1_000_000


def watcher_label() -> str:
    """Who runs spot recovery right now: this app, the daemon (with its pid), or nobody."""
    import os

    try:
        from skytui.core.watcher import lock_holder
    except ImportError:
        return "nobody (the watcher is not in this build)"
    try:
        holder = lock_holder()
    except Exception:  # noqa: BLE001 - a lock file we cannot read must not break the header
        return "unknown"
    if holder is None:
        return "nobody"
    pid = getattr(holder, "pid", holder)
    if pid == os.getpid():
        return "this app"
    return f"{getattr(holder, 'kind', None) or 'daemon'} (pid {pid})"
