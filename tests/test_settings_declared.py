"""Every setting is declared once (the dataclass fields of skytui/config_model.py): the reader
validates from the declaration, the README's table is generated from it, examples/config.yaml
is held to it, and each declared range, choice and key is enforced with no code of its own."""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from skytui.config import load_config, parse_config, parse_settings
from skytui.config_model import Config, Rule, setting
from skytui.errors import ConfigError
from skytui.settings import (
    SETTINGS,
    Setting,
    declared,
    default_of,
    hints,
    is_section,
    keys_under,
    readme_table,
    rule_of,
    value_of,
    with_table,
    yaml_text,
)

ROOT = Path(__file__).parent.parent
DECLARED = {s.key: s for s in SETTINGS}
# Settings whose line in examples/config.yaml shows an example rather than the default.
EXAMPLE_NOT_DEFAULT = {"allowed_regions", "local.capacity"}


def _leaf_attrs(obj: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}{f.name}"
        out |= _leaf_attrs(value, f"{path}.") if dataclasses.is_dataclass(value) else {path}
    return out


def _nest(key: str, value: Any) -> dict[str, Any]:
    """`{"a": {"b": value}}` for "a.b": the YAML that sets one setting."""
    *groups, leaf = key.split(".")
    out: dict[str, Any] = {leaf: value}
    for g in reversed(groups):
        out = {g: out}
    return out


def _parse(data: Any) -> Config:
    return parse_config(yaml.safe_dump(data), "c.yaml")


def _error(data: Any) -> str:
    with pytest.raises(ConfigError) as err:
        _parse(data)
    text = str(err.value)
    assert text.startswith("c.yaml:") and "\n" not in text, text
    return text


# The declaration itself.

def test_declarations_are_unique_and_name_real_attributes() -> None:
    assert len(DECLARED) == len(SETTINGS) > 30
    assert len({s.attr for s in SETTINGS}) == len(SETTINGS)
    for s in SETTINGS:
        value_of(Config(), s.attr)  # raises AttributeError on a typo


def test_every_config_attribute_is_declared() -> None:
    assert _leaf_attrs(Config()) == {s.attr for s in SETTINGS}


def test_every_setting_has_a_one_line_doc_and_a_valid_default() -> None:
    for s in SETTINGS:
        assert s.rule.doc and "\n" not in s.rule.doc and "|" not in s.rule.doc, s.key
        default = default_of(s)
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            assert s.rule.minimum is None or default >= s.rule.minimum, s.key
            assert s.rule.maximum is None or default <= s.rule.maximum, s.key
        if s.rule.choices and isinstance(default, str):
            assert default in s.rule.choices, s.key


def test_reader_takes_its_keys_from_the_declaration() -> None:
    assert keys_under("") == tuple(dict.fromkeys(s.key.split(".")[0] for s in SETTINGS))
    with pytest.raises(ConfigError, match="retention"):
        parse_config("retention:\n  events_dayz: 3\n")
    for section in ("autostop", "recovery", "local", "local.prices", "nearest", "notify"):
        assert keys_under(section), section


# The README's table is generated; the example is checked.

def test_readme_configuration_table_is_generated_from_the_declaration() -> None:
    readme = (ROOT / "README.md").read_text()
    assert with_table(readme) == readme, (
        "the README's settings table is stale: run `python -m skytui.settings README.md`; it should read:\n"
        + readme_table())
    for s in SETTINGS:
        assert f"| `{s.key}` |" in readme


def test_the_generated_table_shows_types_ranges_and_choices() -> None:
    rows = {line.split("|")[1].strip(): line for line in readme_table().splitlines()[2:]}
    assert "whole number ≥ 0" in rows["`autostop.idle_minutes`"]
    assert "number 0 to 1" in rows["`nearest.prefer_cheaper_share`"]
    assert "`FAILOVER` / `EAGER_NEXT_REGION` or `null`" in rows["`recovery.strategy`"]
    assert "| `600` |" in rows["`recovery.no_resource_timeout_seconds`"]
    assert len(rows) == len(SETTINGS)


