"""The Costs view: spend grouped by one dimension (g cycles it), daily spend, and the report export (E)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import events
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Static

from skytui.tui import costs, messages, model
from skytui.tui.actions import COSTS
from skytui.tui.loader import Snapshot
from skytui.tui.views.base import DashboardContext, TableView

PADDING = 2  # the hints' left and right padding


class CostsView(TableView):
    VIEW = COSTS
    COLUMNS = model.COST_COLUMNS
    SORT_COLUMN = 3
    REVERSE = True
    # The chart keeps its own width; the figures beside it (narrow terminals) take the rest.
    DEFAULT_CSS = """
    CostsView #cost-band {
        height: auto;
    }
    CostsView #cost-chart {
        width: auto;
    }
    CostsView #cost-beside {
        width: 1fr;
    }
    """

    def __init__(self, ctx: DashboardContext) -> None:
        super().__init__(ctx)
        self.cost_by = "cluster"
        self.cost_view: costs.CostView | None = None
        # The chart, and at narrow widths the figures beside it (costs.CostView.header).
        self.chart = Static("", id="cost-chart", markup=False)
        self.beside = Static("", id="cost-beside", classes="hint", markup=False)

    def above(self) -> Iterable[Widget]:
        yield Static("", id="cost-title", classes="hint", markup=False)
        yield Static("", id="cost-figures", classes="hint", markup=False)
        yield Horizontal(self.chart, self.beside, id="cost-band")

    def show(self, rows: dict[str, model.Row], snap: Snapshot) -> None:
        if snap.cost_view is None or snap.cost_view.by != self.cost_by:
            return  # loaded for the grouping before the last `g`: the next load has ours
        self.cost_view = snap.cost_view
        super().show(rows, snap)

    def show_extras(self, snap: Snapshot) -> None:
        self.lay_out_header()

    def lay_out_header(self) -> None:
        """The title, figures and chart above the table, laid out for the width the view has."""
        cv = self.cost_view
        if cv is None or not self.hints:
            return
        width = max(self.size.width - PADDING, 0)
        self.table.relabel(0, costs.GROUP_LABELS[cv.by])
        texts = cv.header(width)
        for widget, text in zip((self.hints["cost-title"], self.hints["cost-figures"], self.chart, self.beside),
                                texts, strict=True):
            widget.update(text)
            widget.display = bool(text)

    def on_mount(self) -> None:
        self.lay_out_header()

    def on_resize(self, _event: events.Resize) -> None:
        self.lay_out_header()

    def action_cost_grouping(self) -> None:
        self.cost_by = costs.next_grouping(self.cost_by)
        table = self.table
        # Days read best in calendar order; every other grouping by cost, highest first.
        table.sort_column, table.reverse = (0, False) if self.cost_by == "day" else (3, True)
        self.say(f"costs grouped by {self.cost_by}")
        self.post_message(messages.CostGrouping(self.cost_by))

    def action_export_costs(self) -> None:
        from skytui.tui.screens.export import ExportRequest, ExportScreen

        by = self.cost_by

        def go(req: ExportRequest | None) -> None:
            if req is not None:
                self.say(f"writing the cost report to {req.path}…", "busy")
                self.export(req.choice, req.path, by)

        self.app.push_screen(ExportScreen(self.ctx.cwd, self.ctx.clock(), by), go)

    def export(self, choice: str, path: Path, by: str) -> None:
        """Written in a thread, run as a core operation: the screen says how it went."""
        import asyncio

        from skytui.store import Store

        clock = self.ctx.clock
        db_path = self.core.store.db.path

        def write() -> None:
            store = Store(db_path, clock)  # this thread's own connection
            try:
                costs.write_export(store, clock(), by, choice, path)
            finally:
                store.close()

        self.run_core("cost report", lambda: asyncio.to_thread(write),
                      f"cost report ({choice}, by {by}) written to {path}")
