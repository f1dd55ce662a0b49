"""YAML read with positions, so every error can say FILE:LINE:COL; duplicates and aliases refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from skytui.errors import SpecError

MAX_BYTES = 1_000_000
MAX_DEPTH = 50


@dataclass
class Source:
    """Plain Python data plus where each dotted path starts in the file."""

    data: Any
    file: str
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set, repr=False)

    def where(self, path: str) -> tuple[int, int]:
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path.rpartition(".")[0]
        return self.positions.get("", (1, 1))

    def error(self, cls: type[SpecError], path: str, problem: str, fix: str | None = None) -> SpecError:
        line, col = self.where(path)
        return cls(problem, fix, file=self.file, line=line, col=col, field=path)


def _scalar(node: yaml.ScalarNode) -> Any:
    # Resolve with SafeLoader's rules (ints, floats, bools, null) without building a loader.
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def load(text: str, file: str, cls: type[SpecError]) -> Source:
    """Parse `text`; every failure is a `cls` error with a position."""
    if len(text) > MAX_BYTES:
        raise cls(f"file is {len(text)} bytes; over the {MAX_BYTES} byte limit", "is this the right file?",
                  file=file)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise cls(f"not valid YAML: {exc.problem or exc.context}", "check the indentation and quoting",
                  file=file, line=line, col=col) from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise cls(f"not valid YAML: {exc}", "check the file", file=file) from None
    src = Source(None, file, {"": (1, 1)})
    if node is None:
        return src
    src.data = _walk(node, "", src, cls, 0)
    return src


def _walk(node: yaml.Node, path: str, src: Source, cls: type[SpecError], depth: int) -> Any:
    src.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if depth > MAX_DEPTH:
        raise src.error(cls, path, f"nested more than {MAX_DEPTH} levels deep", "flatten it")
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        # compose() shares the node an alias points to: seeing one twice means an alias,
        # and expanding aliases is how "billion laughs" files explode.
        if id(node) in src.seen:
            raise src.error(cls, path, "YAML aliases (*name) are not supported", "write the value out")
        src.seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise src.error(cls, path, "a key must be a plain name", "remove the nested key")
            key = _scalar(key_node)
            sub = f"{path}.{key}" if path else str(key)
            src.positions[sub] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in out:
                raise src.error(cls, sub, f"duplicate key {key!r}", "keep one of them")
            out[key] = _walk(value_node, sub, src, cls, depth + 1)
            src.positions[sub] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            items.append(_walk(item, f"{path}[{i}]", src, cls, depth + 1))
        return items
    try:
        return _scalar(node)  # type: ignore[arg-type]
    except yaml.YAMLError as exc:
        raise src.error(cls, path, f"bad value: {exc}", None) from None
