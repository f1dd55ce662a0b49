"""The Costs view's sums: the store's per-day sums of closed intervals, plus the few priced live.

Pricing every interval of the window costs hundreds of milliseconds at 100,000 intervals. The
store keeps each closed interval's amounts per UTC day (skytui.store.usage_sums, exact to the
micro-unit as skytui.core.costs.accounting prices them), so a window is:

- whole days, from the first midnight after its start: the store's sums;
- the part before that midnight (the window cuts that day): the closed intervals that overlap
  it, clipped and priced by SQLite (Store.usage_part_sums: about a day's worth of rows);
- open intervals, and closed ones that end after `now` (only after a clock step back): priced
  by the core over the whole window, and those closed ones taken back out of the store's sums.

A test checks the result equals the core's report for every grouping. No Textual here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from skytui.core.costs.accounting import CostRow, group_items, line_items
from skytui.core.costs.from_store import COLUMNS
from skytui.core.costs.model import UsageInterval
from skytui.core.costs.units import day_of, to_ms
from skytui.store import Store
from skytui.store.usage_sums import MS_PER_DAY, GroupSum

SLACK_S = 0.002  # seconds: SQL selects by float seconds a little wide; the core clips by exact ms


@dataclass
class Group:
    """One group's amounts in micro-units, and how many items each estimate source gave it."""

    amounts: list[int] = field(default_factory=lambda: [0] * 5)  # hours, gpu hours, cost, on-demand, disk
    sources: dict[str, int] = field(default_factory=dict)

    @property
    def items(self) -> int:
        return sum(self.sources.values())

    def cost_row(self, key: str) -> CostRow:
        """The group as the core's report row."""
        hours, gpu_hours, cost, on_demand, disk = self.amounts
        sources = {s for s, n in self.sources.items() if n}
        return CostRow(key, hours, gpu_hours, cost, on_demand, disk, self.items,
                       any("estimate" in s for s in sources), sources)


Sums = dict[str, Group]  # group key (a UTC day "YYYY-MM-DD" for the by-day grouping) -> amounts


def _add_sum(into: Sums, key: str, s: GroupSum) -> None:
    g = into.setdefault(key, Group())
    for i, a in enumerate((s.hours, s.gpu_hours, s.cost, s.on_demand, s.disk)):
        g.amounts[i] += a
    g.sources[s.source] = g.sources.get(s.source, 0) + s.items


def _add_rows(into: Sums, rows: Iterable[CostRow], sign: int = 1, items: bool = True) -> None:
    """Add (or with `sign` -1 take away) the core's rows; `items` False leaves the counts alone."""
    for r in rows:
        (source,) = r.estimate_sources  # grouped one source at a time, see _grouped
        g = into.setdefault(r.key, Group())
        for i, a in enumerate((r.hours_micro, r.gpu_hours_micro, r.cost_micro, r.on_demand_micro,
                               r.disk_cost_micro)):
            g.amounts[i] += sign * a
        if items:
            g.sources[source] = g.sources.get(source, 0) + sign * r.items


def _grouped(intervals: list[UsageInterval], by: str, *, now: float, since: float) -> list[CostRow]:
    """The core's rows for `intervals` in [since, now), grouped by `by` and by source."""
    per_source: dict[str, list[UsageInterval]] = {}
    for iv in intervals:
        per_source.setdefault(iv.estimate_source, []).append(iv)
    rows: list[CostRow] = []
    for ivs in per_source.values():
        rows += group_items(line_items(ivs, now=now, since=since), by)
    return rows


def _read(store: Store, where: str, args: tuple[float, ...], index: str) -> list[UsageInterval]:
    spot = COLUMNS.index("spot")
    cur = store.db.conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM usage_intervals INDEXED BY {index} WHERE {where}", args)
    return [UsageInterval.trusted((*r[:spot], r[spot] == 1, *r[spot + 1:])) for r in cur]


def window_sums(store: Store, since: float, now: float, groupings: Iterable[str]) -> dict[str, Sums]:
    """Amounts of every interval's part in [since, now) for each grouping, as the core's report has them.

    Groups whose items all cancel out (a closed interval taken back) are left out.
    """
    since_ms, now_ms = to_ms(since), to_ms(now)
    midnight = since_ms - since_ms % MS_PER_DAY + MS_PER_DAY  # the store's sums count from here
    cut = midnight / 1000
    first_day = midnight // MS_PER_DAY
    # Closed after `now` (a clock stepped back): the store summed them to their end, not to now.
    late = [iv for iv in _read(store, "ended_at IS NOT NULL AND ended_at > ?", (now - SLACK_S,), "usage_ended")
            if to_ms(iv.ended_at or 0) > now_ms]
    live = _read(store, "ended_at IS NULL", (), "usage_still_open") + late
    past = max((iv.ended_at or 0 for iv in late), default=now) + 1  # a `now` after every late end
    late_from_cut = [iv for iv in late if to_ms(iv.started_at) >= midnight]  # their start was counted
    late_before_cut = [iv for iv in late if to_ms(iv.started_at) < midnight]
    out: dict[str, Sums] = {}
    for by in groupings:
        sums: Sums = {}
        if by == "day":
            for day, s in store.usage_daily_sums(first_day):
                _add_sum(sums, day_of(day * MS_PER_DAY), s)
        else:
            for s in store.usage_group_sums(by, first_day):
                _add_sum(sums, s.key, s)
        for s in store.usage_part_sums(by, since_ms, min(midnight, now_ms), now_ms):
            _add_sum(sums, day_of(since_ms) if by == "day" else s.key, s)
        _add_rows(sums, _grouped(live, by, now=now, since=since))
        _add_rows(sums, _grouped(late_from_cut, by, now=past, since=cut), -1)
        # By day, items are pieces and the store counted each of theirs; otherwise it counted starts.
        _add_rows(sums, _grouped(late_before_cut, by, now=past, since=cut), -1, items=by == "day")
        out[by] = {k: g for k, g in sums.items() if g.items}
    return out


def open_spend_micro(store: Store, now: float) -> int:
    """Micro-dollars per hour the open intervals bill now (as accounting.spend_rate's total)."""
    row = store.db.conn.execute(
        "SELECT TOTAL(CAST(ROUND(price_per_hour * 1000000) AS INTEGER)) FROM usage_intervals"
        " WHERE ended_at IS NULL AND CAST(ROUND(started_at * 1000) AS INTEGER) <= ?",
        (round(now * 1000),)).fetchone()
    return int(row[0])


def autostop_nodes_clause() -> str:
    """Intervals of nodes that autostopped: only they matter to the autostop savings."""
    return ("(cluster, node) IN (SELECT cluster, node FROM usage_intervals INDEXED BY usage_autostop"
            " WHERE end_reason = 'autostop' AND ended_at IS NOT NULL)")
