"""The watcher's modules import each other one way only: no circle, hidden or not.

Every import counts, also those inside functions or under TYPE_CHECKING: a circle hidden in
a function is still a circle to the reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "skytui" / "core" / "watcher"
PREFIX = "skytui.core.watcher."


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "skytui.core.watcher":  # `from skytui.core.watcher import autostop`
                found.update(PREFIX + a.name for a in node.names if (PACKAGE / f"{a.name}.py").exists())
            elif node.module.startswith(PREFIX):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(PREFIX))
    return found


def graph() -> dict[str, set[str]]:
    return {PREFIX + p.stem: imports_of(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}


def test_no_circle_among_watcher_modules() -> None:
    g = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for nxt in sorted(g.get(m, ())):
            assert state.get(nxt) != 1, "import circle: " + " -> ".join([*path, m, nxt])
            if nxt not in state:
                visit(nxt, [*path, m])
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m, [])


def test_the_loop_is_imported_by_no_watcher_module() -> None:
    g = graph()
    assert "skytui.core.watcher.loop" in g
    assert [m for m, deps in g.items() if "skytui.core.watcher.loop" in deps] == []
    # The decisions import nothing of the watcher's machinery (pure functions).
    assert g["skytui.core.watcher.policy"] == set()


def test_the_check_sees_a_hidden_circle(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("def go():\n    from skytui.core.watcher.loop import Watcher\n")
    assert imports_of(f) == {"skytui.core.watcher.loop"}