def _example_keys(node: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for k, v in node.items():
        path = f"{prefix}{k}"
        s = DECLARED.get(path)
        if isinstance(v, dict) and v and not (s and s.free_keys):
            out |= _example_keys(v, f"{path}.")
        else:
            out.add(path)
    return out


def test_examples_config_shows_every_setting_with_its_default() -> None:
    path = ROOT / "examples" / "config.yaml"
    shown = _example_keys(yaml.safe_load(path.read_text()))
    missing = [f"{s.key}: {yaml_text(default_of(s))}  # {s.rule.doc}" for s in SETTINGS if s.key not in shown]
    assert not missing, "examples/config.yaml lacks:\n" + "\n".join(missing)
    assert shown == set(DECLARED), f"examples/config.yaml shows undeclared settings: {shown - set(DECLARED)}"
    loaded = load_config(path)
    for s in SETTINGS:
        if s.key not in EXAMPLE_NOT_DEFAULT:
            assert value_of(loaded, s.attr) == default_of(s), s.key


# Every declared key, range and choice is enforced by the generic reader.

def _example(s: Setting) -> Any:
    """A valid value other than the default: the declared example, else one the rule implies."""
    if s.rule.example is not None:
        return s.rule.example
    default, tp = default_of(s), typing.get_args(s.type)[0] if _optional(s.type) else s.type
    if tp is bool:
        return not default
    if s.rule.choices:
        return next(c for c in s.rule.choices if c != default)
    if tp in (int, float):
        low, high = s.rule.minimum, s.rule.maximum
        candidates = [b for b in (low, high) if b is not None] + [(low or 0) + 1]
        return next(tp(c) for c in candidates if c != default)
    raise AssertionError(f"{s.key}: declare an example= (a valid value other than the default)")


def _optional(tp: Any) -> bool:
    return type(None) in typing.get_args(tp)


def _plain(value: Any) -> Any:
    """A model value written back as YAML data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("s", SETTINGS, ids=lambda s: s.key)
def test_every_setting_round_trips_from_its_key_to_its_attribute(s: Setting) -> None:
    cfg = _parse(_nest(s.key, _example(s)))
    value = value_of(cfg, s.attr)
    assert value != default_of(s)
    others = [o.key for o in SETTINGS if o is not s and value_of(cfg, o.attr) != default_of(o)]
    assert others == []  # the key set this attribute and nothing else
    assert value_of(_parse(_nest(s.key, _plain(value))), s.attr) == value  # model -> YAML -> model


def _range_cases() -> Iterator[tuple[str, Any, Rule, type, str]]:
    """(id, how to place a number, its rule, int or float, the path an error names) for every
    declared range, inside mappings and records too."""
    def scalar(tp: Any) -> Any:
        return typing.get_args(tp)[0] if _optional(tp) else tp

    for s in SETTINGS:
        tp = scalar(s.type)
        if tp in (int, float) and (s.rule.minimum is not None or s.rule.maximum is not None):
            yield s.key, lambda v, s=s: _nest(s.key, v), s.rule, tp, s.key
        elif typing.get_origin(tp) is dict:
            inner = typing.get_args(tp)[1]
            if inner in (int, float) and s.rule.minimum is not None:
                yield s.key, lambda v, s=s: _nest(s.key, {"x": v}), s.rule, inner, f"{s.key}.x"
            elif is_section(inner):
                for f in dataclasses.fields(inner):
                    rule, ftp = rule_of(f), scalar(hints(inner)[f.name])
                    if rule and ftp in (int, float) and rule.minimum is not None:
                        yield (f"{s.key}.{f.name}", lambda v, s=s, f=f: _nest(s.key, {"x": {f.name: v}}),
                               rule, ftp, f"{s.key}.x.{f.name}")


RANGES = list(_range_cases())


def test_the_ranges_reach_into_mappings_and_records() -> None:
    ids = {case[0] for case in RANGES}
    assert {"autostop.idle_minutes", "local.prices.gpu_hour", "local.capacity.spot", "gcp.ssh_port"} <= ids
    assert len(RANGES) > 25


@pytest.mark.parametrize("case", RANGES, ids=lambda c: c[0])
def test_every_range_accepts_its_bounds_and_rejects_just_outside(case: tuple[str, Any, Rule, type, str]) -> None:
    _, place, rule, tp, where = case
    for bound, outside in ((rule.minimum, -math.inf), (rule.maximum, math.inf)):
        if bound is None:
            continue
        _parse(place(tp(bound)))  # the bound itself is allowed
        beyond = bound + (1 if outside > 0 else -1) if tp is int else math.nextafter(bound, outside)
        text = _error(place(tp(beyond)))
        assert f": {where}: must be " in text and f"got {tp(beyond)}" in text
        assert "; " in text  # and a fix


def _choice_cases() -> Iterator[tuple[Setting, str, Any]]:
    """(setting, a declared choice, how to place a value) for every choice of value or key."""
    for s in SETTINGS:
        for choice in s.rule.choices:
            if typing.get_origin(s.type) is tuple:
                yield s, choice, lambda v, s=s: _nest(s.key, [v])
            else:
                yield s, choice, lambda v, s=s: _nest(s.key, v)
        for choice in s.rule.keys:
            entry = next(iter(s.rule.example.values()))
            yield s, choice, lambda v, s=s, entry=entry: _nest(s.key, {v: entry})


CHOICES = list(_choice_cases())


@pytest.mark.parametrize("case", CHOICES, ids=lambda c: f"{c[0].key}={c[1]}")
def test_every_choice_takes_any_case_and_a_misspelling_gets_a_did_you_mean(case: tuple[Setting, str, Any]) -> None:
    s, choice, place = case
    _parse(place(choice.swapcase()))
    text = _error(place(choice + choice[-1]))
    assert f"unknown {s.rule.noun} '{choice + choice[-1]}'; did you mean '{choice}'?" in text
    assert "use one of " + ", ".join(s.rule.choices or s.rule.keys) in _error(place("zzzz"))


def test_the_config_and_task_files_share_the_recovery_strategies() -> None:
    from skytui.config_model import STRATEGIES
    from skytui.task.spec import RECOVERY_STRATEGIES

    assert STRATEGIES == RECOVERY_STRATEGIES


def test_choices_are_declared_where_expected() -> None:
    assert {(c[0].key, c[1]) for c in CHOICES} >= {("clouds", "aws"), ("recovery.strategy", "FAILOVER"),
                                                   ("allowed_regions", "gcp")}


@pytest.mark.parametrize("s", SETTINGS, ids=lambda s: s.key)
def test_every_misspelled_key_gets_a_did_you_mean(s: Setting) -> None:
    *groups, leaf = s.key.split(".")
    typo = leaf[:-1]
    text = _error(_nest(".".join([*groups, typo]), _example(s)))
    assert f"unknown setting '{typo}'; did you mean '{leaf}'?" in text


def test_a_value_of_the_wrong_kind_names_the_key_and_shows_a_good_one() -> None:
    assert _error({"autostop": {"idle_minutes": "soon"}}).endswith(
        "autostop.idle_minutes: expected a whole number, got text 'soon'; e.g. idle_minutes: 60")
    assert _error({"notify": {"gpu_idle_minutes": "x"}}).endswith("e.g. gpu_idle_minutes: 30")
    assert "theme: expected text, got nothing (null); e.g. theme: skytui-light" in _error({"theme": None})


# Adding a setting touches one place: a new field, and the reader, the key checks, the ranges
# and the README table all follow from it.

@dataclasses.dataclass(frozen=True)
class _MoreConfig(Config):
    widget_count: int = dataclasses.field(default=3, metadata=setting(
        "widgets per node", key="widget.count", minimum=1, maximum=8))


def test_a_new_setting_is_one_field() -> None:
    assert "widget.count" in {s.key for s in declared(_MoreConfig)}
    assert parse_settings(_MoreConfig, "widget: {count: 5}\nclouds: [aws]\n").widget_count == 5
    assert parse_settings(_MoreConfig, "").widget_count == 3
    with pytest.raises(ConfigError, match=r"c.yaml:1:10: widget.count: must be between 1 and 8, got 9"):
        parse_settings(_MoreConfig, "widget: {count: 9}", "c.yaml")
    with pytest.raises(ConfigError, match=r"widget.cuont: unknown setting 'cuont'; did you mean 'count'\?"):
        parse_settings(_MoreConfig, "widget: {cuont: 2}")
    with pytest.raises(ConfigError, match=r"unknown setting 'widget'"):
        parse_config("widget: {count: 2}")  # not a setting of the real Config
