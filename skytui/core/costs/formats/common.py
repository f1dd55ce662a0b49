"""Labels shared by every cost report format, so they all say the same thing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from skytui.core.costs.accounting import LineItem
from skytui.core.costs.model import COMPUTE, UsageInterval
from skytui.core.costs.units import DAY_TEXT, MICRO, MS_PER_DAY, day_of, fmt_micro, iso_z, to_ms

if TYPE_CHECKING:
    from skytui.core.costs.report import Report

_FAST_LIMIT = 10**15  # below this, "%.6f" of micro / 1e6 is exactly the 6-place decimal

GROUP_TITLES = {
    "cluster": "Cluster",
    "job": "Job",
    "user": "User",
    "region": "Region",
    "cloud": "Cloud",
    "gpu": "GPU",
    "day": "Day (UTC)",
}

ITEM_COLUMNS = (
    "start",
    "end",
    "cluster",
    "node",
    "job",
    "attempt",
    "user",
    # the offer: the same text for every interval of one type and price
    "cloud",
    "region",
    "zone",
    "instance_type",
    "accelerators",
    "spot",
    "kind",
    "price_per_hour",
    "on_demand_price_per_hour",
    "estimate",
    "estimate_source",
    "currency",
    # the amounts
    "hours",
    "gpu_hours",
    "cost",
    "on_demand_cost",
    "savings",
    "end_reason",
)


def price_text(price: float) -> str:
    """A catalog price with the same 6 places as every amount."""
    return fmt_micro(round(price * 1_000_000))


def cell(text: str) -> str:
    """A CSV field, quoted only when it must be (RFC 4180)."""
    if '"' in text or "," in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(header: tuple[str, ...], lines: Iterable[str]) -> str:
    """Header and pre-joined lines as CSV text; joining by hand is ~9x faster than csv.writer."""
    return ",".join(header) + "\n" + "".join(line + "\n" for line in lines)


def ended_here(item: LineItem) -> str:
    """The interval's end reason, only when this item really ends where the interval ended."""
    iv = item.interval
    if iv.ended_at is None or to_ms(iv.ended_at) != item.end_ms:
        return ""
    return iv.end_reason or ""


def _offer_text(iv: UsageInterval, currency: str) -> tuple[str, str]:
    """The offer's CSV fields before and after its two prices (which vary, spot ones often)."""
    head = ",".join(
        (
            cell(iv.cloud),
            cell(iv.region),
            cell(iv.zone or ""),
            cell(iv.instance_type),
            cell(f"{iv.accelerator}:{iv.accelerator_count}" if iv.accelerator else ""),
            "true" if iv.spot else "false",
            iv.kind,
        )
    )
    tail = ",".join(("true" if iv.is_estimate else "false", cell(iv.estimate_source), currency))
    return head, tail


def amounts_text(hours: int, gpu_hours: int, cost: int, on_demand: int) -> str:
    """Hours, GPU hours, cost, on-demand cost and savings as 5 CSV fields."""
    if max(hours, gpu_hours, cost, on_demand) < _FAST_LIMIT:
        return (
            f"{hours / MICRO:.6f},{gpu_hours / MICRO:.6f},{cost / MICRO:.6f},"
            f"{on_demand / MICRO:.6f},{(on_demand - cost) / MICRO:.6f}"
        )
    return ",".join(fmt_micro(v) for v in (hours, gpu_hours, cost, on_demand, on_demand - cost))


_MILLIS = ("",) + tuple(f".{ms:03d}" for ms in range(1, 1000))
_LINE = (
    "%sT%02d:%02d:%02d%sZ,%sT%02d:%02d:%02d%sZ,%s,%d,%s,%s,%s,%s,%.6f,%.6f,%s,%.6f,%.6f,%.6f,%.6f,%.6f,%s"
)


