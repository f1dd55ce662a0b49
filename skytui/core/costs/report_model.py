"""A cost report's data: priced line items in one window, grouped and totalled on demand.

Every format (formats/*) renders from a `Report`; report.py builds one and hands it to them.
It sits in a module of its own, below both, so the renderers and report.py import it
without importing each other (model.py holds the store's record, below accounting).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property

from skytui.core.costs.accounting import CostRow, LineItem, daily_costs, group_items, sum_rows
from skytui.core.costs.model import UsageInterval
from skytui.core.costs.units import MS_PER_DAY, day_of, iso_z

CURRENCY = "USD"


@dataclass
class Report:
    """A priced, grouped view of usage in one window; every format renders from it."""

    by: str
    since_ms: int
    until_ms: int
    now_ms: int
    items: list[LineItem]  # one per interval, or per interval-day when by == "day"
    intervals: Sequence[UsageInterval] = ()  # what the items were priced from (the CSV streams these)
    currency: str = CURRENCY

    @cached_property
    def rows(self) -> list[CostRow]:
        """Items grouped `by`; built on first use (the CSV lists items and never needs them)."""
        return group_items(self.items, self.by)

    @cached_property
    def total(self) -> CostRow:
        return sum_rows(self.rows)

    @cached_property
    def daily(self) -> dict[str, int]:
        """Micro-dollars per UTC day, every day from the first to the last spend."""
        return _filled_days(daily_costs(self.items))

    @property
    def since(self) -> str:
        """Window start, ISO-8601 UTC."""
        return iso_z(self.since_ms)

    @property
    def until(self) -> str:
        """Window end (exclusive), ISO-8601 UTC."""
        return iso_z(self.until_ms)

    @property
    def estimate_sources(self) -> list[str]:
        """The estimate sources behind rows labelled as estimates."""
        return sorted(s for s in self.total.estimate_sources if "estimate" in s)


def _filled_days(days: dict[str, int]) -> dict[str, int]:
    """Every UTC day from the first to the last spend, zero where nothing ran."""
    if not days:
        return {}
    first = datetime.fromisoformat(next(iter(days))).replace(tzinfo=timezone.utc)
    last = next(reversed(days.keys()))
    ms = int(first.timestamp()) * 1000
    filled: dict[str, int] = {}
    while True:
        day = day_of(ms)
        filled[day] = days.get(day, 0)
        if day == last:
            return filled
        ms += MS_PER_DAY
