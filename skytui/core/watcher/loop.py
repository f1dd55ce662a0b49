"""The watcher: list each (cloud, region) once per round, reconcile with the store, and act."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from skytui.core.context import Core
from skytui.core.jobs.capture import LogCapture
from skytui.core.jobs.logs import append_attempt_log, fetched_size
from skytui.core.jobs.pipeline import waits_on_earlier_stage
from skytui.core.jobs.secrets import forget_secrets
from skytui.core.jobs.teardown import owned_cluster, release_cluster, release_job_buckets
from skytui.core.notify import Notifier
from skytui.core.notify.alerts import Alerts
from skytui.core.refresh import Reconciled, list_regions, regions_to_watch
from skytui.core.watcher import autostop
from skytui.core.watcher.attempt import load_job_task, run_attempt
from skytui.core.watcher.hooks import Stopping, crash_point
from skytui.core.watcher.lock import Holder
from skytui.core.watcher.policy import (
    AttemptResult,
    Outcome,
    after_attempt,
    after_exit,
    after_gone,
    gone_streak,
)
from skytui.core.watcher.probe import probe
from skytui.core.watcher.records import last_attempt, record_notice
from skytui.core.watcher.settings import WatcherSettings
from skytui.core.watcher.strategy import Backoff
from skytui.errors import RemoteError, SkytuiError
from skytui.providers.base import SPOT_PREEMPTED, Instance
from skytui.store import Cluster
from skytui.store.job_states import ACTIVE, TERMINAL, JobStatus
from skytui.store.models import Job
from skytui.store.retention import PRUNE_EVERY_S, prune

log = logging.getLogger("skytui.watcher")
# Between rounds, how often to ask the providers' change feeds whether something happened.
CHANGE_CHECK_SECONDS = 0.25


@dataclass
class WatcherStatus:
    """What the watcher tells its host (the app, the daemon): its role and what it sees."""

    role: str  # "active" (holds the lock and acts), "observer" or "stopped"
    holder: Holder | None = None
    jobs_watched: int = 0
    orphans: list[str] = field(default_factory=list)
    last_round_at: float | None = None


StatusFn = Callable[[WatcherStatus], None]


def hhmm(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M")


class Watcher:
    """Acts on managed jobs and autostop; exactly one per user holds the lock and runs this."""

    def __init__(self, core: Core, settings: WatcherSettings | None = None, *,
                 on_status: StatusFn | None = None, holder: Holder | None = None) -> None:
        self.core = core
        self.settings = settings or WatcherSettings.from_config(core.config)
        self.on_status = on_status
        self.holder = holder
        self.tasks: dict[int, asyncio.Task[None]] = {}  # launch / end / cancel work per job
        self.probes: dict[int, asyncio.Task[None]] = {}
        self.last_probe: dict[int, float] = {}
        self.unreachable: dict[int, int] = {}
        self.backoffs: dict[int, Backoff] = {}
        self.terminating: set[str] = set()
        self.orphans: dict[str, Instance] = {}
        self.background: set[asyncio.Task[Any]] = set()
        self.autostop = autostop.Autostop(core, self.settings, spawn=self.spawn_background, event=self.event)
        self.noticed: set[tuple[int, int]] = set()  # (job, attempt) whose preemption notice is recorded
        # Running attempts' output streams into the local log store as it is written.
        self.capture = LogCapture(core, limit=self.settings.log_streams,
                                  turn_seconds=self.settings.log_turn_seconds, on_ended=self.log_ended)
        # Alerts (config `notify:`): delivered in the background, never waited for.
        self.notifier = Notifier(core.config.notify, on_failure=self.delivery_failed)
        self.alerts = Alerts(core.config, core.store, self.notifier, core.clock)
        self.stopping = False
        self.last_round_at: float | None = None
        self.jobs_watched = 0
        self.last_prune: float | None = None

    # -- the loop -------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Rounds until `stop` is set; then let the step in hand finish and return."""
        self.report("active")
        try:
            while not stop.is_set():
                if self.core.store.db.replaced():
                    # Acting on a deleted (or replaced) state file would judge the clouds by a
                    # history nobody else sees: stop, so the next watcher opens the real one.
                    log.error("the state database %s was deleted or replaced under this watcher; "
                              "stopping (instances are left as they are)", self.core.store.db.path)
                    break
                started = time.monotonic()
                # Taken before the round lists: a change that lands while it runs still wakes us.
                tokens = self._change_tokens()
                try:
                    await self.round()
                except SkytuiError as exc:  # disk full, a state file locked: said, tried again
                    log.error("watcher round failed: %s", exc)
                except Exception:  # one bad round must not end the watching
                    log.exception("watcher round failed")
                self.report("active")
                await self.pause(stop, started + self.settings.poll_seconds, tokens)
        finally:
            await self.shutdown()

    async def pause(self, stop: asyncio.Event, until: float, tokens: tuple[object, ...] | None) -> None:
        """Wait for the next round; a provider's change feed (when it has one) ends it early."""
        if tokens is None:  # the first round made the providers: start comparing from now
            tokens = self._change_tokens()
        while not stop.is_set():
            left = until - time.monotonic()
            if left <= 0:
                return
            try:
                await asyncio.wait_for(stop.wait(), min(left, CHANGE_CHECK_SECONDS))
            except asyncio.TimeoutError:
                pass
            if tokens is not None and self._change_tokens() != tokens:
                return

    def _change_tokens(self) -> tuple[object, ...] | None:
        tokens = tuple(p.change_token() for p in self.core.providers_in_use())
        return tokens if any(t is not None for t in tokens) else None

    async def shutdown(self) -> None:
        self.stopping = True
        await self.capture.close()
        try:
            self.alerts.check()  # what the last steps recorded
        except Exception:
            log.exception("alert check failed")
        await self.notifier.drain(5.0)
        pending = [t for t in [*self.tasks.values(), *self.probes.values(), *self.background] if not t.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=self.settings.stop_grace_seconds)
            for t in late:
                t.cancel()
            if late:
                await asyncio.wait(late, timeout=5)
        self.report("stopped")

    def report(self, role: str) -> None:
        if self.on_status is not None:
            self.on_status(WatcherStatus(role, self.holder, self.jobs_watched,
                                         sorted(self.orphans), self.last_round_at))

    def spawn(self, job_id: int, coro: Coroutine[Any, Any, None], *, probe: bool = False) -> None:
        table = self.probes if probe else self.tasks
        t = asyncio.get_running_loop().create_task(self._guard(coro))
        table[job_id] = t

        def forget(done: asyncio.Task[None], j: int = job_id) -> None:
            if table.get(j) is done:  # a newer task for the job may have taken the slot
                table.pop(j, None)

        t.add_done_callback(forget)

    def spawn_background(self, coro: Coroutine[Any, Any, Any]) -> None:
        t = asyncio.get_running_loop().create_task(self._guard(coro))
        self.background.add(t)
        t.add_done_callback(self.background.discard)

    @staticmethod
    async def _guard(coro: Coroutine[Any, Any, Any]) -> None:
        try:
            await coro
        except (Stopping, asyncio.CancelledError):
            pass
        except Exception:
            log.exception("watcher task failed")

    def busy(self, job_id: int) -> bool:
        t = self.tasks.get(job_id)
        return t is not None and not t.done()

    def checkpoint(self, step: str, attempt: int) -> None:
        """A step boundary: a stop request ends the attempt here, to be resumed later."""
        crash_point(step, attempt)
        if self.stopping:
            raise Stopping(step)

    def event(self, job_id: int | None, message: str, *, cluster: str | None = None,
              reason: str | None = None) -> None:
        self.core.progress("watcher", message, cluster=cluster, job_id=job_id, reason=reason)
        log.info("%s", message)

    # -- one round --------------------------------------------------------------------------------
    async def round(self) -> None:
        store = self.core.store
        jobs = store.jobs(statuses=ACTIVE)
        self.jobs_watched = len(jobs)
        clusters = store.clusters()
        listing = await list_regions(self.core, regions_to_watch(self.core, clusters))
        self.last_round_at = self.core.clock()
        for job in jobs:
            self.reconcile(job, listing)
        self.capture.sync(jobs)
        try:
            self.alerts.check()
        except Exception:  # alerts must never stop the watching
            log.exception("alert check failed")
        self.extras_and_orphans(listing, {j.id: j for j in jobs}, clusters)
        self.autostop.maybe_check(clusters, listing)
        self.maybe_prune()

    def maybe_prune(self) -> None:
        """At most once an hour: drop events and GPU minutes past their retention (config)."""
        now = time.monotonic()
        if self.last_prune is not None and now - self.last_prune < PRUNE_EVERY_S:
            return
        self.last_prune = now
        cfg = self.core.config
        done = prune(self.core.store, self.core.clock(), events_days=cfg.retention_events_days,
                     gpu_minutes_days=cfg.retention_gpu_minutes_days)
        if done.events or done.gpu_minutes:
            log.info("retention: pruned %d events and %d GPU minutes", done.events, done.gpu_minutes)

    def reconcile(self, job: Job, listing: Reconciled) -> None:
        now = self.core.clock()
        if job.status == JobStatus.CANCELLING:
            t = self.tasks.get(job.id)
            if t is not None and not t.done() and t.get_name() != "cancel":
                t.cancel()
            elif t is None or t.done():
                self.spawn(job.id, self.finish_cancel(job.id))
                self.tasks[job.id].set_name("cancel")
            return
        if self.busy(job.id):
            return
        if job.status in (JobStatus.PENDING, JobStatus.RECOVERING):
            if job.status == JobStatus.PENDING and waits_on_earlier_stage(self.core, job):
                return  # a pipeline stage starts once the stage before it succeeded
            # A wait longer than any backoff means the clock stepped back: retry now, not in hours.
            stepped_back = job.next_try_at is not None and \
                job.next_try_at - now > 2 * self.settings.backoff_max_seconds
            if job.next_try_at is None or now >= job.next_try_at or stepped_back:
                self.spawn(job.id, self.attempt(job.id))
        elif job.status == JobStatus.STARTING:  # interrupted by a crash or a stop: resume it
            self.spawn(job.id, self.attempt(job.id))
        elif job.status == JobStatus.RUNNING:
            self.check_running(job, listing, now)

    def check_running(self, job: Job, listing: Reconciled, now: float) -> None:
        store = self.core.store
        c = owned_cluster(self.core, job)  # a same-named cluster of someone else's is no node of ours
        nodes = store.nodes(job.cluster or "") if c else []
        if c is None or not nodes or c.status == "TERMINATED":
            self.lost(job, None, [], "node-lost")
            return
        key = (c.cloud, c.region or "")
        if key in listing.errors or key not in listing.instances:
            return  # the cloud did not answer: judge nothing this round
        seen = {i.id: i for i in listing.instances[key]}
        told = [seen[n.instance_id].notice_at for n in nodes if n.instance_id in seen]
        if any(told):
            self.notice(job, c, min(t for t in told if t))
        dead = [seen.get(n.instance_id or "") for n in nodes
                if n.instance_id not in seen or seen[n.instance_id].state in ("terminated", "stopped")]
        if dead:
            # A spot node that vanished was reclaimed, whatever label the cloud had time to give.
            preempted = bool(c.spot) or any(i is not None and i.reason == SPOT_PREEMPTED for i in dead)
            self.lost(job, c, [n.instance_id for n in nodes if n.instance_id],
                      "preempted" if preempted else "node-lost")
            return
        every = max(self.settings.job_check_seconds, self.jobs_watched * self.settings.job_check_per_job_seconds)
        if job.id not in self.last_probe:  # first sight: spread checks over the interval, no burst
            self.last_probe[job.id] = now - random.random() * every
        due = now - self.last_probe[job.id] >= every
        running = self.probes.get(job.id)
        if running is not None and not running.done() and running.get_name() != f"attempt-{job.attempts}":
            running.cancel()  # still asking the lost nodes of an earlier attempt
            running = None
        if due and (running is None or running.done()):
            self.last_probe[job.id] = now
            self.spawn(job.id, self.check_job(job, c, nodes), probe=True)
            self.probes[job.id].set_name(f"attempt-{job.attempts}")

    # -- losing nodes -----------------------------------------------------------------------------
    def lost(self, job: Job, c: Cluster | None, instance_ids: list[str], why: str,
             detail: str | None = None) -> bool:
        """Nodes are gone: end the attempt, mark RECOVERING at once, and relaunch."""
        store = self.core.store
        now = self.core.clock()
        where = f"{c.region}/{c.zone}" if c else "an unknown place"
        what = {"preempted": "preempted", "node-lost": "lost its nodes",
                "unreachable": "became unreachable", "job-gone": "lost its job process"}.get(why, why)
        msg = f"{job.name} {what} in {where} at {hhmm(now)}; relaunching" + (f" ({detail})" if detail else "")
        if not store.transition_job(job.id, [JobStatus.RUNNING], JobStatus.RECOVERING, event=msg, reason=why,
                                    recoveries=job.recoveries + 1, next_try_at=None):
            return False
        a = last_attempt(store, job.id)
        if a is not None:
            store.end_attempt(job.id, a.attempt, why)
        self.last_probe.pop(job.id, None)
        self.unreachable.pop(job.id, None)
        if c is not None:
            store.close_usage(c.name, why)
            store.transition_cluster(c.name, ["UP", "INIT", "PREEMPTED"], "TERMINATED", reason=why,
                                     event=f"{c.name}: nodes {what} in {where}")
            self.terminate_later(c.cloud, instance_ids)
        self.spawn(job.id, self.attempt(job.id))
        return True

    def terminate_later(self, cloud: str, ids: list[str]) -> None:
        todo = [i for i in ids if i and i not in self.terminating]
        if not todo:
            return
        self.terminating.update(todo)

        async def go() -> None:
            try:
                await self.core.provider(cloud).terminate(todo)
            finally:
                self.terminating.difference_update(todo)

        self.spawn_background(go())

    # -- a running job's node -------------------------------------------------------------------------
    async def check_job(self, job: Job, c: Cluster, nodes: list[Any]) -> None:
        n = job.attempts
        remote = str(n)
        # While the live stream has this attempt, the check asks for its state only.
        start = None if self.capture.streaming(job.id, n) else fetched_size(job.id, n)
        try:
            head, *rest = await asyncio.gather(
                probe(self.core, c, nodes[0], remote, start),
                *(probe(self.core, c, node, remote) for node in nodes[1:]))
        except RemoteError as exc:
            count = self.unreachable.get(job.id, 0) + 1
            self.unreachable[job.id] = count
            if count >= self.settings.unreachable_limit:
                fresh = self.core.store.job(job.id)
                if fresh is not None and fresh.status == "RUNNING":
                    self.lost(fresh, c, [x.instance_id for x in nodes if x.instance_id], "unreachable",
                              detail=f"{count} checks failed while the cloud said running: {exc}")
            return
        self.unreachable.pop(job.id, None)
        if start is not None:
            append_attempt_log(job.id, n, head.log, at=start)
        states = [head, *rest]
        noticed = [s.notice_at for s in states if s.notice_at]
        if noticed:
            self.notice(job, c, min(noticed))
        if any(s.status == "running" for s in states):
            return
        if start is None and not await self.capture.settle(job.id, n, timeout=5.0):
            # The stream had this attempt but did not finish: the node answered just now, so
            # fetch what it holds before anything (a teardown, a relaunch) can take it away.
            off = fetched_size(job.id, n)
            try:
                last = await probe(self.core, c, nodes[0], remote, off)
                append_attempt_log(job.id, n, last.log, at=off)
            except RemoteError:
                pass
        fresh = self.core.store.job(job.id)
        if fresh is None or fresh.status != "RUNNING" or fresh.attempts != n:
            return
        if noticed or (job.id, n) in self.noticed:
            # The job ended because the cloud is reclaiming its node (it got SIGTERM with the
            # notice): a preemption, whatever its exit code says, so it is recovered.
            self.lost(fresh, c, [x.instance_id for x in nodes if x.instance_id], "preempted",
                      detail="the job stopped after the cloud's preemption notice")
            return
        if any(s.status in ("gone", "missing") for s in states):
            await self.job_gone(fresh, c, nodes, n)
            return
        codes = [s.exit_code if s.exit_code is not None else 255 for s in states]
        await self.job_exited(fresh, c, n, next((x for x in codes if x != 0), 0))

    async def job_exited(self, job: Job, c: Cluster, n: int, code: int) -> None:
        task = load_job_task(job) if code != 0 else None
        rec = next((r.job_recovery for r in task.resources if r.job_recovery), None) if task else None
        limit = rec.max_restarts_on_errors if rec and rec.max_restarts_on_errors else \
            self.core.config.max_restarts_on_errors
        listed = rec is not None and code in rec.recover_on_exit_codes
        nxt = after_exit(code, listed=listed, restarts_on_errors=job.restarts_on_errors, max_restarts=limit)
        if nxt.restart:
            why = f"exit code {code} is in recover_on_exit_codes" if listed else \
                f"restart {job.restarts_on_errors + 1} of {limit}"
            self.core.store.end_attempt(job.id, n, nxt.end_reason or "", code)
            if self.core.store.transition_job(
                    job.id, [JobStatus.RUNNING], nxt.status, reason="user-code-failed",
                    event=f"{job.name} exited with code {code} on attempt {n}; restarting it on "
                          f"{c.name} ({why})",
                    restarts_on_errors=job.restarts_on_errors + (0 if listed else 1)):
                self.spawn(job.id, self.attempt(job.id))
            return
        message = f"{job.name} succeeded on attempt {n}" if code == 0 else \
            f"{job.name} failed with exit code {code} on attempt {n}"
        await self.end_job(job.id, n, nxt.status, nxt.end_reason or "", exit_code=code, message=message)

    async def job_gone(self, job: Job, c: Cluster, nodes: list[Any], n: int) -> None:
        """A job process gone without an exit code is a lost attempt, retried on new nodes (policy.after_gone)."""
        streak = gone_streak([a.end_reason for a in self.core.store.attempts(job.id) if a.attempt < n])
        nxt = after_gone(streak, max_gone=self.settings.max_gone)
        if nxt.status in TERMINAL:
            await self.end_job(job.id, n, nxt.status, "job-gone", exit_code=None,
                               message=f"{job.name}: the job process vanished without an exit code on "
                                       f"{streak} attempts in a row; giving up")
            return
        self.lost(job, c, [x.instance_id for x in nodes if x.instance_id], "job-gone",
                  detail="the node answered but the job process ended without an exit code")

    # -- endings ----------------------------------------------------------------------------------------
    async def end_job(self, job_id: int, n: int, status: str, end_reason: str, *, exit_code: int | None,
                      message: str, from_status: tuple[str, ...] = (JobStatus.RUNNING,)) -> None:
        """A terminal state: record it first (CAS), then tear the cluster down."""
        store = self.core.store
        store.end_attempt(job_id, n, end_reason, exit_code)
        if not store.transition_job(job_id, from_status, status, event=message, reason=end_reason,
                                    ended_at=self.core.clock()):
            return
        job = store.job(job_id)
        if job is not None:
            await release_job_buckets(self.core, job)  # persistent: false, while its nodes are up
            await release_cluster(self.core, job, status.lower())
        forget_secrets(job_id)
        self.forget(job_id)

    async def finish_cancel(self, job_id: int) -> None:
        job = self.core.store.job(job_id)
        if job is None or job.status != "CANCELLING":
            return
        await cancel_now(self.core, job)
        self.forget(job_id)

    def forget(self, job_id: int) -> None:
        for table in (self.last_probe, self.unreachable, self.backoffs):
            table.pop(job_id, None)
        self.noticed = {k for k in self.noticed if k[0] != job_id}

    # -- attempts ---------------------------------------------------------------------------------------
    async def attempt(self, job_id: int) -> None:
        """One launch attempt (attempt.py), then the move its outcome calls for (policy.py)."""
        job = self.core.store.job(job_id)
        if job is None:
            return
        await self.settle(job, await run_attempt(self, job))

    async def settle(self, job: Job, result: AttemptResult) -> None:
        store, s, n = self.core.store, self.settings, result.attempt
        waited = 0.0
        if result.outcome is Outcome.NO_CAPACITY:
            a = next((x for x in store.attempts(job.id) if x.attempt == n), None)
            waited = self.core.clock() - (a.started_at if a else job.submitted_at)
        nxt = after_attempt(result, ran_before=job.started_at is not None, waited_s=waited,
                            no_resource_timeout_s=s.no_resource_timeout_seconds)
        if nxt is None:
            return
        if nxt.status == JobStatus.RUNNING:
            self.attempt_running(job.id)
            return
        why, reason = result.detail, result.outcome.value
        if nxt.status in TERMINAL:
            if result.outcome is Outcome.NO_CAPACITY:
                fresh = store.job(job.id)
                if fresh is not None:
                    await release_cluster(self.core, fresh, reason)
                message = (f"{job.name}: no capacity for {waited:.0f}s (limit "
                           f"{s.no_resource_timeout_seconds:.0f}s): {why}")
            else:
                message = f"job {job.id}: {why}"
            await self.end_job(job.id, n, nxt.status, nxt.end_reason or reason, exit_code=None,
                               message=message, from_status=(JobStatus.STARTING,))
            return
        # Back off, then retry: the nodes that did not come up are released first.
        if nxt.end_reason:
            store.end_attempt(job.id, n, nxt.end_reason)
        fresh = store.job(job.id)
        if fresh is not None:
            await release_cluster(self.core, fresh, reason)
        backoff = self.backoffs.setdefault(job.id, Backoff(s.backoff_seconds, s.backoff_max_seconds))
        delay = backoff.next_delay()
        if result.outcome is Outcome.NO_CAPACITY:
            event = (f"{job.name}: {why}; retrying in {delay:.1f}s "
                     f"(waiting {waited:.0f}s of {s.no_resource_timeout_seconds:.0f}s)")
        else:
            event = f"{job.name}: attempt {n} failed to start ({why}); retrying in {delay:.1f}s"
        store.transition_job(job.id, [JobStatus.STARTING], nxt.status, reason=reason,
                             next_try_at=self.core.clock() + delay, event=event)

    def attempt_running(self, job_id: int) -> None:
        b = self.backoffs.get(job_id)
        if b is not None:
            b.reset()
        self.last_probe[job_id] = self.core.clock()
        job = self.core.store.job(job_id)
        if job is not None and job.status == "RUNNING":
            self.capture.add(job)

    def delivery_failed(self, message: str) -> None:
        """An alert could not be delivered after its retries: an event (the app shows it)."""
        self.core.progress("notify", message, reason="notify-failed")
        log.warning("%s", message)

    def log_ended(self, job_id: int, attempt: int) -> None:
        """The live stream read an attempt's log to its end: the job exited, so check it now."""
        job = self.core.store.job(job_id)
        if job is None or job.status != "RUNNING" or job.attempts != attempt or self.stopping:
            return
        c = self.core.store.cluster(job.cluster or "")
        nodes = self.core.store.nodes(c.name) if c else []
        running = self.probes.get(job_id)
        if c is None or not nodes or (running is not None and not running.done()):
            return
        self.last_probe[job_id] = self.core.clock()
        self.spawn(job_id, self.check_job(job, c, nodes), probe=True)
        self.probes[job_id].set_name(f"attempt-{job.attempts}")

    def notice(self, job: Job, c: Cluster, at: float) -> None:
        """The cloud announced it will reclaim the job's node: record it (once) and say so."""
        key = (job.id, job.attempts)
        if key in self.noticed:  # the listing repeats it every round until the node goes
            return
        self.noticed.add(key)
        if not record_notice(self.core.store, job.id, job.attempts, at):
            return  # another watcher (or an earlier run of this one) said it already
        self.event(job.id, f"{job.name}: preemption notice for {c.name} in {c.region}/{c.zone} at "
                           f"{datetime.fromtimestamp(at).strftime('%H:%M:%S')}; the job got SIGTERM to "
                           "checkpoint", cluster=c.name, reason="notice")

    # -- instances nobody asked for --------------------------------------------------------------------
    def extras_and_orphans(self, listing: Reconciled, active: dict[int, Job], clusters: list[Cluster]) -> None:
        """Terminate extras of known jobs; report (never kill) instances the store does not know."""
        store = self.core.store
        known = {c.name for c in clusters}
        alive = [i for insts in listing.instances.values() for i in insts if i.state != "terminated"]
        seen_orphans: set[str] = set()
        ended: dict[int, Job | None] = {}
        mine = store.store_id
        for i in alive:
            # A job id means nothing without this store's tag: a store started afresh numbers
            # its jobs from 1 again, and the old store's instances are not ours to judge.
            ours = i.owned_by(mine)
            job: Job | None = active.get(i.job_id) if i.job_id is not None and ours else None
            if job is None and i.job_id is not None and ours:
                if i.job_id not in ended:
                    ended[i.job_id] = store.job(i.job_id)
                job = ended[i.job_id]
            if job is None:
                other_store = i.store_id is not None and not ours
                # Re-read before calling it an orphan: a launch may have recorded its cluster
                # after this round read the store but before the cloud listed the instance.
                if other_store or (i.cluster not in known and store.cluster(i.cluster) is None):
                    seen_orphans.add(i.id)
                    if i.id not in self.orphans:
                        self.orphans[i.id] = i
                        why = ("was launched by another skytui state store" if other_store
                               else "carries our tags but the state does not know it")
                        self.event(None, f"orphan instance {i.id} (cluster {i.cluster}) in {i.region}/{i.zone}: "
                                         f"{why}; not touched (`skytui local ls`)", cluster=i.cluster,
                                   reason="orphan")
                continue
            if self.busy(job.id) or (job.id in self.probes and not self.probes[job.id].done()):
                continue  # an attempt in flight owns its instances
            if job.status not in TERMINAL:
                fresh = store.job(job.id)
                if fresh is None or fresh.status in (JobStatus.STARTING, JobStatus.CANCELLING):
                    continue
                recorded = {n.instance_id for n in store.nodes(fresh.cluster or "")}
                c = store.cluster(fresh.cluster or "")
                if c is not None and c.status != "TERMINATED" and i.id in recorded:
                    continue
            if i.id in self.terminating:
                continue
            self.event(job.id, f"terminating extra instance {i.id} of job {job.id} in {i.region}/{i.zone} "
                               f"(request {i.request_id}; job is {job.status})", cluster=i.cluster,
                       reason="extra")
            self.terminate_later(i.cloud, [i.id])
        for gone in set(self.orphans) - seen_orphans:
            self.orphans.pop(gone, None)


async def cancel_now(core: Core, job: Job) -> None:
    """Tear the job's cluster down and end it CANCELLED (the watcher, or the CLI when none runs)."""
    await release_job_buckets(core, job)
    await release_cluster(core, job, "cancelled")
    a = last_attempt(core.store, job.id)
    if a is not None:
        core.store.end_attempt(job.id, a.attempt, "cancelled")
    core.store.transition_job(job.id, [JobStatus.CANCELLING], JobStatus.CANCELLED, reason="user-cancelled",
                              ended_at=core.clock(), event=f"{job.name} cancelled; its cluster is torn down")
    forget_secrets(job.id)
