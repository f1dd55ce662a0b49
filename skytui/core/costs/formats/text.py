"""Human-readable cost reports: a plain terminal table and a Markdown table for PRs.

Amounts and hours are rounded to 2 places (cents) here; CSV, JSON and FOCUS keep all 6.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skytui.core.costs.accounting import CostRow
from skytui.core.costs.formats.common import GROUP_TITLES, notes, title
from skytui.core.costs.units import fmt_cents

if TYPE_CHECKING:
    from skytui.core.costs.report_model import Report

_HEADERS = ("Hours", "GPU hours", "Cost", "On-demand", "Savings", "Note")


def _clean(text: str) -> str:
    """Drop control characters so a name can't move the cursor or break a table."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _note(row: CostRow) -> str:
    parts = []
    if row.estimate:
        parts.append("estimate")
    if row.disk_cost_micro:
        parts.append(f"disk {fmt_cents(row.disk_cost_micro)}")
    return ", ".join(parts)


def _cells(row: CostRow, label: str) -> list[str]:
    return [
        label,
        fmt_cents(row.hours_micro),
        fmt_cents(row.gpu_hours_micro),
        fmt_cents(row.cost_micro),
        fmt_cents(row.on_demand_micro),
        fmt_cents(row.savings_micro),
        _note(row),
    ]


def _body(report: Report) -> tuple[list[str], list[list[str]], list[str]]:
    header = [GROUP_TITLES[report.by], *_HEADERS]
    rows = [_cells(row, _clean(row.key)) for row in report.rows]
    return header, rows, _cells(report.total, "Total")


def to_table(report: Report) -> str:
    """A plain-text table for the terminal, with a totals line and footnotes."""
    header, rows, total = _body(report)
    widths = [max(len(r[i]) for r in [header, *rows, total]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        numbers = [c.rjust(w) for c, w in zip(cells[1:-1], widths[1:-1], strict=True)]
        return "  ".join([first, *numbers, cells[-1]]).rstrip()

    rule = "  ".join("-" * w for w in widths[:-1])
    out = [title(report), "", line([h.upper() for h in header]), rule]
    out += [line(r) for r in rows] or ["(no usage in this window)"]
    out += [rule, line(total), ""]
    out += notes(report)
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    """A Markdown table cell: pipes and markup characters escaped."""
    cleaned = _clean(text)
    for ch in "\\|*_`<>[]":
        cleaned = cleaned.replace(ch, "\\" + ch)
    return cleaned


def to_markdown(report: Report) -> str:
    """A Markdown table to paste into a PR or issue, with a bold totals row."""
    header, rows, total = _body(report)
    currency = report.currency
    head = [header[0]] + [
        f"{h} ({currency})" if h in ("Cost", "On-demand", "Savings") else h for h in header[1:]
    ]
    out = [f"**{_md(title(report))}**", ""]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join([" --- "] + [" ---: "] * 5 + [" --- "]) + "|")
    for r in rows:
        out.append("| " + " | ".join(_md(c) for c in r) + " |")
    bold_total = [f"**{c}**" if c else "" for c in total]
    out.append("| " + " | ".join(bold_total) + " |")
    out.append("")
    out += [f"- {_md(n)}" for n in notes(report)]
    return "\n".join(out) + "\n"
