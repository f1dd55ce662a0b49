"""A self-contained HTML cost report: one file, a table and an inline SVG chart of daily spend."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from skytui.core.costs.accounting import CostRow
from skytui.core.costs.formats.common import GROUP_TITLES, notes, title
from skytui.core.costs.units import fmt_micro

if TYPE_CHECKING:
    from skytui.core.costs.report_model import Report

# Inline styles only: the file must open offline and carry no external asset.
_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2330;background:#fff}
h1{font-size:1.25rem}
table{border-collapse:collapse;margin:1rem 0}
th,td{padding:.3rem .7rem;border-bottom:1px solid #dde1e8;text-align:right}
th:first-child,td:first-child{text-align:left}
tfoot td{font-weight:bold;border-top:2px solid #1d2330}
.estimate{color:#8a4b00;font-style:italic}
.chart text{font-size:11px;fill:#4a5263}
.chart rect.bar{fill:#3867d6}
p.note{color:#4a5263;font-size:.9rem}
"""

_W, _H, _PAD_L, _PAD_B, _PAD_T = 760, 260, 90, 40, 16


def _row_html(row: CostRow, label: str, cell: str = "td") -> str:
    note = "estimate" if row.estimate else ""
    if row.disk_cost_micro:
        note = ", ".join(filter(None, [note, f"disk {fmt_micro(row.disk_cost_micro)}"]))
    cells = [
        label,
        fmt_micro(row.hours_micro),
        fmt_micro(row.gpu_hours_micro),
        fmt_micro(row.cost_micro),
        fmt_micro(row.on_demand_micro),
        fmt_micro(row.savings_micro),
    ]
    body = "".join(f"<{cell}>{escape(c)}</{cell}>" for c in cells)
    cls = ' class="estimate"' if row.estimate else ""
    return f"<tr{cls}>{body}<{cell}>{escape(note)}</{cell}></tr>"


def _chart(report: Report) -> str:
    """Bars of spend per UTC day; a <title> on each bar gives the exact amount."""
    days = list(report.daily.items())
    if not days:
        return '<p class="note">No spend in this window.</p>'
    peak = max(v for _, v in days) or 1
    plot_w, plot_h = _W - _PAD_L - 10, _H - _PAD_B - _PAD_T
    step = plot_w / len(days)
    bar_w = max(step * 0.8, 1.0)
    label_every = max(1, len(days) // 10)
    parts = [
        f'<svg class="chart" role="img" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}">',
        f"<title>{escape('Daily spend (' + report.currency + ', UTC days)')}</title>",
        f'<line x1="{_PAD_L}" y1="{_PAD_T}" x2="{_PAD_L}" y2="{_PAD_T + plot_h}" stroke="#4a5263"/>',
        (
            f'<line x1="{_PAD_L}" y1="{_PAD_T + plot_h}" x2="{_W - 10}" y2="{_PAD_T + plot_h}" '
            'stroke="#4a5263"/>'
        ),
        f'<text x="{_PAD_L - 6}" y="{_PAD_T + 4}" text-anchor="end">{escape(fmt_micro(peak))}</text>',
        f'<text x="{_PAD_L - 6}" y="{_PAD_T + plot_h}" text-anchor="end">0</text>',
    ]
    for i, (day, micro) in enumerate(days):
        height = plot_h * micro / peak
        x = _PAD_L + i * step + (step - bar_w) / 2
        y = _PAD_T + plot_h - height
        tip = escape(f"{day}: {fmt_micro(micro)} {report.currency}")
        parts.append(
            f'<rect class="bar" x="{x:.2f}" y="{y:.2f}" width="{bar_w:.2f}" '
            f'height="{height:.2f}"><title>{tip}</title></rect>'
        )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.2f}" y="{_PAD_T + plot_h + 16}" '
                f'text-anchor="middle">{escape(day[5:])}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)


def to_html(report: Report) -> str:
    """One self-contained HTML page: title, totals table and daily spend chart; no scripts."""
    heading = escape(title(report))
    cur = escape(report.currency)
    head_cells = [
        GROUP_TITLES[report.by],
        "Hours",
        "GPU hours",
        f"Cost ({report.currency})",
        f"On-demand ({report.currency})",
        f"Savings ({report.currency})",
        "Note",
    ]
    thead = "".join(f"<th>{escape(h)}</th>" for h in head_cells)
    body = "\n".join(_row_html(row, row.key) for row in report.rows)
    if not report.rows:
        body = '<tr><td colspan="7">No usage in this window.</td></tr>'
    foot = _row_html(report.total, "Total")
    note_html = "\n".join(f'<p class="note">{escape(n)}</p>' for n in notes(report))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{heading}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{heading}</h1>\n"
        f"<p>Total cost <strong>{escape(fmt_micro(report.total.cost_micro))} {cur}</strong>, "
        f"on-demand equivalent {escape(fmt_micro(report.total.on_demand_micro))} {cur}, "
        f"savings {escape(fmt_micro(report.total.savings_micro))} {cur}.</p>\n"
        f"<table>\n<thead><tr>{thead}</tr></thead>\n<tbody>\n{body}\n</tbody>\n"
        f"<tfoot>{foot}</tfoot>\n</table>\n"
        f"<h2>Daily spend (UTC)</h2>\n{_chart(report)}\n{note_html}\n"
        "</body>\n</html>\n"
    )
