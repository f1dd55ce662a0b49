"""The new-dev-VM dialog lists regions nearest first, with the round trip beside the price."""

from __future__ import annotations

import time
from pathlib import Path

from regions_server import RegionServers
from test_tui_conf import make_app, wait_for

from skytui.config_model import Config, NearestSettings
from skytui.core.context import Core
from skytui.store import Store


async def test_dialog_shows_rtt_beside_price_nearest_first(tmp_path: Path) -> None:
    from textual.widgets import OptionList, Select

    from skytui.tui.screens.new_dev import NewDevScreen

    with RegionServers([0.4, 0.01]) as srv:
        config = Config(nearest=NearestSettings(urls={"local/local-1": srv.urls[0], "local/local-2": srv.urls[1]}))
        core = Core(config=config, store=Store(tmp_path / "state.db"))
        app = make_app(core, clock=time.time)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.press("n")
            dialog = app.screen
            assert isinstance(dialog, NewDevScreen)
            region = dialog.query_one("#region", Select)
            await wait_for(pilot, lambda: isinstance(region.value, str), 60)
            assert region.value == "local/local-2"  # the nearest is preselected
            overlay = region.query_one(OptionList)  # the drop-down Select draws its choices in
            labels = [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]
            labels = [lab for lab in labels if lab.startswith("local/")]
            assert [lab.split()[0] for lab in labels] == ["local/local-2", "local/local-1"]
            rtts = [float(lab.split()[1]) for lab in labels]
            assert rtts[0] < 400 <= rtts[1]
            assert all(" ms  $" in lab and "/h" in lab for lab in labels)
        await core.aclose()
