"""Labels shared by every cost report format, so they all say the same thing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from skytui.core.costs.accounting import LineItem
from skytui.core.costs.units import fmt_micro, to_ms

if TYPE_CHECKING:
    from skytui.core.costs.report_model import Report

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


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """A text CSV field, quoted only when it must be (RFC 4180).

    Text that a spreadsheet would take for a formula gets the usual guard: a leading `'`,
    and quotes. (Amounts never come through here: a negative number stays a number.)
    """
    if text.startswith(_FORMULA_START):
        return "\"'" + text.replace('"', '""') + '"'
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
