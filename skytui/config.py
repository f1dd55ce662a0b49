"""Reading config.yaml into a typed Config, with errors as good as the task loader's."""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from skytui.config_model import CLOUDS, STRATEGIES, Config, Rule, webhook_problem
from skytui.errors import ConfigError

if TYPE_CHECKING:
    from skytui.yamlsrc import Source

T = TypeVar("T")

__all__ = ["CLOUDS", "STRATEGIES", "ConfigError", "load_config", "parse_config", "webhook_problem"]


def load_config(path: Path | None = None) -> Config:
    """The user's config, or the defaults when there is no file."""
    if path is None:
        from skytui.paths import config_file

        path = config_file()
    try:
        text = path.read_text()
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the config file ({exc})", "fix its permissions or encoding",
                          file=str(path)) from None
    return parse_config(text, str(path))


def parse_config(text: str, file: str = "config.yaml") -> Config:
    config, reader = _read(Config, text, file)
    if reader is not None:
        _nearest_regions(reader, config)
    return config


def parse_settings(cls: type[T], text: str, file: str = "config.yaml") -> T:
    """Any dataclass declared with `setting(...)` metadata, read from YAML text (`parse_config`
    is this for `Config`): the reader has no code of its own per setting."""
    return _read(cls, text, file)[0]


def _read(cls: type[T], text: str, file: str) -> tuple[T, _Reader | None]:
    # Imported here: a start without a config file never loads the YAML reader or walks the
    # declarations.
    from skytui.yamlsrc import load

    src = load(text, file, ConfigError)
    data = src.data
    if data is None:
        return cls(), None
    if not isinstance(data, dict):
        raise src.error(ConfigError, "", "the config must be a mapping of settings", "see examples/config.yaml")
    reader = _Reader(src)
    made: T = reader.record(cls, data, "")
    return made, reader


def _nearest_regions(v: _Reader, config: Config) -> None:
    """nearest.urls name real regions: the local cloud's are this config's own local.regions.

    The one rule that lives here rather than beside its declaration: it reads the catalog, which
    imports the model (a check there would close an import cycle)."""
    if not config.nearest.urls:
        return
    from skytui.catalog.places import known_regions

    for key in config.nearest.urls:
        cloud, _, region = key.partition("/")
        known = set(config.local.regions) if cloud == "local" else known_regions(cloud)
        if region not in known:
            hint = difflib.get_close_matches(region, sorted(known), n=1)
            raise v.bad(f"nearest.urls.{key}", f"{region!r} is not a region of {cloud}",
                        f"did you mean {cloud}/{hint[0]}?" if hint else f"see `skytui regions --cloud {cloud}`")


def _join(path: str, sub: str) -> str:
    if not sub:
        return path
    if not path:
        return sub
    return f"{path}{sub}" if sub.startswith("[") else f"{path}.{sub}"


