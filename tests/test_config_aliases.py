"""The config reader expands YAML aliases with a cap, so an alias nest costs nothing (issue 12,
fault 7): one reader, one behaviour for task files and the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from skytui.config import load_config
from skytui.errors import ConfigError


def _bomb(levels: int) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    lines.append(f"local: {{prices: {{bomb: *a{levels - 1}}}}}")
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(20)
def test_an_alias_nest_in_the_config_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(_bomb(7))  # 10**7 values once expanded
    with pytest.raises(ConfigError, match="alias"):
        load_config(path)


def test_a_modest_shared_alias_still_works(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("allowed_regions: {aws: &r [us-east-1], gcp: *r}\n")
    assert load_config(path).allowed_regions == {"aws": ("us-east-1",), "gcp": ("us-east-1",)}
