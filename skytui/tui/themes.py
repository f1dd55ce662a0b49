"""Themes are YAML files validated into Textual `Theme`s; a broken file is reported and skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "skytui-dark"
COLOR_KEYS = ("primary", "secondary", "accent", "foreground", "background", "surface", "panel",
              "boost", "warning", "error", "success")
OTHER_KEYS = ("name", "dark", "variables", "luminosity_spread", "text_alpha")


@dataclass
class LoadedThemes:
    """The themes that loaded, and one line per file that did not."""

    themes: dict[str, Theme] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def bundled_dirs() -> list[Path]:
    """The package's own copy (installed wheels), or else the repo's top-level themes/."""
    import skytui

    pkg = Path(skytui.__file__).resolve().parent
    return [p for p in (pkg / "themes", pkg.parent / "themes") if p.is_dir()][:1]


def user_dir() -> Path:
    from skytui.paths import user_themes_dir

    return user_themes_dir()


def parse_theme(data: Any, source: str) -> Theme:
    """Validate one theme mapping; raises ValueError naming the file, the field and the fix."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: a theme is a mapping of fields (name, primary, background, ...)")
    unknown = sorted(set(data) - set(COLOR_KEYS) - set(OTHER_KEYS))
    if unknown:
        raise ValueError(f"{source}: unknown field {unknown[0]!r}; known: {', '.join(COLOR_KEYS + OTHER_KEYS)}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{source}: `name` is required (a short word such as my-theme)")
    if "primary" not in data:
        raise ValueError(f"{source}: `primary` is required (a colour such as '#4ea1ff')")
    colours: dict[str, Any] = {}  # Theme's keywords: colours here, numbers in `extra`
    for key in COLOR_KEYS:
        if key in data and data[key] is not None:
            value = str(data[key])
            try:
                Color.parse(value)
            except ColorParseError:
                raise ValueError(f"{source}: {key}: {value!r} is not a colour; use '#rrggbb' or a name") from None
            colours[key] = value
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ValueError(f"{source}: dark: must be true or false")
    variables = data.get("variables") or {}
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise ValueError(f"{source}: variables: a mapping of CSS variable names to strings")
    extra: dict[str, Any] = {}
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            if not isinstance(data[key], (int, float)):
                raise ValueError(f"{source}: {key}: must be a number")
            extra[key] = float(data[key])
    return Theme(name=name.strip(), dark=dark, variables={str(k): v for k, v in variables.items()},
                 **colours, **extra)


def load_file(path: Path) -> Theme:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when present: startup time
    try:
        data = yaml.load(path.read_text(), Loader=loader)
    except (OSError, yaml.YAMLError) as exc:
        where = getattr(exc, "problem_mark", None)
        at = f":{where.line + 1}:{where.column + 1}" if where is not None else ""
        raise ValueError(f"{path}{at}: not readable YAML ({getattr(exc, 'problem', None) or exc})") from None
    return parse_theme(data, str(path))


def load_themes(dirs: list[Path] | None = None) -> LoadedThemes:
    """Bundled themes, then the user's (which may override a bundled name)."""
    out = LoadedThemes()
    for d in dirs if dirs is not None else [*bundled_dirs(), user_dir()]:
        if not d.is_dir():
            continue
        for path in sorted(d.glob("*.y*ml")):
            try:
                theme = load_file(path)
            except ValueError as exc:
                out.problems.append(str(exc))
                continue
            out.themes[theme.name] = theme
    return out
