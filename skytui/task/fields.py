"""Small typed readers for task file values, each failing with a positioned TaskError."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from skytui.errors import TaskError, TaskErrors
from skytui.task.yamlnodes import Node

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class OutOfReach(TaskError):
    """Every alternative of `resources:` asks for what no cloud skytui runs on has."""


class Reader:
    """Carries the file name so every check can point at a line and column."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[TaskError] = []  # gathered, so one run reports them all
        self.notes: list[str] = []  # what was left out on purpose, for the plan

    @contextmanager
    def gather(self) -> Iterator[None]:
        """Record a TaskError raised inside and go on with the next field."""
        try:
            yield
        except OutOfReach:
            raise  # a task out of reach is refused in one line, not among other problems
        except TaskErrors as e:
            self.problems.extend(e.errors)
        except TaskError as e:
            self.problems.append(e)

    def finish(self) -> None:
        """Raise what was gathered: the one error as it is, several together."""
        if len(self.problems) == 1:
            raise self.problems[0]
        if self.problems:
            raise TaskErrors(sorted(self.problems, key=lambda e: (e.line, e.col)))

    def fail(self, node: Node | None, field: str, problem: str, fix: str) -> TaskError:
        line, col = (node.line, node.col) if node else (1, 1)
        return TaskError(problem, fix, file=self.source, line=line, col=col, field=field)

    def mapping(self, node: Node, field: str) -> dict[str, Node]:
        if node.kind != "map":
            raise self.fail(node, field, f"expected a mapping, got {node.describe()}",
                            "write it as 'key: value' lines indented under it")
        fields: dict[str, Node] = node.value
        return fields

    def check_keys(self, node: Node, field: str, allowed: Iterable[str],
                   hint: dict[str, str] | None = None) -> None:
        """Refuse keys we do not know, suggesting the nearest known one."""
        allowed = tuple(allowed)
        for name, key in node.keys.items():
            if name in allowed:
                continue
            if hint and name in hint:
                fix = hint[name]
            elif len(self.problems) > TaskErrors.MAX_SHOWN:  # past what is shown: no hint work
                fix = "remove it"
            else:
                near = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
                fix = (f"did you mean '{near[0]}'?" if near
                       else "known fields: " + ", ".join(sorted(allowed)))
            self.problems.append(self.fail(key, field, f"unknown field '{name}'", fix))

    def text(self, node: Node, field: str, *, allow_null: bool = True,
             what: str = "text") -> str | None:
        """A YAML string; numbers and booleans are refused so `name: 1e3` is not a surprise."""
        if node.kind == "scalar":
            if node.value is None and allow_null:
                return None
            if isinstance(node.value, str):
                if not node.value.strip():
                    raise self.fail(node, field, f"{what} is empty", "give a value or remove it")
                return node.value
        quoted = f" (quote it: '{node.text}')" if node.kind == "scalar" and node.text else ""
        raise self.fail(node, field, f"expected {what}, got {node.describe()}",
                        f"write {what}{quoted}")

    def scalar_text(self, node: Node, field: str) -> str | None:
        """A scalar as the user wrote it (`3.10` stays '3.10'); null stays None."""
        if node.kind != "scalar":
            raise self.fail(node, field, f"expected a single value, got {node.describe()}",
                            "quote it to make it one string")
        if node.value is None:
            return None
        return node.value if isinstance(node.value, str) else node.text

    def integer(self, node: Node, field: str, *, minimum: int, what: str) -> int:
        value = node.value
        if node.kind != "scalar" or isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer() and math.isfinite(value):
                value = int(value)
            elif isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            else:
                raise self.fail(node, field, f"expected a whole number, got {node.describe()}",
                                f"write {what} as a whole number")
        if value < minimum:
            raise self.fail(node, field, f"{what} must be at least {minimum}, got {value}",
                            f"use {minimum} or more")
        return value

    def boolean(self, node: Node, field: str) -> bool:
        if node.kind == "scalar" and isinstance(node.value, bool):
            return node.value
        raise self.fail(node, field, f"expected true or false, got {node.describe()}",
                        "write true or false")

    def env_map(self, node: Node, field: str) -> dict[str, str | None]:
        """`envs:`/`secrets:`: NAME -> value as written; null means 'give it with --env'."""
        if node.kind == "scalar" and node.value is None:
            return {}
        out: dict[str, str | None] = {}
        for name, value in self.mapping(node, field).items():
            where = f"{field}.{name}"
            if not ENV_NAME.fullmatch(name):
                raise self.fail(node.keys[name], field, f"invalid variable name {name!r}",
                                "use letters, digits and '_', not starting with a digit")
            if value.kind != "scalar":
                raise self.fail(value, where, f"expected a value, got {value.describe()}",
                                "quote it to make it one string")
            out[name] = self.scalar_text(value, where)
        return out
