"""Cost accounting over usage intervals, and cost reports in every format."""

from __future__ import annotations

from skytui.core.costs.accounting import (
    GROUPINGS,
    AutostopSavings,
    CostRow,
    LineItem,
    autostop_savings,
    clip,
    group_items,
    line_items,
    spend_rate,
    spend_today_and_month,
    total_of,
)
from skytui.core.costs.model import UsageInterval
from skytui.core.costs.report import (
    FORMATS,
    Format,
    Report,
    build_report,
    parse_since,
    render,
    write_report,
)

__all__ = [
    "FORMATS",
    "GROUPINGS",
    "AutostopSavings",
    "CostRow",
    "Format",
    "LineItem",
    "Report",
    "UsageInterval",
    "autostop_savings",
    "build_report",
    "clip",
    "group_items",
    "line_items",
    "parse_since",
    "render",
    "spend_rate",
    "spend_today_and_month",
    "total_of",
    "write_report",
]
