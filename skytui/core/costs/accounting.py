"""Cost arithmetic over usage intervals: clip to a window, price, group and total.

All amounts are integer micro-units (see `units`); each interval is priced piece by
piece at UTC midnights, so a by-day grouping and any other grouping share one total.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from skytui.core.costs.model import COMPUTE, DISK, UsageInterval
from skytui.core.costs.units import (
    MICRO,
    MS_PER_DAY,
    MS_PER_HOUR,
    day_of,
    day_start_ms,
    micro_cost,
    micro_hours,
    micro_to_decimal,
    month_bounds_ms,
    to_micro,
    to_ms,
)
from skytui.errors import SkytuiError

GROUPINGS = ("cluster", "job", "user", "region", "cloud", "gpu", "day")
NO_JOB = "(none)"
CPU_ONLY = "cpu"
_NO_LOWER_BOUND = -(2**62)
_TWO_HOURS_MS = 2 * MS_PER_HOUR


@dataclass(slots=True)
class LineItem:
    """The part of one interval inside the report window (one UTC day of it when split)."""

    interval: UsageInterval
    start_ms: int
    end_ms: int
    hours_micro: int
    cost_micro: int
    on_demand_micro: int

    @property
    def savings_micro(self) -> int:
        """What paying the on-demand price would have cost on top (spot savings)."""
        return self.on_demand_micro - self.cost_micro

    @property
    def gpu_hours_micro(self) -> int:
        """Accelerator-hours: node hours times the node's accelerator count."""
        iv = self.interval
        return (
            self.hours_micro * iv.accelerator_count if iv.accelerator and iv.kind == COMPUTE else 0
        )

    @property
    def start(self) -> float:
        """Start of the clipped part, unix seconds UTC."""
        return self.start_ms / 1000

    @property
    def end(self) -> float:
        """End of the clipped part, unix seconds UTC."""
        return self.end_ms / 1000

    @property
    def cost(self) -> Decimal:
        """Cost in USD, exact to 6 places."""
        return micro_to_decimal(self.cost_micro)


@dataclass(slots=True)
class CostRow:
    """Summed amounts of a group of line items (or of all of them: the total)."""

    key: str
    hours_micro: int = 0
    gpu_hours_micro: int = 0
    cost_micro: int = 0
    on_demand_micro: int = 0
    disk_cost_micro: int = 0  # included in cost_micro; shown apart because nodes were stopped
    items: int = 0
    estimate: bool = False
    estimate_sources: set[str] = field(default_factory=set)

    def add(self, item: LineItem) -> None:
        """Add one line item's amounts to this row."""
        iv = item.interval
        self.hours_micro += item.hours_micro
        if iv.accelerator and iv.kind == COMPUTE:
            self.gpu_hours_micro += item.hours_micro * iv.accelerator_count
        self.cost_micro += item.cost_micro
        self.on_demand_micro += item.on_demand_micro
        if iv.kind == DISK:
            self.disk_cost_micro += item.cost_micro
        self.items += 1
        source = iv.estimate_source
        if source not in self.estimate_sources:
            self.estimate_sources.add(source)
            if "estimate" in source:
                self.estimate = True

    @property
    def savings_micro(self) -> int:
        """On-demand cost minus the cost actually paid."""
        return self.on_demand_micro - self.cost_micro

    @property
    def hours(self) -> Decimal:
        """Node hours (disk hours included), exact to 6 places."""
        return micro_to_decimal(self.hours_micro)

    @property
    def cost(self) -> Decimal:
        """Cost in USD, exact to 6 places."""
        return micro_to_decimal(self.cost_micro)

    @property
    def on_demand_cost(self) -> Decimal:
        """What the same hours would have cost on demand, USD."""
        return micro_to_decimal(self.on_demand_micro)

    @property
    def savings(self) -> Decimal:
        """On-demand cost minus cost, USD."""
        return micro_to_decimal(self.savings_micro)


