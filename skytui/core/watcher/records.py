"""The watcher's writes that must be atomic together: opening an attempt, placing it."""

from __future__ import annotations

from dataclasses import dataclass

from skytui.store import Store
from skytui.store.job_states import WAITING, JobStatus
from skytui.store.models import Attempt, from_row


@dataclass(frozen=True)
class Opened:
    attempt: Attempt
    fresh: bool  # False: an interrupted attempt is being resumed


def request_base(job_id: int, attempt: int, store_id: str = "") -> str:
    """The deterministic request id of one (job, attempt): a resumed launch adopts, never duplicates.

    It names the store too: a store started afresh numbers its jobs from 1 again, and must not
    adopt (then tear down) what the old store's job 1 launched under the same request id.
    """
    return f"job{job_id}-a{attempt}" + (f"-s{store_id[:8]}" if store_id else "")


def open_attempt(store: Store, job_id: int, cluster: str, *, reuse_request: str | None = None) -> Opened | None:
    """Move the job to STARTING and return its attempt: the open one, else a new one (counted once)."""
    now = store.clock()
    with store.db.transaction() as conn:
        job = conn.execute("SELECT status, attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if job is None or job["status"] not in WAITING:
            return None
        last = conn.execute("SELECT * FROM attempts WHERE job_id = ? ORDER BY attempt DESC LIMIT 1",
                            (job_id,)).fetchone()
        if last is not None and last["ended_at"] is None:
            attempt, fresh = from_row(Attempt, last), False
        else:
            n = int(job["attempts"]) + 1
            attempt = Attempt(job_id=job_id, attempt=n, cluster=cluster,
                              request_id=reuse_request or request_base(job_id, n, store.store_id),
                              started_at=now)
            conn.execute(
                "INSERT INTO attempts(job_id, attempt, cluster, request_id, started_at) VALUES (?,?,?,?,?)",
                (job_id, n, cluster, attempt.request_id, now))
            fresh = True
        store.transition_job_in(conn, job_id, WAITING, JobStatus.STARTING, attempts=attempt.attempt,
                                next_try_at=None)
    return Opened(attempt, fresh)


def place_attempt(store: Store, job_id: int, attempt: int, cloud: str, region: str, zone: str | None) -> None:
    with store.db.transaction() as conn:
        conn.execute("UPDATE attempts SET cloud = ?, region = ?, zone = ? WHERE job_id = ? AND attempt = ?",
                     (cloud, region, zone, job_id, attempt))
        conn.execute("UPDATE jobs SET cloud = ?, region = ?, zone = ?, updated_at = ? WHERE id = ?",
                     (cloud, region, zone, store.clock(), job_id))


def last_attempt(store: Store, job_id: int) -> Attempt | None:
    attempts = store.attempts(job_id)
    return attempts[-1] if attempts else None


def record_notice(store: Store, job_id: int, attempt: int, at: float) -> bool:
    """Note the preemption notice of an attempt once; False when it was already noted."""
    with store.db.transaction() as conn:
        cur = conn.execute("UPDATE attempts SET notice_at = ? WHERE job_id = ? AND attempt = ? "
                           "AND notice_at IS NULL", (at, job_id, attempt))
        return cur.rowcount > 0
