"""A DataTable that takes whole snapshots and changes only what changed, keeping cursor and scroll."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from skytui.tui.model import Column, Row, arrange

FIRST_ROWS_MARGIN = 20  # rows beyond the terminal's height in an empty table's first fill


class ResourceTable(DataTable[Text]):
    """Rows keyed by identity (cluster name, job id); sorted, filtered and diffed on each snapshot."""

    def __init__(self, columns: tuple[Column, ...], *, sort_column: int | None = 0, reverse: bool = False,
                 id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cursor_foreground_priority="renderable")
        self.spec = columns
        self.rows_by_key: dict[str, Row] = {}
        self.pattern = ""
        self.sort_column = sort_column
        self.reverse = reverse
        self._order: list[str] = []
        self._cells: dict[str, tuple[str, ...]] = {}
        self.rebuilds = 0  # how often the whole table was redrawn (tests check the diff path)

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        # Also called by the first show(): the app may fill the table before its Mount.
        if not self.columns:
            for c in self.spec:
                self.add_column(Text(c.label), key=c.key)

    # -- what callers use ------------------------------------------------------------------
    def show(self, rows: Mapping[str, Row]) -> None:
        self._add_columns()
        self.rows_by_key = dict(rows)
        first = self.app.size.height + FIRST_ROWS_MARGIN
        if not self._order and len(self.rows_by_key) > first:
            # An empty table fills a screenful first, so the first frame with data does not wait
            # for 1,000 rows; the rest are appended after that frame (appending is no redraw).
            self._apply(limit=first)
            self.call_after_refresh(self._apply)
            return
        self._apply()

    def set_filter(self, pattern: str) -> None:
        self.pattern = pattern
        self._apply()

    def sort_by(self, column: int, reverse: bool | None = None) -> None:
        if reverse is None:
            reverse = not self.reverse if column == self.sort_column else False
        self.sort_column, self.reverse = column, reverse
        self._apply()

    def relabel(self, index: int, label: str) -> None:
        """Rename a column (the Costs view's first one names its grouping)."""
        column = self.spec[index]
        if column.label == label:
            return
        self.spec = (*self.spec[:index], replace(column, label=label), *self.spec[index + 1:])
        shown = self.columns[column.key]  # type: ignore[index]
        shown.label = Text(label)
        shown.content_width = max(shown.content_width, cell_len(label))
        self._update_count += 1  # the header's cached render must go
        self._require_update_dimensions = True
        self.refresh()

    def restyle(self) -> None:
        """Theme colours changed: redraw every cell with the new ones."""
        self._rebuild(arrange(self.rows_by_key, pattern=self.pattern, sort_column=self.sort_column,
                              reverse=self.reverse, columns=self.spec))

    @property
    def selected_key(self) -> str | None:
        if not self._order or not (0 <= self.cursor_row < len(self._order)):
            return None
        return self._order[self.cursor_row]

    @property
    def shown_keys(self) -> list[str]:
        return list(self._order)

    def cell_text(self, key: str, column: str) -> str:
        index = [c.key for c in self.spec].index(column)
        return self._cells[key][index]

    # -- the diff ------------------------------------------------------------------------
    def _apply(self, limit: int | None = None) -> None:
        shown = arrange(self.rows_by_key, pattern=self.pattern, sort_column=self.sort_column,
                        reverse=self.reverse, columns=self.spec)[:limit]
        order = [r.key for r in shown]
        if order == self._order:
            self._update_cells(shown)
            return
        present = set(order)
        kept = [k for k in self._order if k in present]
        known = set(self._order)
        added = [r for r in shown if r.key not in known]
        # Rows that only come and go at the end (new jobs, new events) avoid a full redraw.
        if kept + [r.key for r in added] != order:
            self._rebuild(shown)
            return
        selected = self.selected_key
        with self.app.batch_update():
            for key in known - present:
                self.remove_row(key)
                del self._cells[key]
            self._update_cells([self.rows_by_key[k] for k in kept])
            for r in added:
                self._add(r)
            self._measure_now()
            self._order = order
            self._restore_cursor(selected)

    def _update_cells(self, rows: Iterable[Row]) -> None:
        columns = self.columns
        for r in rows:
            old = self._cells[r.key]
            if old == r.cells:
                continue
            for i, (a, b) in enumerate(zip(old, r.cells)):
                if a != b:
                    col = self.spec[i].key
                    wider = cell_len(b) > columns[col].content_width  # type: ignore[index]
                    self.update_cell(r.key, col, self._styled(i, b, r.pinned), update_width=wider)
            self._cells[r.key] = r.cells

    def _rebuild(self, shown: list[Row]) -> None:
        self.rebuilds += 1
        selected, index, scroll_y = self.selected_key, self.cursor_row, self.scroll_y
        with self.app.batch_update():
            self.clear()
            self._cells.clear()
            for r in shown:
                self._add(r)
            self._measure_now()
            self._order = [r.key for r in shown]
            if not self._restore_cursor(selected) and self._order:
                self.move_cursor(row=min(index, len(self._order) - 1), scroll=False)
            # The new height is known only after the next layout; scroll back once it is.
            self.call_after_refresh(self.scroll_to, y=scroll_y, animate=False)

    def _add(self, r: Row) -> None:
        self._cells[r.key] = r.cells
        self.add_row(*(self._styled(i, v, r.pinned) for i, v in enumerate(r.cells)), key=r.key)

    def _restore_cursor(self, key: str | None) -> bool:
        if key is None or key not in self._cells:
            return False
        self.move_cursor(row=self.get_row_index(key), scroll=False)
        return True

    def _styled(self, index: int, value: str, bold: bool = False) -> Text:
        tone_of = self.spec[index].tone
        tone = tone_of(value) if tone_of else None
        if tone:
            colour = self.app.theme_variables.get(tone)
            if colour:
                return Text(value, style=f"bold {colour}")
        return Text(value, style="bold" if bold else "")

    def _measure_now(self) -> None:
        """Size the columns for the rows just added before the next frame, not on idle.

        DataTable measures on idle, and a frame can come first: it would cut every cell
        to the header's width. Our measuring is cheap (see `_update_dimensions`).
        """
        if self._require_update_dimensions:
            self._require_update_dimensions = False
            new_rows, self._new_rows = self._new_rows, set()
            self._update_dimensions(new_rows)

    def _render_cell(
        self, row_index: int, column_index: int, base_style: Style, width: int, cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """Our cells are one line of text in one style: draw them without Rich's general path.

        DataTable renders each cell through Styled(Padding(Text)); for a screenful of rows
        that was most of the first frame. The segments here carry the same styles (the
        snapshot tests compare them); anything else goes to DataTable's own path.
        """
        if row_index < 0 or column_index < 0:  # the header row and row labels
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cache_key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor, self._update_count,
                     self._pseudo_class_state)
        lines: list[list[Segment]] | None = self._cell_render_cache.get(cache_key)
        if lines is not None:
            return lines
        cell = self._get_row_renderables(row_index)[1][column_index]
        pad = self.cell_padding
        room = width - 2 * pad
        if (not isinstance(cell, Text) or cell.spans or "\n" in cell.plain or cell_len(cell.plain) > room
                or self.rows[row_key].height != 1):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, fixed, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        blank = pre + post_style
        text_style = pre + self.app.console.get_style(cell.style, default=Style.null()) + post_style
        text = cell.plain
        lines = [[Segment(" " * pad, blank), Segment(text, text_style),
                  Segment(" " * (room - cell_len(text) + pad), blank)]]
        self._cell_render_cache[cache_key] = lines
        return lines

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # Our cells are one line of text we already hold as strings: measuring them with
        # cell_len is ~50x cheaper than rendering each through Rich, which 10,000 rows need.
        ordered = self.ordered_columns
        for row_key in new_rows:
            cells = self._cells.get(row_key.value or "")
            if cells is None:
                continue
            for column, text in zip(ordered, cells):
                width = cell_len(text)
                column.content_width = max(column.content_width, width)
        super()._update_dimensions(())
