"""The task's `envs` (and `secrets`) filled into `file_mounts` and `workdir`, as SkyPilot does at parse time.

SkyPilot fills both `$NAME` and `${NAME}` from the task's envs and secrets (after `--env`
overrides) into file_mounts' keys and values and into workdir. A secret used there becomes
part of a bucket name or path, shown in plans and kept in the store like any other name.
A name the task does not declare is left as written, as SkyPilot leaves it. A name declared
with no value (to be given with `--env` at launch) is also left as written and reported, so a
dry run can still plan and say what a real launch needs.

The work is on YAML nodes, so every substituted value keeps the line and column it was
written at, for errors.
"""

from __future__ import annotations

import dataclasses
import re

from skytui.task.yamlnodes import Node

REFERENCE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


class Clash(Exception):
    """Two mapping keys that are the same once filled (e.g. `/data` and `$ROOT`)."""

    def __init__(self, node: Node, key: str) -> None:
        super().__init__(key)
        self.node, self.key = node, key


def fill(text: str, values: dict[str, str | None]) -> tuple[str, tuple[str, ...]]:
    """`text` with every declared name that has a value filled in, and the declared names
    referenced that have none (left as written)."""
    if "$" not in text:  # the common case: no regex work
        return text, ()
    unset: list[str] = []

    def one(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name not in values:
            return m.group(0)
        value = values[name]
        if value is None:
            if name not in unset:
                unset.append(name)
            return m.group(0)
        return value

    return REFERENCE.sub(one, text), tuple(unset)


def unset_in(text: str, values: dict[str, str | None]) -> tuple[str, ...]:
    """The declared names without a value that `text` still references."""
    return fill(text, values)[1]


def fill_node(node: Node, values: dict[str, str | None]) -> Node:
    """A copy of `node` with strings (mapping keys included) filled; positions kept."""
    if not values:
        return node
    if node.kind == "scalar":
        if not isinstance(node.value, str) or "$" not in node.value:
            return node
        text, _ = fill(node.value, values)
        return dataclasses.replace(node, value=text) if text != node.value else node
    if node.kind == "seq":
        return dataclasses.replace(node, value=[fill_node(n, values) for n in node.value])
    items: dict[str, Node] = {}
    keys: dict[str, Node] = {}
    for key, value in node.value.items():
        new_key, _ = fill(key, values)
        key_node = node.keys[key]
        if new_key in items:  # one would silently replace the other: refuse instead
            raise Clash(key_node, new_key)
        items[new_key] = fill_node(value, values)
        keys[new_key] = key_node if new_key == key else dataclasses.replace(key_node, value=new_key)
    return dataclasses.replace(node, value=items, keys=keys)
