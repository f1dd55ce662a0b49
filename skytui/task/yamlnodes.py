"""Read YAML into position-carrying nodes, safely: one document, bounded size and depth."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from skytui.errors import SpecError, TaskError

# A task file is a few KB; these bounds keep hostile input (alias bombs, bracket
# towers, megabytes of junk) from costing more than a few milliseconds.
MAX_CHARS = 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 10_000

_YAML = "tag:yaml.org,2002:"
_BRACKETS = re.compile(r"[\[\]{}]")
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
# libyaml is ~20x faster than the pure-Python parser; wheels ship it, source builds may not.
_PARSER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(eq=False)
class Node:
    """One YAML value plus where it was written (1-based line and column)."""

    kind: str  # "scalar", "map" or "seq"
    value: Any  # scalar: str/int/float/bool/None; map: dict[str, Node]; seq: list[Node]
    line: int
    col: int
    text: str = ""  # a scalar exactly as written, before YAML typed it
    keys: dict[str, Node] = field(default_factory=dict)  # map: the key nodes, for positions
    merge: bool = False  # a plain '<<' (YAML merge key), unlike a quoted '<<'

    def describe(self) -> str:
        """What this value is, in words for an error message."""
        if self.kind == "map":
            return "a mapping"
        if self.kind == "seq":
            return "a list"
        v = self.value
        if v is None:
            return "nothing (null)"
        if isinstance(v, bool):
            return f"true/false ({self.text})"
        if isinstance(v, (int, float)):
            return f"a number ({self.text})"
        return f"text ({_short(v)})"


def _short(s: str, limit: int = 40) -> str:
    s = repr(s)
    return s if len(s) <= limit else s[: limit - 4] + "...'"


class _Frame:
    """A mapping or list being built, with the key waiting for its value."""

    __slots__ = ("anchor", "key", "merges", "node", "path")

    def __init__(self, node: Node, path: str, anchor: str | None) -> None:
        self.node, self.path, self.anchor = node, path, anchor
        self.key: Node | None = None
        self.merges: list[Node] = []


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character `index` in `text`."""
    index = max(0, min(index, len(text)))
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def compose(text: str, source: str, error: type[SpecError] = TaskError) -> Node | None:
    """Parse one YAML document into Nodes, or None if the document is empty."""
    if len(text) > MAX_CHARS:
        raise error(
            f"file is {len(text) // 1024} KiB; the limit is {MAX_CHARS // 1024} KiB",
            "move long scripts into files in the workdir and call them from run",
            file=source,
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        line, col = line_col(text, e.start)
        raise error("text holds an unpaired surrogate character", "save the file as UTF-8",
                    file=source, line=line, col=col) from None
    _check_flow_depth(text, source, error)
    return _Composer(text, source, error).run()


def compose_all(text: str, source: str, error: type[SpecError] = TaskError) -> list[Node | None]:
    """Every YAML document of `text` ('---' between them), each as Nodes (None: empty)."""
    if len(text) > MAX_CHARS:
        return [compose(text, source, error)]  # raises the size error
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return [compose(text, source, error)]  # raises the positioned error
    _check_flow_depth(text, source, error)
    return _Composer(text, source, error, many=True).run_all()


def _check_flow_depth(text: str, source: str, error: type[SpecError]) -> None:
    # libyaml's scanner is quadratic in bracket nesting ('[' * 300_000 takes minutes),
    # so refuse deep nesting before it sees the text. Brackets inside quotes and
    # scripts are counted too; no real file has dozens left open at once.
    depth = 0
    for m in _BRACKETS.finditer(text):
        if m.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line, col = line_col(text, m.start())
                raise error(f"brackets nest deeper than {MAX_DEPTH} levels",
                            "check for unbalanced '[' or '{'",
                            file=source, line=line, col=col)
        elif depth:
            depth -= 1


class _Composer:
    """Builds Nodes from parser events with an explicit stack (no recursion)."""

    def __init__(self, text: str, source: str, error: type[SpecError], many: bool = False) -> None:
        self.text, self.source, self.error = text, source, error
        self.many = many
        self.anchors: dict[str, Node] = {}
        self.open_anchors: set[str] = set()
        self.count = 0

    def fail(self, problem: str, fix: str, mark: Any = None, field: str = "",
             at: Node | None = None) -> SpecError:
        line, col = (at.line, at.col) if at else _mark_pos(mark)
        if len(field) > 60:  # deep junk would otherwise print a wall of [0][0][0]
            field = "..." + field[-57:]
        return self.error(problem, fix, file=self.source, line=line, col=col, field=field)

    def run(self) -> Node | None:
        return self.run_all()[0]

    def run_all(self) -> list[Node | None]:
        parser = None
        try:
            parser = _PARSER(self.text)  # the pure-Python reader checks characters right here
            return self._documents(parser)
        except yaml.MarkedYAMLError as e:
            raise self._syntax(e) from None
        except yaml.reader.ReaderError as e:
            raise self._reader(e) from None
        except yaml.YAMLError as e:
            raise self.error(f"YAML error: {e}", "fix the YAML syntax", file=self.source) from None
        finally:
            if parser is not None:
                parser.dispose()

    def _syntax(self, e: yaml.MarkedYAMLError) -> SpecError:
        mark = e.problem_mark or e.context_mark
        what = " ".join(p for p in (e.context, e.problem) if p) or "invalid YAML"
        return self.fail(f"YAML syntax error: {what}",
                         "check indentation, ':' after keys and matching quotes", mark)

    def _reader(self, e: yaml.reader.ReaderError) -> SpecError:
        # libyaml reports a byte offset into the UTF-8 form; the Python reader a char index.
        index = e.position
        if _PARSER is not yaml.SafeLoader:
            index = len(self.text.encode("utf-8")[: e.position].decode("utf-8", "ignore"))
        line, col = line_col(self.text, index)
        char = e.character if isinstance(e.character, str) else chr(e.character or 0)
        return self.error(f"character {ord(char):#06x} is not allowed in YAML",
                          "remove it, or write it as an escape inside double quotes",
                          file=self.source, line=line, col=col)

    def _documents(self, parser: Any) -> list[Node | None]:
        parser.get_event()  # stream start
        if parser.check_event(yaml.StreamEndEvent):
            return [None]
        docs = [self._events(parser)]
        while self.many and not parser.check_event(yaml.StreamEndEvent):
            self.anchors.clear()  # anchors do not cross documents
            docs.append(self._events(parser))
        return docs

    def _events(self, parser: Any) -> Node | None:
        parser.get_event()  # document start
        if parser.check_event(yaml.DocumentEndEvent):  # an empty document ('---' alone)
            parser.get_event()
            return None
        stack: list[_Frame] = []
        root: Node | None = None
        while root is None:
            event = parser.get_event()
            self.count += 1
            if self.count > MAX_NODES:
                raise self.fail(f"more than {MAX_NODES} YAML values",
                                "a task file needs far fewer; is this the right file?",
                                event.start_mark)
            done = self._event(event, stack)
            if done is not None:
                root = done
        parser.get_event()  # document end
        if not self.many and not parser.check_event(yaml.StreamEndEvent):
            nxt = parser.peek_event()
            raise self.fail("the file holds more than one YAML document",
                            "put each task in its own file", nxt.start_mark)
        return root

    def _event(self, event: Any, stack: list[_Frame]) -> Node | None:
        """Feed one event; returns the root node once it is complete."""
        line, col = _mark_pos(event.start_mark)
        parent = stack[-1] if stack else None
        path = self._child_path(parent)
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if parent and parent.node.kind == "map" and parent.key is None:
                raise self.fail("a mapping key must be plain text, not a list or mapping",
                                "use a text key", event.start_mark, parent.path)
            if len(stack) >= MAX_DEPTH:
                raise self.fail(f"values nest deeper than {MAX_DEPTH} levels",
                                "a task file needs only a few levels", event.start_mark, path)
            is_map = isinstance(event, yaml.MappingStartEvent)
            self._check_tag(event, (_YAML + "map",) if is_map else (_YAML + "seq",), path)
            node = Node("map" if is_map else "seq", {} if is_map else [], line, col)
            if event.anchor:
                self.open_anchors.add(event.anchor)
            stack.append(_Frame(node, path, event.anchor))
            return None
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = stack.pop()
            if frame.merges:
                self._merge(frame)
            if frame.anchor:
                self.open_anchors.discard(frame.anchor)
                self.anchors[frame.anchor] = frame.node
            return self._attach(frame.node, stack, event)
        if isinstance(event, yaml.AliasEvent):
            shared = None if event.anchor is None else self.anchors.get(event.anchor)
            if shared is None:
                why = ("refers to a value that contains it" if event.anchor in self.open_anchors
                       else "has no matching '&anchor' before it")
                raise self.fail(f"alias '*{event.anchor}' {why}",
                                "define the anchor before using it, outside itself",
                                event.start_mark, path)
            return self._attach(shared, stack, event)
        if isinstance(event, yaml.ScalarEvent):
            node = self._scalar(event, line, col, path)
            if event.anchor:
                self.anchors[event.anchor] = node
            return self._attach(node, stack, event)
        raise self.fail(f"unexpected YAML event {type(event).__name__}", "fix the YAML syntax",
                        event.start_mark, path)

    def _child_path(self, parent: _Frame | None) -> str:
        if parent is None:
            return ""
        if parent.node.kind == "seq":
            return f"{parent.path}[{len(parent.node.value)}]"
        if parent.key is None:
            return parent.path
        return _join(parent.path, parent.key.text)

    def _attach(self, node: Node, stack: list[_Frame], event: Any) -> Node | None:
        if not stack:
            return node
        frame = stack[-1]
        if frame.node.kind == "seq":
            frame.node.value.append(node)
            return None
        if frame.key is None:  # this node is a key
            if node.kind != "scalar":
                raise self.fail("a mapping key must be plain text, not a list or mapping",
                                "use a text key", at=node, field=frame.path)
            frame.key = node
            return None
        key, frame.key = frame.key, None
        if key.merge:
            frame.merges.append(node)
            return None
        name = key.text
        first = frame.node.keys.get(name)
        if first is not None:
            raise self.fail(f"'{name}' is given twice (first at line {first.line})",
                            "keep only one of them", at=key, field=frame.path)
        frame.node.keys[name] = key
        frame.node.value[name] = node
        return None

    def _merge(self, frame: _Frame) -> None:
        # YAML merge keys ("<<: *base"): explicit keys win, then earlier sources.
        sources: list[Node] = []
        for m in frame.merges:
            sources.extend(m.value if m.kind == "seq" else [m])
        target = frame.node
        for src in sources:
            if src.kind != "map":
                raise self.fail(f"'<<' merges mappings, not {src.describe()}",
                                "point '<<' at a mapping anchor", at=src, field=frame.path)
            for name, value in src.value.items():
                if name not in target.value:
                    target.value[name] = value
                    target.keys[name] = src.keys[name]

    def _check_tag(self, event: Any, allowed: tuple[str, ...], path: str) -> None:
        tag = event.tag
        if tag is None or tag == "!" or tag in allowed:
            return
        raise self.fail(f"YAML tag '{_tag(tag)}' is not supported here", "remove the tag",
                        event.start_mark, path)

    def _scalar(self, event: Any, line: int, col: int, path: str) -> Node:
        text = event.value
        tag = event.tag
        if tag is None or tag == "!":
            implicit = event.implicit if tag is None else (False, False)
            tag = _RESOLVER.resolve(yaml.ScalarNode, text, implicit)  # type: ignore[no-untyped-call]
        kinds = ("str", "int", "float", "bool", "null", "timestamp", "merge", "value", "binary")
        if not tag.startswith(_YAML) or tag[len(_YAML):] not in kinds:
            raise self.fail(f"YAML tag '{_tag(event.tag)}' is not supported here", "remove the tag",
                            event.start_mark, path)
        node = Node("scalar", text, line, col, text=text)
        kind = tag[len(_YAML):]
        try:
            if kind == "null":
                node.value = None
            elif kind == "bool":
                node.value = _CONSTRUCTOR.construct_yaml_bool(yaml.ScalarNode(tag, text))
            elif kind == "int":
                node.value = _CONSTRUCTOR.construct_yaml_int(yaml.ScalarNode(tag, text))
            elif kind == "float":
                node.value = _CONSTRUCTOR.construct_yaml_float(yaml.ScalarNode(tag, text))
        except (ValueError, KeyError, OverflowError):
            raise self.fail(f"cannot read {text[:40]!r} as {kind}",
                            "write a plain number, or quote it to keep it as text",
                            event.start_mark, path) from None
        node.merge = kind == "merge"
        return node


def _tag(tag: str) -> str:
    return "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag


def _mark_pos(mark: Any) -> tuple[int, int]:
    if mark is None:
        return 1, 1
    return int(mark.line) + 1, int(mark.column) + 1