def window_ms(now: float, since: float | None, until: float | None) -> tuple[int, int, int]:
    """(since, until, now) in milliseconds; no `since` means no lower bound, `until` stops at now."""
    now_ms = to_ms(now)
    since_ms = _NO_LOWER_BOUND if since is None else to_ms(since)
    until_ms = now_ms if until is None else min(to_ms(until), now_ms)
    return since_ms, until_ms, now_ms


def pieces(start_ms: int, end_ms: int) -> Iterator[tuple[int, int]]:
    """[start, end) cut at every UTC midnight."""
    cut = day_start_ms(start_ms) + MS_PER_DAY
    while cut < end_ms:
        yield start_ms, cut
        start_ms = cut
        cut += MS_PER_DAY
    yield start_ms, end_ms


def price_span(price: int, on_demand: int, start_ms: int, end_ms: int) -> tuple[int, int, int]:
    """(micro-hours, micro-cost, micro on-demand cost) of [start, end) at micro-dollar prices per hour.

    Rounded per UTC-day piece, so a by-day report and any other one share the same total.
    """
    if end_ms <= start_ms - start_ms % MS_PER_DAY + MS_PER_DAY:
        # One piece (the usual case): the same formulas as units.micro_*, inlined for speed.
        ms = end_ms - start_ms
        return (
            (ms * 10 + 18) // 36,
            (ms * price * 2 + MS_PER_HOUR) // _TWO_HOURS_MS,
            (ms * on_demand * 2 + MS_PER_HOUR) // _TWO_HOURS_MS,
        )
    # Several pieces: the first to midnight, whole days (each rounds the same), the last.
    first = MS_PER_DAY - start_ms % MS_PER_DAY
    last = (end_ms - start_ms - first) % MS_PER_DAY or MS_PER_DAY
    days = (end_ms - start_ms - first - last) // MS_PER_DAY
    return (
        micro_hours(first) + days * micro_hours(MS_PER_DAY) + micro_hours(last),
        micro_cost(first, price) + days * micro_cost(MS_PER_DAY, price) + micro_cost(last, price),
        micro_cost(first, on_demand) + days * micro_cost(MS_PER_DAY, on_demand)
        + micro_cost(last, on_demand),
    )


def _priced(iv: UsageInterval, start_ms: int, end_ms: int) -> tuple[int, int, int]:
    """`price_span` at the interval's own prices."""
    return price_span(
        round(iv.price_per_hour * MICRO), round(iv.on_demand_price_per_hour * MICRO), start_ms, end_ms
    )


def clip(
    interval: UsageInterval, *, now: float, since: float | None = None, until: float | None = None
) -> tuple[float, float] | None:
    """The part of `interval` inside [since, until) and before `now`, or None if there is none."""
    since_ms, until_ms, now_ms = window_ms(now, since, until)
    span = _clip_ms(interval, since_ms, until_ms, now_ms)
    return None if span is None else (span[0] / 1000, span[1] / 1000)


def _clip_ms(
    iv: UsageInterval, since_ms: int, until_ms: int, now_ms: int
) -> tuple[int, int] | None:
    start = to_ms(iv.started_at)
    end = now_ms if iv.ended_at is None else min(to_ms(iv.ended_at), now_ms)
    start = max(start, since_ms)
    end = min(end, until_ms)
    return (start, end) if end > start else None


def line_items(
    intervals: Iterable[UsageInterval],
    *,
    now: float,
    since: float | None = None,
    until: float | None = None,
    split_days: bool = False,
) -> list[LineItem]:
    """Price every interval's part inside [since, until) (open ones count until `now`)."""
    since_ms, until_ms, now_ms = window_ms(now, since, until)
    items: list[LineItem] = []
    append = items.append
    for iv in intervals:
        # _clip_ms, inlined: this loop runs once per interval of the whole history.
        start = round(iv.started_at * 1000)
        end = now_ms if iv.ended_at is None else round(iv.ended_at * 1000)
        start = max(start, since_ms)
        end = min(end, until_ms)
        if end <= start:
            continue
        if split_days:
            for a, b in pieces(start, end):
                append(LineItem(iv, a, b, *_priced(iv, a, b)))
        else:
            append(LineItem(iv, start, end, *_priced(iv, start, end)))
    return items


