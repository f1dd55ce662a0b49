"""Reading the store into view rows, off the UI thread; nothing here imports Textual."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from skytui.store import Store
from skytui.tui import model

EVENTS_KEPT = 2000  # the Events view keeps the newest this many; older ones stay in the store


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
    cost_note: str = ""
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

    def version(self) -> int:
        return self.store.data_version()

    def load(self, now: float, watcher: str, views: frozenset[str] = ALL_VIEWS) -> Snapshot:
        version = self.store.data_version()
        cluster_raw = self.store.cluster_rows()
        snap = Snapshot(version, model.summarize(cluster_raw, job_counts(self.store), watcher), views=views)
        if "clusters" in views:
            snap.clusters = {r["name"]: model.cluster_row(r, now) for r in cluster_raw}
        if "gpus" in views:
            snap.gpus = {g.key: g for g in (model.gpu_row(r) for r in cluster_raw) if g is not None}
        if "jobs" in views:
            snap.jobs = self._load_jobs(now)
        if "events" in views:
            snap.events = self._load_events()
        if "costs" in views:
            snap.costs, snap.cost_note = cost_rows(self.store, now)
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

    def _load_events(self) -> dict[str, model.Row]:
        for e in self.store.events(after_id=self._last_event_id, limit=EVENTS_KEPT):
            self._events[str(e.id)] = model.event_row(e)
            self._last_event_id = max(self._last_event_id, e.id)
        if len(self._events) > EVENTS_KEPT:
            for key in list(self._events)[: len(self._events) - EVENTS_KEPT]:
                del self._events[key]
        return dict(self._events)


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


def cost_rows(store: Store, now: float) -> tuple[dict[str, model.Row], str]:
    """Spend per cluster over the last 30 days, from the cost accounting module."""
    try:
        from skytui.core.costs import UsageInterval, build_report
    except ImportError:
        return {}, "cost accounting is not installed in this build"
    intervals = []
    for r in store.usage_rows(since=now - 30 * 86400):
        values = {k: r[k] for k in r.keys()}  # sqlite3.Row: keys() is the only way
        values["spot"] = bool(values["spot"])
        intervals.append(UsageInterval(**values))
    report = build_report(intervals, since=now - 30 * 86400, by="cluster", now=now)
    rows: dict[str, model.Row] = {}
    for c in report.rows:
        cells = (c.key, f"{c.hours:,.2f}", f"{float(c.gpu_hours_micro) / 1e6:,.2f}", f"{c.cost:,.2f}",
                 f"{c.on_demand_cost:,.2f}", f"{c.savings:,.2f}")
        sort = (c.key, c.hours_micro, c.gpu_hours_micro, c.cost_micro, c.on_demand_micro, c.savings_micro)
        rows[c.key] = model.Row(c.key, cells, sort)
    total = report.total
    estimate = " (local-cloud prices are reference estimates)" if report.estimate_sources else ""
    note = f"last 30 days: ${total.cost:,.2f} spent, ${total.savings:,.2f} saved vs on-demand{estimate}"
    return rows, note


def watcher_label() -> str:
    """Who runs spot recovery right now: this app, the daemon (with its pid), or nobody."""
    import os

    try:
        from skytui.core.watcher import lock_holder
    except ImportError:
        return "nobody (the watcher is not in this build)"
    try:
        holder = lock_holder()
    except Exception:  # a lock file we cannot read must not break the header
        return "unknown"
    if holder is None:
        return "nobody"
    pid = getattr(holder, "pid", holder)
    if pid == os.getpid():
        return "this app"
    return f"{getattr(holder, 'kind', None) or 'daemon'} (pid {pid})"