def item_lines(items: Iterable[LineItem], currency: str) -> Iterator[str]:
    """Line items as CSV lines (no newline) in ITEM_COLUMNS order."""
    offers: dict[tuple[object, ...], tuple[str, str]] = {}
    prices: dict[float, int] = {}  # catalog prices repeat: round each to micro-dollars once
    days = DAY_TEXT
    for item in items:
        iv = item.interval
        # Offer text repeats across intervals: build it once per distinct offer (prices apart).
        key = (
            iv.cloud,
            iv.region,
            iv.zone,
            iv.instance_type,
            iv.accelerator,
            iv.accelerator_count,
            iv.spot,
            iv.kind,
            iv.estimate_source,
        )
        offer = offers.get(key)
        if offer is None:
            offer = offers[key] = _offer_text(iv, currency)
        price = prices.get(iv.price_per_hour)
        if price is None:
            price = prices[iv.price_per_hour] = round(iv.price_per_hour * MICRO)
        on_demand_price = prices.get(iv.on_demand_price_per_hour)
        if on_demand_price is None:
            on_demand_price = prices[iv.on_demand_price_per_hour] = round(
                iv.on_demand_price_per_hour * MICRO
            )
        hours, cost, on_demand = item.hours_micro, item.cost_micro, item.on_demand_micro
        gpu_hours = hours * iv.accelerator_count if iv.accelerator and iv.kind == COMPUTE else 0
        ended = cell(ended_here(item)) if iv.end_reason else ""
        job = "" if iv.job_id is None else str(iv.job_id)
        attempt = "" if iv.attempt is None else str(iv.attempt)
        if max(gpu_hours, cost, on_demand, hours, price, on_demand_price) >= _FAST_LIMIT:
            amounts = amounts_text(hours, gpu_hours, cost, on_demand)
            yield ",".join(
                (
                    iso_z(item.start_ms),
                    iso_z(item.end_ms),
                    cell(iv.cluster),
                    str(iv.node),
                    job,
                    attempt,
                    cell(iv.user),
                    offer[0],
                    fmt_micro(price),
                    fmt_micro(on_demand_price),
                    offer[1],
                    amounts,
                    ended,
                )
            )
            continue
        # One %-format per line: this loop is the whole cost of a 100,000-row CSV.
        a_day, a = divmod(item.start_ms, MS_PER_DAY)
        b_day, b = divmod(item.end_ms, MS_PER_DAY)
        a_s, a_ms = divmod(a, 1000)
        b_s, b_ms = divmod(b, 1000)
        yield _LINE % (
            days.get(a_day) or day_of(item.start_ms),
            a_s // 3600,
            a_s // 60 % 60,
            a_s % 60,
            _MILLIS[a_ms],
            days.get(b_day) or day_of(item.end_ms),
            b_s // 3600,
            b_s // 60 % 60,
            b_s % 60,
            _MILLIS[b_ms],
            cell(iv.cluster),
            iv.node,
            job,
            attempt,
            cell(iv.user),
            offer[0],
            price / MICRO,
            on_demand_price / MICRO,
            offer[1],
            hours / MICRO,
            gpu_hours / MICRO,
            cost / MICRO,
            on_demand / MICRO,
            (on_demand - cost) / MICRO,
            ended,
        )


def title(report: Report) -> str:
    """One line naming the grouping, the window and the currency."""
    what = GROUP_TITLES[report.by].split(" ")[0].lower()
    return f"skytui costs by {what}, {report.since} to {report.until} ({report.currency})"


def notes(report: Report) -> list[str]:
    """Footnotes every human-readable format prints under its table."""
    lines = []
    sources = report.estimate_sources
    if sources:
        lines.append(
            "Rows marked 'estimate' are priced from "
            + ", ".join(sources)
            + ", not from a cloud's published prices."
        )
    if report.total.disk_cost_micro:
        lines.append(
            f"Cost includes {fmt_micro(report.total.disk_cost_micro)} {report.currency} "
            "of disk billed while nodes were stopped."
        )
    lines.append(
        "Amounts are computed per interval and UTC day to 6 decimal places; "
        "rows add up exactly to the total."
    )
    return lines
