"""The dashboard's shape: no private Textual attribute anywhere in skytui/, and import layers hold."""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import textwrap
from pathlib import Path

SKYTUI = Path(__file__).resolve().parents[1] / "skytui"
TUI = SKYTUI / "tui"


def _private_names(tree: ast.AST) -> set[str]:
    """Underscore names a class body defines or reads on `self` (methods, attributes)."""
    names: set[str] = set()
    for item in ast.walk(tree):
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _private(item.name):
            names.add(item.name)
        elif isinstance(item, ast.Attribute) and _private(item.attr) and isinstance(item.value, ast.Name) \
                and item.value.id == "self":
            names.add(item.attr)
    return names


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _class_tree(cls: type) -> ast.ClassDef:
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    node = tree.body[0]
    assert isinstance(node, ast.ClassDef)
    return node


@functools.cache
def _textual_private(cls: type) -> frozenset[str]:
    return frozenset(_private_names(_class_tree(cls)))


def _textual_everything() -> set[str]:
    import textual

    names: set[str] = set()
    for path in Path(textual.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                names |= _private_names(node)
    return names


def _skytui_tui_modules() -> list[str]:
    return sorted(".".join(p.relative_to(SKYTUI.parent).with_suffix("").parts) for p in TUI.rglob("*.py"))


def private_textual_uses() -> list[str]:
    """Our classes derived from Textual's: underscore names they share with a Textual base (an override
    or a read of its state). Anywhere in skytui/: `x._name` on something not `self`/`cls` that names a
    private attribute of some Textual class (`app._notifications`, `super()._render_cell`)."""
    problems = []
    for name in _skytui_tui_modules():
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if not isinstance(cls, type) or cls.__module__ != name:
                continue
            bases = [b for b in cls.__mro__ if b.__module__.split(".")[0] == "textual"]
            if not bases:
                continue
            theirs = set().union(*(_textual_private(b) for b in bases))
            for shared in sorted(_private_names(_class_tree(cls)) & theirs):
                problems.append(f"{name}.{cls.__qualname__}: {shared}")
    everything = _textual_everything()
    for path in sorted(SKYTUI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and _private(node.attr) and node.attr in everything:
                base = node.value
                if isinstance(base, ast.Name) and base.id in ("self", "cls", "os"):
                    continue
                problems.append(f"{path.relative_to(SKYTUI.parent)}:{node.lineno}: .{node.attr}")
    return problems


def test_no_private_textual_attribute_in_skytui() -> None:
    problems = private_textual_uses()
    assert not problems, "private Textual attributes used:\n" + "\n".join(problems)


def test_the_scan_finds_what_it_looks_for() -> None:
    """A scan that cannot fail is worth nothing: the old ResourceTable's overrides are caught."""
    from textual.widgets import DataTable

    theirs = _textual_private(DataTable)
    assert {"_render_cell", "_update_dimensions", "_update_count", "_new_rows"} <= theirs
    assert {"_exit_renderables", "_handle_exception", "_notifications"} <= _textual_everything()


# The import layers inside skytui/tui (app, dashboard, views, dialogs, services | widgets,
# messages) are an import-linter contract in pyproject.toml, run by .ci/run.


def test_no_mixins_left() -> None:
    from skytui.tui.app import SkytuiApp

    assert [c.__name__ for c in SkytuiApp.__mro__[:2]] == ["SkytuiApp", "App"]
