"""A table that takes whole snapshots and redraws only what changed, keeping cursor and scroll.

Built on Textual's public Line API (a ScrollView whose `render_line` returns Strips), not on
DataTable: our cells are one line of text each, held as strings, so widths are `cell_len`
sums and a frame draws only the lines on screen, whether the table holds 10 rows or 10,000.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from skytui.tui.model import Column, Row, arrange

GAP = 2  # cells between columns (one each side, as DataTable pads)


class ResourceTable(ScrollView, can_focus=True):
    """Rows keyed by identity (cluster name, job id); sorted, filtered and diffed on each snapshot.

    Columns carry a priority: while `wide` is off and the columns do not fit the width,
    the lowest-priority ones are left out (k9s keeps a `wide` toggle for them).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "resource-table--header", "resource-table--cursor", "resource-table--even", "resource-table--odd",
    }
    DEFAULT_CSS = """
    ResourceTable {
        background: $surface;
        color: $foreground;
        & > .resource-table--header { background: $panel; color: $foreground; text-style: bold; }
        & > .resource-table--cursor { background: $block-cursor-blurred-background; text-style: bold; }
        &:focus > .resource-table--cursor { background: $block-cursor-background;
                                            color: $block-cursor-foreground; text-style: bold; }
        & > .resource-table--even { background: $surface; }
        & > .resource-table--odd { background: $surface-lighten-1; }
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True)
    wide: reactive[bool] = reactive(False)

    class HeaderSelected(Message):
        """A header was clicked: sort by that column (its index in the table's spec)."""

        def __init__(self, table: ResourceTable, column_index: int) -> None:
            super().__init__()
            self.table, self.column_index = table, column_index

        @property
        def control(self) -> ResourceTable:
            return self.table

    def __init__(self, columns: tuple[Column, ...], *, sort_column: int | None = 0, reverse: bool = False,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.spec = columns
        self.rows_by_key: dict[str, Row] = {}
        self.pattern = ""
        self.sort_column = sort_column
        self.reverse = reverse
        self.rebuilds = 0  # how often the order changed beyond rows coming and going at the end
        self._order: list[Row] = []
        self._index: dict[str, int] = {}
        self._widths = [cell_len(c.label) for c in columns]
        self._tones: dict[str, Style] = {}

    # -- what callers use ------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def selected_key(self) -> str | None:
        if not (0 <= self.cursor_row < len(self._order)):
            return None
        return self._order[self.cursor_row].key

    @property
    def shown_keys(self) -> list[str]:
        return [r.key for r in self._order]

    def show(self, rows: Mapping[str, Row]) -> None:
        self.rows_by_key = dict(rows)
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
        if column.label != label:
            self.spec = (*self.spec[:index], replace(column, label=label), *self.spec[index + 1:])
            self._measure()
            self.refresh()

    def restyle(self) -> None:
        """Theme colours changed: forget the tone styles, draw again."""
        self._tones.clear()
        self.refresh()

    def cell_text(self, key: str, column: str) -> str:
        index = [c.key for c in self.spec].index(column)
        return self.rows_by_key[key].cells[index]

    def column_width(self, key: str) -> int:
        """Cells the column's text takes (its widest cell or its header)."""
        return self._widths[[c.key for c in self.spec].index(key)]

    def get_row_index(self, key: str) -> int:
        return self._index[key]

    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        self.cursor_row = row
        if scroll:
            self._scroll_to_cursor()

    # -- the diff ------------------------------------------------------------------------
    def _apply(self) -> None:
        shown = arrange(self.rows_by_key, pattern=self.pattern, sort_column=self.sort_column,
                        reverse=self.reverse, columns=self.spec)
        old = self._order
        if len(shown) == len(old) and all(a is b or a == b for a, b in zip(shown, old, strict=True)):
            return  # nothing to draw
        selected = self.selected_key
        old_keys = [r.key for r in old]
        new_keys = [r.key for r in shown]
        present = set(new_keys)
        kept = [k for k in old_keys if k in present]
        if kept != new_keys[:len(kept)]:
            self.rebuilds += 1  # the order moved: every line may differ
        widths_before = list(self._widths)
        for r in shown:
            for i, text in enumerate(r.cells):
                self._widths[i] = max(self._widths[i], cell_len(text))
        self._order = shown
        self._index = {k: i for i, k in enumerate(new_keys)}
        self.virtual_size = Size(self._total_width(), len(shown) + 1)
        if selected in self._index:
            self.cursor_row = self._index[selected]
        elif shown:
            self.cursor_row = min(self.cursor_row, len(shown) - 1)
        if new_keys == old_keys and widths_before == self._widths:
            # Same rows in the same places: redraw only the lines whose cells changed.
            top = int(self.scroll_y)
            for i, (a, b) in enumerate(zip(old, shown, strict=True)):
                if a != b and top <= i < top + self.size.height:
                    self.refresh_line(i - top + 1)
            return
        self.refresh()

    def _measure(self) -> None:
        widths = [cell_len(c.label) for c in self.spec]
        for r in self._order:
            for i, text in enumerate(r.cells):
                widths[i] = max(widths[i], cell_len(text))
        self._widths = widths
        self.virtual_size = Size(self._total_width(), len(self._order) + 1)

    # -- layout ------------------------------------------------------------------------------
    def shown_columns(self) -> list[int]:
        """Indexes of the columns drawn at this width: low-priority ones go first when narrow."""
        every = list(range(len(self.spec)))
        if self.wide or not self.size.width:
            return every
        room = self.size.width
        drop = sorted((i for i in every if self.spec[i].priority > 0),
                      key=lambda i: (-self.spec[i].priority, -i))
        shown = set(every)
        for i in drop:
            if sum(self._widths[j] + GAP for j in shown) <= room:
                break
            shown.discard(i)
        return [i for i in every if i in shown]

    def _total_width(self) -> int:
        return sum(self._widths[i] + GAP for i in self.shown_columns())

    def watch_wide(self) -> None:
        self.virtual_size = Size(self._total_width(), len(self._order) + 1)
        self.refresh()

    def on_resize(self, _event: events.Resize) -> None:
        self.virtual_size = Size(self._total_width(), len(self._order) + 1)

    # -- drawing ---------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        columns = self.shown_columns()
        if y == 0:
            base = self.get_component_rich_style("resource-table--header")
            line = self._line([self.spec[i].label for i in columns], columns, base, None)
        else:
            index = scroll_y + y - 1
            if index >= len(self._order):
                return Strip.blank(width, self.rich_style)
            row = self._order[index]
            name = ("resource-table--cursor" if index == self.cursor_row
                    else "resource-table--odd" if index % 2 else "resource-table--even")
            base = self.get_component_rich_style(name)
            if row.pinned:
                base += Style(bold=True)
            line = self._line([row.cells[i] for i in columns], columns, base, row)
        return line.crop_extend(scroll_x, scroll_x + width, base)

    def _line(self, texts: list[str], columns: list[int], base: Style, row: Row | None) -> Strip:
        segments: list[Segment] = []
        for text, i in zip(texts, columns, strict=True):
            style = base
            tone_of = self.spec[i].tone
            if row is not None and tone_of is not None:
                tone = tone_of(text)
                if tone:
                    style = base + self._tone(tone)
            segments.append(Segment(" ", base))
            segments.append(Segment(set_cell_size(text, self._widths[i]), style))
            segments.append(Segment(" ", base))
        return Strip(segments, sum(self._widths[i] + GAP for i in columns))

    def _tone(self, tone: str) -> Style:
        style = self._tones.get(tone)
        if style is None:
            colour = self.app.theme_variables.get(tone)
            style = self._tones[tone] = Style.parse(f"bold {colour}") if colour else Style()
        return style

    # -- the cursor and the mouse ---------------------------------------------------------------
    def watch_cursor_row(self, old: int, new: int) -> None:
        top = int(self.scroll_y)
        for index in (old, new):
            if top <= index < top + self.size.height:
                self.refresh_line(index - top + 1)

    def _scroll_to_cursor(self) -> None:
        rows_on_screen = max(self.size.height - 1, 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + rows_on_screen:
            self.scroll_to(y=self.cursor_row - rows_on_screen + 1, animate=False)

    def action_cursor(self, step: int) -> None:
        if self._order:
            self.move_cursor(row=min(max(self.cursor_row + step, 0), len(self._order) - 1))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(self.size.height - 2, 1))

    def action_edge(self, end: int) -> None:
        if self._order:
            self.move_cursor(row=len(self._order) - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = offset.x + int(self.scroll_x)
            for i in self.shown_columns():
                x -= self._widths[i] + GAP
                if x < 0:
                    self.post_message(self.HeaderSelected(self, i))
                    return
            return
        index = int(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self._order):
            self.move_cursor(row=index)
