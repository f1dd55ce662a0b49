"""Usage intervals as the store keeps them; reports make no cloud calls."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skytui.core.costs.model import KINDS, UsageInterval
from skytui.errors import StateError
from skytui.store import Store

# The store's columns in UsageInterval field order, so a raw row reads like an interval.
COLUMNS = UsageInterval._fields

# SQL true for a row that accounting can price: no negative price or GPU count, a known kind.
# (The CSV export tests it inside its own query: one scan of the table instead of two.)
SOUND_ROW = ("(price_per_hour >= 0 AND on_demand_price_per_hour >= 0 AND accelerator_count >= 0"
             f" AND kind IN ({', '.join(repr(k) for k in KINDS)}))")


def window_clause(
    since: float | None, until: float | None, ids: tuple[int, int] | None = None
) -> tuple[str, list[Any]]:
    """A WHERE clause (maybe empty) selecting intervals that overlap [since, until), with ids in [lo, hi)."""
    where: list[str] = []
    args: list[Any] = []
    if since is not None:
        where.append("(ended_at IS NULL OR ended_at > ?)")
        args.append(since)
    if until is not None:
        where.append("started_at < ?")
        args.append(until)
    if ids is not None:
        where.append("id >= ? AND id < ?")
        args.extend(ids)
    return (" WHERE " + " AND ".join(where)) if where else "", args


def check_rows(
    conn: sqlite3.Connection, path: Path, since: float | None, until: float | None,
    ids: tuple[int, int] | None = None,
) -> None:
    """Refuse the whole selection at once if a row breaks what accounting relies on."""
    clause, args = window_clause(since, until, ids)
    _refuse_bad(conn, path, "SELECT id FROM usage_intervals" + (clause + " AND" if clause else " WHERE"), args)


def check_ids(conn: sqlite3.Connection, path: Path, ids: list[int]) -> None:
    """check_rows for the rows with these ids."""
    _refuse_bad(conn, path, "SELECT id FROM usage_intervals WHERE id IN (SELECT value FROM json_each(?)) AND",
                [json.dumps(ids)])


def _refuse_bad(conn: sqlite3.Connection, path: Path, select: str, args: list[Any]) -> None:
    bad = conn.execute(f"{select} NOT {SOUND_ROW} LIMIT 1", args).fetchone()
    if bad is not None:
        raise StateError(f"{path}: usage interval {bad[0]} has a negative price or an unknown kind",
                         "this is a bug in what recorded it; please report it")


def raw_rows(
    conn: sqlite3.Connection, since: float | None, until: float | None, ids: tuple[int, int] | None = None
) -> Iterator[tuple[Any, ...]]:
    """Rows in COLUMNS order (spot as 0/1), by id; `ids` keeps those in [lo, hi)."""
    clause, args = window_clause(since, until, ids)
    cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM usage_intervals{clause} ORDER BY id", args)
    cur.row_factory = None
    return cur


def intervals(store: Store, *, since: float | None = None, until: float | None = None) -> list[UsageInterval]:
    """Every interval that overlaps [since, until)."""
    conn = store.db.conn
    # Checked once in SQL, so each row can skip the per-row checks.
    check_rows(conn, store.db.path, since, until)
    make = UsageInterval.trusted
    spot = COLUMNS.index("spot")
    return [make((*r[:spot], r[spot] == 1, *r[spot + 1:])) for r in raw_rows(conn, since, until)]
