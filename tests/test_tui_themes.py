"""Themes: bundled YAML validated into Textual themes, user themes, a broken file reported once."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_conf import REPO, make_app, seeded_core, wait_for

from skytui.tui.themes import DEFAULT_THEME, bundled_dirs, load_themes, parse_theme


def test_bundled_themes_load_and_the_package_copy_matches_the_repo() -> None:
    loaded = load_themes([REPO / "themes"])
    assert loaded.problems == []
    assert {"skytui-dark", "skytui-light", "skytui-high-contrast"} <= set(loaded.themes)
    assert loaded.themes["skytui-light"].dark is False
    packaged = REPO / "skytui" / "themes"
    assert packaged in bundled_dirs()
    for path in (REPO / "themes").glob("*.yaml"):
        assert (packaged / path.name).read_text() == path.read_text(), f"copy {path.name} into skytui/themes/"


@pytest.mark.parametrize("data, problem", [
    ({"primary": "#fff"}, "`name` is required"),
    ({"name": "x"}, "`primary` is required"),
    ({"name": "x", "primary": "not-a-colour"}, "primary: 'not-a-colour' is not a colour"),
    ({"name": "x", "primary": "#fff", "backgorund": "#000"}, "unknown field 'backgorund'"),
    ({"name": "x", "primary": "#fff", "dark": "yes"}, "dark: must be true or false"),
    (["a", "list"], "a theme is a mapping"),
])
def test_bad_themes_say_what_and_where(data: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(")) as info:
        parse_theme(data, "mine.yaml")
    assert str(info.value).startswith("mine.yaml: ")


async def test_user_theme_used_and_a_broken_one_reported_once(tmp_path: Path) -> None:
    from skytui.paths import user_themes_dir

    d = user_themes_dir()
    d.mkdir(parents=True)
    (d / "ocean.yaml").write_text("name: ocean\nprimary: '#0077be'\nbackground: '#001f3f'\n")
    (d / "broken.yaml").write_text("name: broken\nprimary: [unclosed\n")
    app = make_app(seeded_core(tmp_path), theme_name="ocean")
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.snapshots_applied > 0)
        assert app.theme == "ocean"
        skipped = [n for n in app._notifications if n.title == "Theme skipped"]
        assert len(skipped) == 1 and "broken.yaml:3:1: not readable YAML" in skipped[0].message
        assert skipped[0].markup is False  # paths and YAML excerpts are not Rich markup
        app.theme = "skytui-light"  # what the palette's theme command does
        await pilot.pause()
        assert app.table("clusters").row_count == 4  # restyled, not emptied
        assert len([n for n in app._notifications if n.title == "Theme skipped"]) == 1


async def test_unknown_theme_falls_back_to_the_default(tmp_path: Path) -> None:
    app = make_app(seeded_core(tmp_path), theme_name="nope")
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        assert any("no theme named 'nope'" in n.message for n in app._notifications)


async def test_palette_offers_our_themes(tmp_path: Path) -> None:
    app = make_app(seeded_core(tmp_path))
    async with app.run_test() as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Theme: skytui-high-contrast" in titles and "View: Costs" in titles
        assert "Stop (x)" in titles
