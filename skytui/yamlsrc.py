"""YAML as plain data plus a position for every dotted path, so errors can say FILE:LINE:COL.

Parsing (limits, duplicate keys, aliases, tags) is the task loader's composer; this adapts
its nodes for readers such as the config that validate plain dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from skytui.errors import SpecError
from skytui.task.yamlnodes import MAX_NODES, Node, compose

# Readers of plain data get every alias expanded; the task loader shares alias nodes instead.
# Expansion is capped like the task loader's node count, so an alias nest costs nothing.
MAX_EXPANDED = MAX_NODES


@dataclass
class Source:
    """Plain Python data plus where each dotted path starts in the file."""

    data: Any
    file: str
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: str) -> tuple[int, int]:
        while path:
            if path in self.positions:
                return self.positions[path]
            # "clouds[0]" of `clouds: aws` (one name for a list) is where `clouds` is.
            path = path.rpartition("[")[0] if path.endswith("]") else path.rpartition(".")[0]
        return self.positions.get("", (1, 1))

    def error(self, cls: type[SpecError], path: str, problem: str, fix: str | None = None) -> SpecError:
        line, col = self.where(path)
        return cls(problem, fix, file=self.file, line=line, col=col, field=path)


def load(text: str, file: str, cls: type[SpecError]) -> Source:
    """Parse `text`; every failure is a `cls` error with a position."""
    src = Source(None, file, {"": (1, 1)})
    node = compose(text, file, cls)
    if node is not None:
        budget = [MAX_EXPANDED]
        try:
            src.data = _plain(node, "", src.positions, budget)
        except _TooBig as big:
            raise cls(f"aliases expand to more than {MAX_EXPANDED} values", "write the values out, or "
                      "use fewer nested aliases", file=file, line=big.line, col=big.col) from None
    return src


class _TooBig(Exception):
    def __init__(self, line: int, col: int) -> None:
        self.line, self.col = line, col


def _plain(node: Node, path: str, positions: dict[str, tuple[int, int]], budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig(node.line, node.col)
    positions.setdefault(path, (node.line, node.col))
    if node.kind == "map":
        out = {}
        for key, child in node.value.items():
            sub = f"{path}.{key}" if path else str(key)
            key_node = node.keys.get(key)
            positions[sub] = (key_node.line, key_node.col) if key_node else (child.line, child.col)
            out[key] = _plain(child, sub, positions, budget)
        return out
    if node.kind == "seq":
        return [_plain(child, f"{path}[{i}]", positions, budget) for i, child in enumerate(node.value)]
    return node.value
