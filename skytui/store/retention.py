"""Pruning history that would otherwise grow forever: the event log and per-minute GPU samples.

Only these two: usage intervals are what cost reports are made of, and jobs and attempts are
the record of what ran. Pruning runs in the watcher at most once an hour, in small batches so
it never holds the write lock for long.
"""

from __future__ import annotations

from dataclasses import dataclass

from skytui.store.store import Store

BATCH = 5_000
PRUNE_EVERY_S = 3600.0


@dataclass(frozen=True)
class Pruned:
    events: int
    gpu_minutes: int


def prune(store: Store, now: float, *, events_days: float, gpu_minutes_days: float) -> Pruned:
    """Delete events and GPU minutes older than their retention (0: keep all); return the counts."""
    events = gpu = 0
    if events_days > 0:
        cutoff = now - events_days * 86400.0
        events = _batched(store, "DELETE FROM events WHERE id IN "
                                 "(SELECT id FROM events WHERE ts < ? LIMIT ?)", cutoff)
    if gpu_minutes_days > 0:  # `minute` is the Unix time of the minute's start
        gpu = _batched(store, "DELETE FROM gpu_minutes WHERE rowid IN "
                              "(SELECT rowid FROM gpu_minutes WHERE minute < ? LIMIT ?)",
                       now - gpu_minutes_days * 86400.0)
    return Pruned(events, gpu)


def _batched(store: Store, sql: str, cutoff: float) -> int:
    total = 0
    while True:
        with store.db.transaction() as conn:
            n = conn.execute(sql, (cutoff, BATCH)).rowcount
        total += n
        if n < BATCH:
            return total
