"""Stores seeded with usage intervals, for the cost tests."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from skytui.core.costs.model import UsageInterval
from skytui.store import Store

_COLS = [name for name in UsageInterval._fields if name != "id"]


def store_with(path: Path, intervals: Iterable[UsageInterval]) -> Store:
    """A new store at `path` holding `intervals` (their ids given by the store, in order)."""
    st = Store(path)
    with st.db.transaction() as conn:
        conn.executemany(
            f"INSERT INTO usage_intervals({','.join(_COLS)}) VALUES ({','.join('?' * len(_COLS))})",
            [tuple(getattr(iv, k) for k in _COLS) for iv in intervals],
        )
    return st
