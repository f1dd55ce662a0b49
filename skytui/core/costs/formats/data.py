"""Machine-readable cost reports: CSV line items and a JSON document."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from skytui.core.costs.accounting import CostRow
from skytui.core.costs.formats.common import csv_text, ended_here
from skytui.core.costs.formats.csv_items import ITEM_COLUMNS, csv_lines, item_rows
from skytui.core.costs.units import MICRO, iso_z, to_micro

if TYPE_CHECKING:
    from skytui.core.costs.report_model import Report


def to_csv(report: Report) -> str:
    """One row per line item (interval part in the window); ISO-8601 UTC times, plain decimals."""
    window = (report.since_ms, report.until_ms, report.now_ms)
    lines = csv_lines(item_rows(report.intervals), window, report.currency, split_days=report.by == "day")
    return csv_text(ITEM_COLUMNS, lines)


def _number(micro: int) -> float:
    # Amounts have 6 places and stay far below 2**53 micro-units, so the shortest
    # float repr is exactly the 6-place decimal: JSON numbers lose nothing.
    return micro / MICRO


def _row(row: CostRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "hours": _number(row.hours_micro),
        "gpu_hours": _number(row.gpu_hours_micro),
        "cost": _number(row.cost_micro),
        "on_demand_cost": _number(row.on_demand_micro),
        "savings": _number(row.savings_micro),
        "disk_cost": _number(row.disk_cost_micro),
        "intervals": row.items,
        "estimate": row.estimate,
    }


def to_json(report: Report) -> str:
    """The totals, grouped rows and line items (one per line) as one JSON document."""
    total = report.total
    doc = {
        "currency": report.currency,
        "by": report.by,
        "since": report.since,
        "until": report.until,
        "generated_at": iso_z(report.now_ms),
        "total_cost": _number(total.cost_micro),
        "on_demand_cost": _number(total.on_demand_micro),
        "savings": _number(total.savings_micro),
        "disk_cost": _number(total.disk_cost_micro),
        "hours": _number(total.hours_micro),
        "gpu_hours": _number(total.gpu_hours_micro),
        "estimate": total.estimate,
        "estimate_sources": report.estimate_sources,
        "rows": [_row(row) for row in report.rows],
        "items": [],
    }
    head = json.dumps(doc, indent=2, ensure_ascii=False)
    if not report.items:
        return head + "\n"
    # indent= forces json's slow pure-Python encoder; items go one per line instead.
    encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    lines = []
    for item in report.items:
        iv = item.interval
        lines.append(
            encode(
                {
                    "start": iso_z(item.start_ms),
                    "end": iso_z(item.end_ms),
                    "cluster": iv.cluster,
                    "node": iv.node,
                    "job": iv.job_id,
                    "attempt": iv.attempt,
                    "user": iv.user,
                    "cloud": iv.cloud,
                    "region": iv.region,
                    "zone": iv.zone,
                    "instance_type": iv.instance_type,
                    "accelerators": (
                        {"name": iv.accelerator, "count": iv.accelerator_count}
                        if iv.accelerator
                        else None
                    ),
                    "spot": iv.spot,
                    "kind": iv.kind,
                    "hours": item.hours_micro / MICRO,
                    "gpu_hours": item.gpu_hours_micro / MICRO,
                    "price_per_hour": to_micro(iv.price_per_hour) / MICRO,
                    "on_demand_price_per_hour": to_micro(iv.on_demand_price_per_hour) / MICRO,
                    "cost": item.cost_micro / MICRO,
                    "on_demand_cost": item.on_demand_micro / MICRO,
                    "savings": (item.on_demand_micro - item.cost_micro) / MICRO,
                    "end_reason": ended_here(item) or None,
                    "estimate": iv.is_estimate,
                    "estimate_source": iv.estimate_source,
                }
            )
        )
    before_items = head[: head.rindex("[]")]  # "items" is the last key of the document
    return before_items + "[\n    " + ",\n    ".join(lines) + "\n  ]\n}\n"
