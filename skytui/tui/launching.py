"""Launching a dev VM from the new-dev dialog's answers (the dialog and the CLI share dev_task)."""

from __future__ import annotations

from typing import Any


async def launch_dev(core: Any, req: Any) -> Any:
    from skytui.core.clusters import LaunchOptions, launch
    from skytui.tui.screens.new_dev import dev_task

    task = dev_task(req.name, req.gpus, req.spot, req.cloud, req.region)
    return await launch(core, req.name, task, LaunchOptions(
        is_dev=True, autostop_minutes=req.autostop_minutes or None, autostop_down=core.config.autostop_down))
