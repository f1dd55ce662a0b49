"""The Costs view's data: spend grouped by one dimension, daily spend, today/month and savings; no Textual."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from skytui.tui import model

if TYPE_CHECKING:
    from skytui.core.costs import Report, UsageInterval
    from skytui.core.costs.accounting import CostRow
    from skytui.store import Store

WINDOW_DAYS = 30
DAY_S = 86400.0
CURRENCY = "USD"
GROUPINGS = ("cluster", "job", "user", "region", "cloud", "gpu", "day")
GROUP_LABELS = {"cluster": "CLUSTER", "job": "JOB", "user": "USER", "region": "CLOUD/REGION",
                "cloud": "CLOUD", "gpu": "GPU", "day": "DAY (UTC)"}
TOTAL_KEY = "*total*"  # the pinned totals row; no group key looks like this


def export_formats() -> dict[str, tuple[str, str, str]]:
    """What the export dialog offers, from the one format registry: flag -> (label, format, suffix).

    Read when the dialog opens, not at import: the registry loads every renderer, which the
    dashboard's first frame does not need.
    """
    from skytui.core.costs.formats.registry import BY_FLAG

    return {f.flag: (f.label, f.name, f.suffix) for f in BY_FLAG.values() if f.export}


CHART_LEVELS = " ▁▂▃▄▅▆▇█"


def next_grouping(by: str) -> str:
    return GROUPINGS[(GROUPINGS.index(by) + 1) % len(GROUPINGS)] if by in GROUPINGS else GROUPINGS[0]


@dataclass(frozen=True)
class CostView:
    """Everything the Costs view shows for one grouping; built off the UI thread."""

    by: str
    rows: dict[str, model.Row]
    daily: tuple[tuple[str, float], ...] = ()  # (UTC day, USD), the last WINDOW_DAYS days, oldest first
    today: Decimal = Decimal(0)
    month: Decimal = Decimal(0)
    rate: float = 0.0  # USD per hour being spent now
    total: Decimal = Decimal(0)
    spot_savings: Decimal = Decimal(0)
    autostop_saved: Decimal = Decimal(0)
    autostop_disk: Decimal = Decimal(0)
    autostop_stops: int = 0
    estimate_sources: tuple[str, ...] = field(default_factory=tuple)
    problem: str = ""  # why there are no figures (cost accounting missing in this build)

    def title(self) -> str:
        estimate = (f" · estimates ({', '.join(self.estimate_sources)} prices)" if self.estimate_sources
                    else " · catalog list prices: an estimate, not an invoice")
        return (f"by {self.by} (g: next grouping, E: export) · last {WINDOW_DAYS} days · "
                f"amounts in {CURRENCY}{estimate}")

    def title_lines(self, width: int = 0) -> str:
        """The title laid out for `width`: broken between its parts, never inside one.

        Where it does not fit on a line, the key hint goes (the footer shows g and E) and the
        currency is said in one word.
        """
        parts = self.title().split(" · ")
        if width and len(" · ".join(parts)) > width:
            parts = [f"by {self.by}", parts[1], CURRENCY, *parts[3:]]
        return fit(parts, width)

    def figure_parts(self) -> list[str]:
        autostop = f"${self.autostop_saved:,.2f}"
        if self.autostop_disk:
            autostop += f" (disks still cost ${self.autostop_disk:,.2f})"
        return [f"today ${self.today:,.2f}", f"this month ${self.month:,.2f}", f"spending ${self.rate:,.2f}/h now",
                f"last {WINDOW_DAYS} days ${self.total:,.2f}", f"spot saved ${self.spot_savings:,.2f}",
                f"autostop saved {autostop} over {self.autostop_stops} stop(s)"]

    def figures(self, width: int = 0) -> str:
        """The figures, ` · ` between them, wrapped between figures (never inside one) to `width`."""
        return self.problem or fit(self.figure_parts(), width)

    def _bars(self, cell: int, height: int) -> list[str]:
        """The daily bars, `cell` columns a day, top line first."""
        values = [v for _, v in self.daily]
        top = max(values)
        steps = (len(CHART_LEVELS) - 1) * height
        heights = [round(v / top * steps) if top > 0 else 0 for v in values]
        heights = [max(h, 1) if v > 0 else h for h, v in zip(heights, values, strict=True)]  # any spend shows
        lines = []
        for level in range(height - 1, -1, -1):
            base = level * (len(CHART_LEVELS) - 1)
            lines.append("".join(CHART_LEVELS[min(max(h - base, 0), len(CHART_LEVELS) - 1)] * cell
                                 for h in heights))
        return lines

    def _top(self) -> float:
        return max(v for _, v in self.daily)

    def chart(self, height: int = 3, width: int = 0) -> str:
        """Daily spend as a small bar chart, two cells per day, with the scale and the days it spans.

        Narrow: one cell per day, and the scale and dates go on their own lines under the bars.
        """
        if not self.daily:
            return ""
        scale = f"daily spend, {CURRENCY} (top ${self._top():,.2f}/day)"
        span = f"{self.daily[0][0]} … {self.daily[-1][0]}"
        if self.wide_chart_fits(width):
            lines = self._bars(2, height)
            lines[0] += f"  {scale}"
            lines[-1] += f"  {span}"
            return "\n".join(lines)
        return "\n".join([*self._bars(1, height), fit([scale, span], width)])

    def wide_chart_fits(self, width: int) -> bool:
        """Two cells a day with the scale and dates beside the bars fit in `width` (0: any width)."""
        scale = f"daily spend, {CURRENCY} (top ${self._top():,.2f}/day)"
        return not width or len(self.daily) * 2 + 2 + max(len(scale), len(self.daily[0][0]) * 2 + 3) <= width

    def narrow_chart(self, height: int = 3) -> str:
        """One cell a day, the scale and the dates (without the year) under the bars, as wide as they."""
        span = f"{self.daily[0][0][5:]} … {self.daily[-1][0][5:]}"
        return "\n".join([*self._bars(1, height), fit([f"top ${self._top():,.2f}/day", span], len(self.daily))])

    def header(self, width: int) -> tuple[str, str, str, str]:
        """(title, figures, chart, beside the chart) laid out for `width` columns; "" is not shown.

        Wide: the figures on a line (or a few) over the chart, its scale and dates to its right.
        Narrower (a default 80-column terminal): one cell a day with the scale and dates under the
        bars, and the figures beside the chart, so the table keeps the lines. Narrower still: the
        figures wrapped over that chart. `width` counts the columns inside the hints' padding.
        """
        title = self.title_lines(width)
        if self.problem or not self.daily or self.wide_chart_fits(width):
            return title, self.figures(width), self.chart(width=width), ""
        beside = width - len(self.daily) - CHART_GAP
        if beside >= CHART_BESIDE_MIN:
            return title, "", self.narrow_chart(), fit(self.figure_parts(), beside)
        return title, self.figures(width), self.narrow_chart(), ""


CHART_GAP = 2  # columns between the chart and the figures beside it (the two widgets' padding)
CHART_BESIDE_MIN = 24  # columns: narrower than this, the figures go over the chart


def fit(parts: list[str], width: int, sep: str = " · ") -> str:
    """Join `parts` with `sep`, starting a new line where the next part would pass `width` (0: one line)."""
    if not width:
        return sep.join(parts)
    lines: list[str] = []
    line = ""
    for part in parts:
        if line and len(line) + len(sep) + len(part) > width:
            lines.append(line)
            line = part
        else:
            line = f"{line}{sep}{part}" if line else part
    lines.append(line)
    return "\n".join(lines)


def intervals_for(store: Store, now: float) -> list[UsageInterval]:
    """Intervals the view needs: the last WINDOW_DAYS days and the whole current month."""
    from skytui.core.costs.from_store import intervals
    from skytui.core.costs.units import month_bounds_ms, to_ms

    month_start = month_bounds_ms(to_ms(now))[0] / 1000
    return intervals(store, since=min(now - WINDOW_DAYS * DAY_S, month_start))


def load_costs(store: Store, now: float, by: str) -> CostView:
    """Spend of the last WINDOW_DAYS days grouped `by`, with the figures above the table.

    The store's per-day sums give the whole days; the few intervals around the window's start,
    the open ones and those of nodes that autostopped are priced by the core (skytui.tui.costs_sql).
    """
    try:
        from skytui.core.costs import autostop_savings
        from skytui.core.costs.accounting import sum_rows
        from skytui.tui import costs_sql
    except ImportError:
        return CostView(by, {}, problem="cost accounting is not installed in this build")
    from skytui.core.costs.units import day_of, micro_to_decimal, month_bounds_ms, to_ms

    since = now - WINDOW_DAYS * DAY_S
    sums = costs_sql.window_sums(store, since, now, {by, "day"})
    daily = {day: g.amounts[2] for day, g in sums["day"].items()}
    rows = [g.cost_row(key) for key, g in sums[by].items()]
    rows.sort(key=(lambda r: r.key) if by == "day" else (lambda r: (-r.cost_micro, r.key)))
    total = sum_rows(rows)
    month_start = month_bounds_ms(to_ms(now))[0]
    today = micro_to_decimal(daily.get(day_of(to_ms(now)), 0))
    if month_start >= to_ms(since):  # the month's days are days of the window
        first = day_of(month_start)
        month = micro_to_decimal(sum(v for d, v in daily.items() if d >= first))
    else:  # the 31st: the month began before the window
        month_days = costs_sql.window_sums(store, month_start / 1000, now, {"day"})["day"]
        month = micro_to_decimal(sum(g.amounts[2] for g in month_days.values()))
    saved = autostop_savings(autostopped_intervals(store, now), now=now, since=since)
    return CostView(
        by, report_rows_of(rows, total), daily=last_days(daily, now), today=today, month=month,
        rate=costs_sql.open_spend_micro(store, now) / 1e6,
        total=total.cost, spot_savings=total.savings, autostop_saved=saved.saved,
        autostop_disk=saved.disk_cost, autostop_stops=saved.stops,
        estimate_sources=tuple(sorted(s for s in total.estimate_sources if "estimate" in s)))


def autostopped_intervals(store: Store, now: float) -> list[UsageInterval]:
    """What intervals_for reads, of nodes that ever autostopped only (all the savings need)."""
    from skytui.core.costs.from_store import COLUMNS
    from skytui.core.costs.model import UsageInterval
    from skytui.core.costs.units import month_bounds_ms, to_ms
    from skytui.tui.costs_sql import autostop_nodes_clause

    since = min(now - WINDOW_DAYS * DAY_S, month_bounds_ms(to_ms(now))[0] / 1000)
    spot = COLUMNS.index("spot")
    cur = store.db.conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM usage_intervals WHERE (ended_at IS NULL OR ended_at > ?)"
        f" AND {autostop_nodes_clause()} ORDER BY id", (since,))
    return [UsageInterval.trusted((*r[:spot], r[spot] == 1, *r[spot + 1:])) for r in cur]


def report_rows_of(rows: list[CostRow], total: CostRow) -> dict[str, model.Row]:
    """One row per group, then the totals row (pinned last whatever the sort)."""
    out: dict[str, model.Row] = {}
    for c in rows:
        out[c.key] = _row(c.key, c.key, c)
    out[TOTAL_KEY] = _row(TOTAL_KEY, f"TOTAL ({len(rows)})", total, pinned=True)
    return out


def report_rows(report: Report) -> dict[str, model.Row]:
    """One row per group, then the totals row (pinned last whatever the sort)."""
    rows: dict[str, model.Row] = {}
    for c in report.rows:
        rows[c.key] = _row(c.key, c.key, c)
    rows[TOTAL_KEY] = _row(TOTAL_KEY, f"TOTAL ({len(report.rows)})", report.total, pinned=True)
    return rows


def _row(key: str, label: str, c: object, pinned: bool = False) -> model.Row:
    from skytui.core.costs.accounting import CostRow

    assert isinstance(c, CostRow)
    prices = "estimate" if c.estimate else "catalog"
    cells = (label, f"{c.hours:,.2f}", f"{c.gpu_hours_micro / 1e6:,.2f}", f"{c.cost:,.2f}",
             f"{c.on_demand_cost:,.2f}", f"{c.savings:,.2f}", prices)
    sort = (c.key, c.hours_micro, c.gpu_hours_micro, c.cost_micro, c.on_demand_micro, c.savings_micro, prices)
    return model.Row(key, cells, sort, pinned=pinned)


def last_days(daily_micro: dict[str, int], now: float) -> tuple[tuple[str, float], ...]:
    """Every UTC day of the window ending today, zero where nothing ran."""
    from skytui.core.costs.units import MS_PER_DAY, day_of, day_start_ms, to_ms

    today = day_start_ms(to_ms(now))
    days = [day_of(today - MS_PER_DAY * i) for i in range(WINDOW_DAYS - 1, -1, -1)]
    return tuple((d, daily_micro.get(d, 0) / 1e6) for d in days)


def default_export_path(cwd: Path, choice: str, now: float) -> Path:
    """`./skytui-costs-YYYYMMDD.<ext>` in the working directory (the local date)."""
    return cwd / f"skytui-costs-{time.strftime('%Y%m%d', time.localtime(now))}.{export_formats()[choice][2]}"


def write_export(store: Store, now: float, by: str, choice: str, path: Path) -> Path:
    """Build the report the view shows and write it in the chosen format; raises SkytuiError."""
    from skytui.core.costs import build_report, write_report

    report = build_report(intervals_for(store, now), since=now - WINDOW_DAYS * DAY_S, by=by, now=now)
    write_report(report, export_formats()[choice][1], path)
    return path
