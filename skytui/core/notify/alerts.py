"""What is worth an alert, read from the store each watcher round.

Preemptions, notices and recoveries are events the watcher already records, so alerts follow
the event log from where this watcher started (never replaying history). Failures are the
jobs that reached FAILED / FAILED_NO_RESOURCE. An idle GPU is one whose per-minute telemetry
stayed under `IDLE_UTILIZATION` for the configured minutes while its cluster is UP (billing).
The spend guard compares the fleet's live $/h and this month's spend with the budget.
Each condition alerts once when it starts and again only after it has ended.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from skytui.config_model import Config
from skytui.core.notify.deliver import Alert, Notifier
from skytui.store import Store
from skytui.store.job_states import JobStatus

IDLE_UTILIZATION = 5.0  # percent: below this a GPU counts as idle
SLOW_CHECK_SECONDS = 60.0  # GPU idleness and the month's spend are read at most this often
FAILED = (JobStatus.FAILED, JobStatus.FAILED_NO_RESOURCE)


def live_rate(store: Store, now: float) -> float:
    """USD per hour that the open usage intervals bill right now (what the header shows)."""
    row = store.db.conn.execute(
        "SELECT TOTAL(ROUND(price_per_hour * 1000000)) FROM usage_intervals"
        " WHERE ended_at IS NULL AND started_at <= ?", (now,)).fetchone()
    return float(row[0]) / 1_000_000


def month_spend(store: Store, now: float) -> float:
    """USD spent so far this UTC calendar month (every cluster, estimates included)."""
    from skytui.core.costs.accounting import spend_today_and_month
    from skytui.core.costs.from_store import intervals
    from skytui.core.costs.units import month_bounds_ms, to_ms

    start_ms, _ = month_bounds_ms(to_ms(now))
    _, month = spend_today_and_month(intervals(store, since=start_ms / 1000), now)
    return float(month)


def budget_state(config: Config, store: Store, now: float, *, month: bool = True) -> dict[str, str]:
    """The budget lines crossed right now, by "hourly" / "monthly" (empty: within budget or none set)."""
    b = config.budget
    over = {}
    if b.hourly_usd is not None:
        rate = live_rate(store, now)
        if rate > b.hourly_usd:
            over["hourly"] = f"the fleet bills ${rate:,.2f}/h, over the ${b.hourly_usd:,.2f}/h budget"
    if month and b.monthly_usd is not None:
        spent = month_spend(store, now)
        if spent > b.monthly_usd:
            over["monthly"] = f"${spent:,.2f} spent this month, over the ${b.monthly_usd:,.2f} budget"
    return over


class Alerts:
    """Finds what is new since the last round and hands it to the notifier."""

    def __init__(self, config: Config, store: Store, notifier: Notifier,
                 clock: Callable[[], float] = time.time) -> None:
        self.config, self.store, self.notifier, self.clock = config, store, notifier, clock
        row = store.db.conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()
        self.after_id = int(row[0])
        self.failed_told: set[int] = set()
        self.idle_told: set[str] = set()
        self.budget_told: set[str] = set()
        self.next_slow = 0.0

    def check(self) -> None:
        if not self.notifier.enabled:
            return
        self._events()
        now = self.clock()
        slow = now >= self.next_slow
        if slow:
            self.next_slow = now + SLOW_CHECK_SECONDS
            self._gpus_idle(now)
        self._budget(now, month=slow)  # the live rate is one indexed read: every round

    def _events(self) -> None:
        for e in self.store.events(after_id=self.after_id, limit=1000):
            self.after_id = max(self.after_id, e.id)
            if e.kind not in ("job", "watcher") or e.job_id is None:
                continue
            if e.reason == "notice" or (e.reason == "preempted" and e.kind == "job"):
                self.notifier.send(Alert("preemption", e.message, e.job_id, e.cluster, e.ts))
            elif e.reason == "running" and e.kind == "job":
                job = self.store.job(e.job_id)
                if job is not None and job.recoveries > 0:
                    self.notifier.send(Alert(
                        "recovered", f"recovery done: job {job.id} ({job.name}) is running again, attempt "
                                     f"{job.attempts} after {job.recoveries} recovery(ies): {e.message}",
                        job.id, e.cluster, e.ts))
            if e.job_id not in self.failed_told:
                job = self.store.job(e.job_id)
                if job is not None and job.status in FAILED:
                    self.failed_told.add(job.id)
                    self.notifier.send(Alert("failed", f"job {job.id} ({job.name}) is {job.status}: "
                                                       f"{job.last_event or e.message}", job.id, e.cluster, e.ts))

    def _gpus_idle(self, now: float) -> None:
        minutes = self.config.notify.gpu_idle_minutes
        if not minutes:
            return
        since = int(now - minutes * 60)
        # A GPU is idle when every minute recorded in the window is under the threshold and the
        # window is (nearly) covered: the minute still filling may be missing.
        rows = self.store.db.conn.execute(
            "SELECT g.cluster, MAX(g.utilization), COUNT(DISTINCT g.minute), MIN(g.minute) FROM gpu_minutes g"
            " JOIN clusters c ON c.name = g.cluster WHERE c.status = 'UP' AND g.minute >= ?"
            " GROUP BY g.cluster", (since,)).fetchall()
        idle_now = set()
        for cluster, peak, count, _first in rows:
            if peak is not None and peak < IDLE_UTILIZATION and count >= max(1, int(minutes) - 1):
                idle_now.add(cluster)
                if cluster not in self.idle_told:
                    self.notifier.send(Alert("gpu-idle", f"{cluster}: its GPUs have been idle (under "
                                             f"{IDLE_UTILIZATION:g}%) for {minutes:g} minutes while billing",
                                             cluster=cluster, ts=now))
        self.idle_told = idle_now  # one that works again may alert again later

    def _budget(self, now: float, *, month: bool) -> None:
        over = budget_state(self.config, self.store, now, month=month)
        for key, line in over.items():
            if key not in self.budget_told:
                self.notifier.send(Alert("budget", f"spend guard: {line}", ts=now))
        checked = {"hourly", "monthly"} if month else {"hourly"}
        self.budget_told = (self.budget_told - checked) | set(over)
