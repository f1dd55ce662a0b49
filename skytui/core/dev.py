"""A dev VM: the task it runs and its launch, shared by `skytui dev` and the dashboard's dialog."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from skytui.core.clusters import LaunchOptions, launch
from skytui.core.resources import Overrides, apply
from skytui.task.spec import Task

if TYPE_CHECKING:
    from skytui.core.context import Core
    from skytui.core.launcher import LaunchResult
    from skytui.core.planner import Plan


def dev_task(name: str, gpus: str | None, spot: bool, cloud: str | None = None, region: str | None = None,
             *, envs: Mapping[str, str] | None = None) -> Task:
    """The bare task a dev VM runs: no setup, no run, just the shape asked for."""
    return apply(Task(name=name, envs=dict(envs or {})), Overrides(cloud=cloud, region=region, gpus=gpus, spot=spot))


async def launch_dev(core: Core, name: str, task: Task, *, autostop_minutes: int | None,
                     order: Callable[[Plan], Plan] | None = None) -> LaunchResult:
    """Launch (or reuse) the dev VM `name`; autostop as asked, stop-or-down as the config says."""
    return await launch(core, name, task, LaunchOptions(is_dev=True, autostop_minutes=autostop_minutes or None,
                                                         autostop_down=core.config.autostop_down, order=order))
