"""Every cost report format, declared once: the CLI, the Costs view and the export dialog read it.

Adding a format is one `Format(...)` line here (and its renderer in this package).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from skytui.core.costs.formats.data import to_csv, to_json
from skytui.core.costs.formats.focus import to_focus
from skytui.core.costs.formats.html import to_html
from skytui.core.costs.formats.text import to_markdown, to_table
from skytui.core.costs.report_model import Report


@dataclass(frozen=True)
class Format:
    name: str  # what `render(report, name)` takes
    flag: str  # what `skytui cost-report --format` takes
    label: str  # what a person reads in a menu
    suffix: str  # a file's extension, without the dot
    render: Callable[[Report], str]
    export: bool = True  # offered as a file to export (the table is for terminals)


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("table", "table", "Table", "txt", to_table, export=False),
    Format("csv", "csv", "CSV", "csv", to_csv),
    Format("json", "json", "JSON", "json", to_json),
    Format("markdown", "md", "Markdown table", "md", to_markdown),
    Format("html", "html", "HTML page with a daily chart", "html", to_html),
    Format("focus", "focus", "FinOps FOCUS 1.2 (CSV)", "focus.csv", to_focus),
)}
BY_FLAG: dict[str, Format] = {f.flag: f for f in FORMATS.values()}
