"""Every config.yaml setting, listed from its one declaration in `skytui.config_model`.

Each field declared there with `setting(...)` carries its key, type, default, range or choices
and docs; this module walks those declarations (a section dataclass such as `LocalSettings`
adds its fields under its key) so the reader (`skytui.config`), the README's configuration
table (`python -m skytui.settings README.md` regenerates it) and the tests need no list of
their own.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skytui.config_model import RULE, Config, Rule


@dataclass(frozen=True)
class Setting:
    key: str  # the YAML path, e.g. "recovery.backoff_seconds"
    attr: str  # the attribute path on Config, e.g. "recovery_backoff_seconds", "local.prices.spot_ratio"
    type: Any  # the field's annotation, e.g. `float`, `str | None`, `dict[str, SshProxy]`
    rule: Rule

    @property
    def free_keys(self) -> bool:
        """A mapping whose keys are the user's (regions, zones, clouds, GPUs)."""
        return typing.get_origin(self.type) is dict


def rule_of(f: dataclasses.Field[Any]) -> Rule | None:
    rule = f.metadata.get(RULE)
    return rule if isinstance(rule, Rule) else None


_HINTS: dict[type, dict[str, Any]] = {}
_TREES: dict[type, dict[str, Any]] = {}


def hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of a declared dataclass (they are strings in its module)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def is_section(tp: Any) -> bool:
    """A nested dataclass declared as a field is a section of settings, not one value."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def declared(cls: type, key_prefix: str = "", attr_prefix: str = "") -> tuple[Setting, ...]:
    """The settings of a declared dataclass, sections flattened, in declaration order."""
    out: list[Setting] = []
    for f in dataclasses.fields(cls):
        rule = rule_of(f)
        if rule is None:  # not a setting (a test holds every Config attribute to one)
            continue
        key, attr, tp = key_prefix + (rule.key or f.name), attr_prefix + f.name, hints(cls)[f.name]
        if is_section(tp):
            out.extend(declared(tp, f"{key}.", f"{attr}."))
        else:
            out.append(Setting(key, attr, tp, rule))
    return tuple(out)


SETTINGS: tuple[Setting, ...] = declared(Config)


def key_tree(cls: type) -> dict[str, Any]:
    """The keys a declared dataclass accepts: a field, or a group for a dotted key.

    `Config`'s `autostop_idle_minutes` is declared as `autostop.idle_minutes`, so the tree holds
    {"autostop": {"idle_minutes": <field>, ...}, ...}; a section dataclass is one field."""
    if cls in _TREES:
        return _TREES[cls]
    tree: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        rule = rule_of(f)
        if rule is None:
            continue
        *groups, leaf = (rule.key or f.name).split(".")
        node = tree
        for g in groups:
            node = node.setdefault(g, {})
        node[leaf] = f
    _TREES[cls] = tree
    return tree


def keys_under(section: str) -> tuple[str, ...]:
    """The keys a section accepts ("" for the top level), in declaration order."""
    prefix = f"{section}." if section else ""
    out: dict[str, None] = {}
    for s in SETTINGS:
        if s.key.startswith(prefix):
            out[s.key[len(prefix):].split(".", 1)[0]] = None
    return tuple(out)


def value_of(config: Config, attr: str) -> object:
    value: object = config
    for part in attr.split("."):
        value = getattr(value, part)
    return value


def default_of(setting: Setting) -> object:
    return value_of(Config(), setting.attr)


# The README's configuration table, generated between these markers.
BEGIN = "<!-- settings table: generated from skytui/config_model.py by `python -m skytui.settings README.md` -->"
END = "<!-- end of settings table -->"


def readme_table() -> str:
    rows = ["| setting | default | values | meaning |", "| --- | --- | --- | --- |"]
    sections = {s.key.split(".")[0]: i for i, s in reversed(list(enumerate(SETTINGS)))}
    for s in sorted(SETTINGS, key=lambda s: sections[s.key.split(".")[0]]):  # a section's rows together
        default = s.rule.shown_default or f"`{yaml_text(default_of(s))}`"
        rows.append(f"| `{s.key}` | {default} | {describe(s.type, s.rule)} | {s.rule.doc} |")
    return "\n".join(rows)


def with_table(readme: str) -> str:
    """`readme` with the text between the markers replaced by the current table."""
    head, begin, rest = readme.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the README lacks the markers {BEGIN!r} ... {END!r}")
    return f"{head}{BEGIN}\n{readme_table()}\n{END}{tail}"


def yaml_text(value: object) -> str:
    """A default as it is written in config.yaml (flow style)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(yaml_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def describe(tp: Any, rule: Rule) -> str:
    """The values a setting takes, in the user's words, e.g. "number 0 to 1", "true/false"."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return f"{describe(inner, rule)} or `null`"
    if typing.get_origin(tp) is tuple:
        return f"list of {describe(args[0], rule)}" if rule.choices else "list of names"
    if typing.get_origin(tp) is dict:
        keys = " / ".join(f"`{k}`" for k in rule.keys) if rule.keys else "name"
        return f"map of {keys} to {describe(args[1], rule)}"
    if is_section(tp):
        return "`{" + ", ".join(f.name for f in dataclasses.fields(tp)) + "}`"
    if rule.choices:
        return " / ".join(f"`{c}`" for c in rule.choices)
    base = {bool: "`true` / `false`", int: "whole number", float: "number", str: "text"}.get(tp, str(tp))
    low, high = rule.minimum, rule.maximum
    if low is not None and high is not None:
        return f"{base} {low:g} to {high:g}"
    if low is not None:
        return f"{base} ≥ {low:g}"
    if high is not None:
        return f"{base} ≤ {high:g}"
    return base


def main(argv: list[str]) -> int:
    """`python -m skytui.settings [README.md]`: print the table, or rewrite it in that file."""
    if not argv:
        print(readme_table())
        return 0
    path = Path(argv[0])
    path.write_text(with_table(path.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
