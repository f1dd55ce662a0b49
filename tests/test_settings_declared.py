"""Every setting is declared once (skytui/settings.py): the reader, the Config attributes, the
README's configuration table and examples/config.yaml are held to that declaration."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from skytui.config import load_config, parse_config
from skytui.config_model import Config
from skytui.errors import ConfigError
from skytui.settings import SETTINGS, Setting, default_of, keys_under, value_of

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


def test_declarations_are_unique_and_name_real_attributes() -> None:
    assert len(DECLARED) == len(SETTINGS) > 30
    assert len({s.attr for s in SETTINGS}) == len(SETTINGS)
    for s in SETTINGS:
        value_of(Config(), s.attr)  # raises AttributeError on a typo


def test_every_config_attribute_is_declared() -> None:
    assert _leaf_attrs(Config()) == {s.attr for s in SETTINGS}


def test_reader_takes_its_keys_from_the_declaration() -> None:
    assert keys_under("") == tuple(dict.fromkeys(s.key.split(".")[0] for s in SETTINGS))
    with pytest.raises(ConfigError, match="retention"):
        parse_config("retention:\n  events_dayz: 3\n")
    for section in ("autostop", "recovery", "local", "local.prices", "nearest", "notify"):
        assert keys_under(section), section


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
    assert _example_keys(yaml.safe_load(path.read_text())) == set(DECLARED)
    loaded = load_config(path)
    for s in SETTINGS:
        if s.key not in EXAMPLE_NOT_DEFAULT:
            assert value_of(loaded, s.attr) == default_of(s), s.key


def _readme_keys() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    keys: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        names = re.findall(r"`([^`]+)`", line.split("|")[1])
        parent = names[0].rsplit(".", 1)[0] if "." in names[0] else ""
        for n in names:  # "`autostop.idle_minutes` / `.down`": later names share the first's parent
            keys.add(n if n == names[0] or n.startswith(parent + ".") else f"{parent}.{n.lstrip('.')}")
    return keys


def _covers(readme_key: str, s: Setting) -> bool:
    return s.key == readme_key or s.key.startswith(readme_key + ".")


def test_readme_configuration_table_matches_the_declaration() -> None:
    readme = _readme_keys()
    assert {"clouds", "autostop.down", "recovery.backoff_max_seconds"} <= readme  # parsed as meant
    for key in readme:
        assert any(_covers(key, s) for s in SETTINGS), f"README names {key!r}, which is not a setting"
    for s in SETTINGS:
        assert any(_covers(key, s) for key in readme), f"README's table lacks {s.key!r}"