def _job_key(item: LineItem) -> str:
    job = item.interval.job_id
    return NO_JOB if job is None else str(job)


_KEYS: dict[str, Callable[[LineItem], str]] = {
    "cluster": lambda item: item.interval.cluster,
    "job": _job_key,
    "user": lambda item: item.interval.user,
    "region": lambda item: f"{item.interval.cloud}/{item.interval.region}",
    "cloud": lambda item: item.interval.cloud,
    "gpu": lambda item: item.interval.accelerator or CPU_ONLY,
    "day": lambda item: day_of(item.start_ms),
}


def check_grouping(by: str) -> str:
    """Return `by` if it names a grouping, else raise a one-line error with the choices."""
    if by not in _KEYS:
        raise SkytuiError(f"unknown cost grouping {by!r}", f"use one of: {', '.join(GROUPINGS)}")
    return by


def split_by_day(items: Iterable[LineItem]) -> Iterator[LineItem]:
    """Items cut at UTC midnights; amounts are recomputed per piece, so sums are unchanged."""
    for item in items:
        if item.end_ms <= day_start_ms(item.start_ms) + MS_PER_DAY:
            yield item
            continue
        for a, b in pieces(item.start_ms, item.end_ms):
            yield LineItem(item.interval, a, b, *_priced(item.interval, a, b))


def group_items(items: Iterable[LineItem], by: str) -> list[CostRow]:
    """Sum items by cluster|job|user|region|cloud|gpu|day; days in order, others by cost."""
    key_of = _KEYS[check_grouping(by)]
    if by == "day":
        items = split_by_day(items)
    rows: dict[str, CostRow] = {}
    get = rows.get
    for item in items:
        key = key_of(item)
        row = get(key)
        if row is None:
            row = rows[key] = CostRow(key)
        row.add(item)
    if by == "day":
        return [rows[k] for k in sorted(rows)]
    return sorted(rows.values(), key=lambda r: (-r.cost_micro, r.key))


def total_of(items: Iterable[LineItem]) -> CostRow:
    """All items summed into one row keyed "total"."""
    total = CostRow("total")
    for item in items:
        total.add(item)
    return total


def sum_rows(rows: Iterable[CostRow], key: str = "total") -> CostRow:
    """Rows summed into one (equal to `total_of` their items, without walking the items)."""
    total = CostRow(key)
    for row in rows:
        total.hours_micro += row.hours_micro
        total.gpu_hours_micro += row.gpu_hours_micro
        total.cost_micro += row.cost_micro
        total.on_demand_micro += row.on_demand_micro
        total.disk_cost_micro += row.disk_cost_micro
        total.items += row.items
        total.estimate = total.estimate or row.estimate
        total.estimate_sources |= row.estimate_sources
    return total


def daily_costs(items: Iterable[LineItem]) -> dict[str, int]:
    """Micro-dollar cost per UTC day, in day order."""
    days: dict[str, int] = {}
    for item in split_by_day(items):
        day = day_of(item.start_ms)
        days[day] = days.get(day, 0) + item.cost_micro
    return dict(sorted(days.items()))


def spend_rate(intervals: Iterable[UsageInterval], now: float) -> dict[str, object]:
    """Dollars per hour being spent now by open intervals, in total and by cloud/region/user."""
    now_ms = to_ms(now)
    total = 0
    by_cloud: dict[str, int] = {}
    by_region: dict[str, int] = {}
    by_user: dict[str, int] = {}
    for iv in intervals:
        if iv.ended_at is not None or to_ms(iv.started_at) > now_ms:
            continue
        price = to_micro(iv.price_per_hour)
        total += price
        for bucket, key in (
            (by_cloud, iv.cloud),
            (by_region, f"{iv.cloud}/{iv.region}"),
            (by_user, iv.user),
        ):
            bucket[key] = bucket.get(key, 0) + price

    def dollars(bucket: dict[str, int]) -> dict[str, float]:
        return {k: v / MICRO for k, v in sorted(bucket.items())}

    return {
        "total": total / MICRO,
        "by_cloud": dollars(by_cloud),
        "by_region": dollars(by_region),
        "by_user": dollars(by_user),
    }


