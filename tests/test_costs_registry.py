"""One registry of cost formats feeds the CLI; the report's modules import one way only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from skytui.core.costs import FORMATS, render
from skytui.core.costs.formats.registry import BY_FLAG

COSTS = Path(__file__).resolve().parent.parent / "skytui" / "core" / "costs"


def test_the_cli_flags_and_names_are_unchanged() -> None:
    # Scripts pass these to `skytui cost-report --format`; the dashboard passes the names.
    assert list(BY_FLAG) == ["table", "csv", "json", "md", "html", "focus"]
    assert list(FORMATS) == ["table", "csv", "json", "markdown", "html", "focus"]
    assert all(f.label and f.suffix and not f.suffix.startswith(".") for f in FORMATS.values())
    assert [f.name for f in FORMATS.values() if not f.export] == ["table"]


def test_the_parser_takes_its_choices_from_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    from skytui.cli.main import build_parser

    args = build_parser().parse_args(["cost-report", "--format", "md"])
    assert BY_FLAG[args.format].name == "markdown"
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(["cost-report", "--format", "markdown"])
    assert done.value.code == 2
    assert "choose from 'table', 'csv', 'json', 'md', 'html', 'focus'" in capsys.readouterr().err


def test_building_the_parser_loads_no_cost_module() -> None:
    import subprocess

    code = ("import sys\nfrom skytui.cli.main import build_parser\nbuild_parser()\n"
            "print(sorted(m for m in sys.modules if m.startswith('skytui.core.costs')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_render_goes_through_the_registry() -> None:
    from test_costs_formats import demo_report

    report = demo_report()
    for name, f in FORMATS.items():
        assert render(report, name) == f.render(report)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("skytui.core.costs."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("skytui.core.costs."))
    return found


def test_no_circle_among_the_cost_modules() -> None:
    # Every import counts, also under TYPE_CHECKING or inside a function.
    mods = {"skytui.core.costs." + ".".join(p.relative_to(COSTS).with_suffix("").parts): p
            for p in COSTS.rglob("*.py") if p.name != "__init__.py"}
    assert "skytui.core.costs.report" in mods and "skytui.core.costs.formats.text" in mods
    graph = {m: _imports(p) & set(mods) for m, p in mods.items()}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for nxt in sorted(graph[m]):
            assert state.get(nxt) != 1, "import circle: " + " -> ".join([*path, m, nxt])
            if nxt not in state:
                visit(nxt, [*path, m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert "skytui.core.costs.report" not in set().union(*(graph[m] for m in graph if ".formats." in m))