class _Reader:
    """Reads plain YAML data into the declared dataclasses; every error names its place.

    Generic over the declarations (`skytui.config_model.setting`): the annotation says what a
    value is, the field's `Rule` its range, choices and any rule of its own."""

    def __init__(self, src: Source) -> None:
        self.src = src

    def bad(self, path: str, problem: str, fix: str | None = None) -> ConfigError:
        return self.src.error(ConfigError, path, problem, fix)  # type: ignore[return-value]

    def record(self, cls: type[Any], raw: Any, path: str) -> Any:
        """A declared dataclass from a mapping; dotted keys ("autostop.idle_minutes") are nested."""
        from skytui.settings import key_tree

        kw: dict[str, Any] = {}
        self._walk(cls, key_tree(cls), self.mapping(path, raw), path, kw)
        obj = cls(**kw)
        check = getattr(obj, "settings_problem", None)
        problem = check() if check is not None else None
        if problem is not None:
            raise self.bad(_join(path, problem.where), problem.problem, problem.fix)
        return obj

    def _walk(self, cls: type[Any], tree: dict[str, Any], data: dict[Any, Any], path: str,
              kw: dict[str, Any]) -> None:
        _no_unknown(self.src, path, data, tuple(tree))
        for key, raw in data.items():
            node, sub = tree[key], _join(path, str(key))
            if isinstance(node, dict):  # a group of flat settings, e.g. `recovery:`
                self._walk(cls, node, self.mapping(sub, raw), sub, kw)
            else:
                kw[node.name] = self.setting(cls, node, raw, sub)

    def setting(self, cls: type[Any], f: dataclasses.Field[Any], raw: Any, path: str) -> Any:
        from skytui.settings import hints, rule_of

        rule = rule_of(f)
        assert rule is not None  # key_tree lists declared settings only
        if raw is None and rule.null_is_default:
            return f.default_factory() if callable(f.default_factory) else f.default
        value = self.value(hints(cls)[f.name], raw, path, rule, _example(f, rule))
        problem = rule.check(value) if rule.check is not None and value is not None else None
        if problem is not None:
            raise self.bad(_join(path, problem.where), problem.problem, problem.fix)
        return rule.convert(value) if rule.convert is not None else value

    def value(self, tp: Any, raw: Any, path: str, rule: Rule, example: str | None) -> Any:
        from skytui.settings import is_section

        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin in (typing.Union, types.UnionType) and type(None) in args:
            if raw is None:
                return None
            tp = next(a for a in args if a is not type(None))
            origin, args = typing.get_origin(tp), typing.get_args(tp)
        if is_section(tp):
            return self.record(tp, raw, path)
        if origin is dict:
            out = {}
            for k, v in self.mapping(path, raw).items():
                sub = _join(path, str(k))
                key = self.choice(sub, str(k), rule.keys, rule.noun) if rule.keys else str(k)
                out[key] = self.value(args[1], v, sub, rule, example)
            return out
        if origin is tuple:
            return tuple(self.scalar(args[0], x, f"{path}[{i}]", rule, example)
                         for i, x in enumerate(self.str_list(path, raw)))
        return self.scalar(tp, raw, path, rule, example)

    def scalar(self, tp: Any, raw: Any, path: str, rule: Rule, example: str | None) -> Any:
        if tp is bool:
            if not isinstance(raw, bool):
                raise self.bad(path, f"expected true or false, got {_kind(raw)}", "use true or false")
            return raw
        if tp is str:
            if not isinstance(raw, str) or not raw:
                raise self.bad(path, f"expected text, got {_kind(raw)}", example)
            return self.choice(path, raw, rule.choices, rule.noun) if rule.choices else raw
        if tp is int and (isinstance(raw, bool) or not isinstance(raw, int)):
            raise self.bad(path, f"expected a whole number, got {_kind(raw)}", example)
        if tp is float and (isinstance(raw, bool) or not isinstance(raw, (int, float))):
            raise self.bad(path, f"expected a number, got {_kind(raw)}", example)
        if tp not in (int, float):
            raise TypeError(f"{path}: no reader for settings of type {tp!r}")  # a declaration's bug
        low, high = rule.minimum, rule.maximum
        if (low is not None and raw < low) or (high is not None and raw > high):
            if low is not None and high is not None:
                what = "" if rule.noun == "value" else f"a {rule.noun} "
                problem = f"must be {what}between {low} and {high}, got {raw}"
            else:
                problem = f"must be at least {low}, got {raw}" if low is not None else f"must be at most {high}, got {raw}"
            raise self.bad(path, problem, rule.hint or example)
        return float(raw) if tp is float else raw

    def choice(self, path: str, raw: str, choices: tuple[str, ...], noun: str) -> str:
        """The declared spelling of `raw` (case does not matter), or an error with a suggestion."""
        folded = {c.casefold(): c for c in choices}
        if raw.casefold() in folded:
            return folded[raw.casefold()]
        hint = difflib.get_close_matches(raw.casefold(), list(folded), n=1)
        fix = f"did you mean {folded[hint[0]]!r}?" if hint else f"use one of {', '.join(choices)}"
        raise self.bad(path, f"unknown {noun} {raw!r}", fix)

    def mapping(self, path: str, value: Any) -> dict[Any, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.bad(path, f"expected a mapping, got {_kind(value)}", "indent its settings under it")
        return value

    def str_list(self, path: str, value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise self.bad(path, f"expected a list of names, got {_kind(value)}", "e.g. [us-east-1, us-west-2]")
        return value


def _example(f: dataclasses.Field[Any], rule: Rule) -> str | None:
    """A fix that shows the setting written well: its declared example, else its default."""
    from skytui.settings import yaml_text

    shown = rule.example
    if shown is None:
        shown = f.default_factory() if callable(f.default_factory) else f.default
    name = (rule.key or f.name).rpartition(".")[2]  # as it is written under its section
    return None if shown is None or shown == {} or shown == () else f"e.g. {name}: {yaml_text(shown)}"


def _no_unknown(src: Source, path: str, data: dict[Any, Any], allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            sub = f"{path}.{key}" if path else str(key)
            raise src.error(ConfigError, sub, f"unknown setting {key!r}",
                            f"did you mean {hint[0]!r}?" if hint else f"known: {', '.join(allowed)}")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {bool: "true/false", int: f"the number {value!r}", float: f"the number {value!r}", str: f"text {value!r}",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)