def spend_today_and_month(
    intervals: Iterable[UsageInterval], now: float
) -> tuple[Decimal, Decimal]:
    """USD spent so far in the current UTC day and the current UTC calendar month."""
    now_ms = to_ms(now)
    month_start, _ = month_bounds_ms(now_ms)
    today_start = day_start_ms(now_ms)
    today = month = 0
    for item in line_items(intervals, now=now, since=month_start / 1000, split_days=True):
        month += item.cost_micro
        if item.start_ms >= today_start:
            today += item.cost_micro
    return micro_to_decimal(today), micro_to_decimal(month)


@dataclass(slots=True)
class AutostopSavings:
    """What autostop saved: hours nodes stayed stopped times the price they would have paid."""

    stops: int = 0
    hours_micro: int = 0
    saved_micro: int = 0  # compute not paid for while stopped
    disk_cost_micro: int = 0  # disks still billed while stopped, in the same gaps
    by_cluster: dict[str, int] = field(default_factory=dict)  # saved micro-dollars

    @property
    def hours(self) -> Decimal:
        """Node-hours stopped after an autostop."""
        return micro_to_decimal(self.hours_micro)

    @property
    def saved(self) -> Decimal:
        """Compute cost avoided, USD (before disk cost)."""
        return micro_to_decimal(self.saved_micro)

    @property
    def disk_cost(self) -> Decimal:
        """Disk cost paid while stopped, USD."""
        return micro_to_decimal(self.disk_cost_micro)

    @property
    def net(self) -> Decimal:
        """Saved minus the disk cost still paid, USD."""
        return micro_to_decimal(self.saved_micro - self.disk_cost_micro)


def autostop_savings(
    intervals: Iterable[UsageInterval],
    *,
    now: float,
    since: float | None = None,
    until: float | None = None,
) -> AutostopSavings:
    """Savings from autostop: each autostopped node's gap until its next start (or now)."""
    since_ms, until_ms, now_ms = window_ms(now, since, until)
    compute: dict[tuple[str, int], list[UsageInterval]] = {}
    disks: dict[tuple[str, int], list[UsageInterval]] = {}
    for iv in intervals:
        bucket = disks if iv.kind == DISK else compute
        bucket.setdefault((iv.cluster, iv.node), []).append(iv)
    result = AutostopSavings()
    for node_key, runs in compute.items():
        runs.sort(key=lambda iv: (iv.started_at, iv.id))
        for i, iv in enumerate(runs):
            if iv.end_reason != "autostop" or iv.ended_at is None:
                continue
            stopped = to_ms(iv.ended_at)
            restarts = [to_ms(r.started_at) for r in runs[i + 1 :] if r.started_at >= iv.ended_at]
            gap_end = min(restarts, default=now_ms)
            a, b = max(stopped, since_ms), min(gap_end, until_ms, now_ms)
            if b <= a:
                continue
            saved = micro_cost(b - a, to_micro(iv.price_per_hour))
            result.stops += 1
            result.hours_micro += micro_hours(b - a)
            result.saved_micro += saved
            result.by_cluster[iv.cluster] = result.by_cluster.get(iv.cluster, 0) + saved
            for disk in disks.get(node_key, ()):
                span = _clip_ms(disk, a, b, now_ms)
                if span is not None:
                    result.disk_cost_micro += micro_cost(
                        span[1] - span[0], to_micro(disk.price_per_hour)
                    )
    return result
