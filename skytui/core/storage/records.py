"""The buckets skytui created (the store's `buckets` table): ownership, proven.

A bucket is deleted only if a row here says skytui created it and the task that created it
said `persistent: false`. A bucket that existed before (a user's, or another tool's) never
gets a row, so nothing can delete it.
"""

from __future__ import annotations

from dataclasses import dataclass

from skytui.store import Store, current_user


@dataclass(frozen=True)
class BucketRecord:
    store: str
    name: str
    created_at: float
    cluster: str | None
    job_id: int | None
    user: str
    persistent: bool


def record_created(store: Store, kind: str, name: str, *, cluster: str | None, job_id: int | None,
                   persistent: bool) -> None:
    with store.db.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO buckets(store, name, created_at, cluster, job_id, user,"
                     " persistent) VALUES (?,?,?,?,?,?,?)",
                     (kind, name, store.clock(), cluster, job_id, current_user(), int(persistent)))


def created(store: Store, kind: str, name: str) -> BucketRecord | None:
    row = store.db.conn.execute("SELECT * FROM buckets WHERE store = ? AND name = ?",
                                (kind, name)).fetchone()
    return _record(row) if row is not None else None


def doomed(store: Store, *, cluster: str | None = None, job_id: int | None = None) -> list[BucketRecord]:
    """Non-persistent buckets created for a cluster (not a managed job's) or for a managed job."""
    if job_id is not None:
        rows = store.db.conn.execute(
            "SELECT * FROM buckets WHERE job_id = ? AND persistent = 0", (job_id,))
    else:
        rows = store.db.conn.execute(
            "SELECT * FROM buckets WHERE cluster = ? AND job_id IS NULL AND persistent = 0", (cluster,))
    return [_record(r) for r in rows]


def forget(store: Store, kind: str, name: str) -> None:
    with store.db.transaction() as conn:
        conn.execute("DELETE FROM buckets WHERE store = ? AND name = ?", (kind, name))


def _record(row) -> BucketRecord:  # type: ignore[no-untyped-def]
    return BucketRecord(row["store"], row["name"], row["created_at"], row["cluster"], row["job_id"],
                        row["user"], bool(row["persistent"]))
