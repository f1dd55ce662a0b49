"""Actions that make new things: a dev VM, a cluster from a task file, the demo fleet."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from textual import work

if TYPE_CHECKING:
    from skytui.core.context import Core
    from skytui.tui.app_host import AppHost
else:
    AppHost = object  # the host's attributes are declared for the type checker only

log = logging.getLogger("skytui.tui")


class Launching(AppHost):
    """Mixed into SkytuiApp: the dialogs and workers that launch clusters."""

    def action_new_dev(self) -> None:
        from skytui.tui.screens.new_dev import DevRequest, NewDevScreen

        def go(req: DevRequest | None) -> None:
            if req is not None:
                self._run_core(f"launching {req.name}", lambda: launch_dev(self.core, req),
                               f"dev VM {req.name} is UP: press s to open a shell")

        cfg = self.core.config
        self.push_screen(NewDevScreen(self.core, self._free_dev_name(), cfg.autostop_idle_minutes), go)

    def _free_dev_name(self) -> str:
        from skytui.store import current_user

        slug = "".join(ch if ch.isalnum() else "-" for ch in current_user().lower()).strip("-") or "me"
        base = f"dev-{slug}" if slug[:1].isalpha() else "dev"
        taken = {c.name for c in self.core.store.clusters()}
        n = 1
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"[:63]

    def action_launch_task(self) -> None:
        from skytui.core.clusters import LaunchOptions, launch
        from skytui.tui.screens.launch_task import LaunchRequest, LaunchTaskScreen

        def go(req: LaunchRequest | None) -> None:
            if req is not None:
                self._run_core(f"launching {req.cluster}",
                               lambda: launch(self.core, req.cluster, req.task, LaunchOptions(detach_run=True)),
                               f"{req.cluster} launched from {req.path.name}")

        self.push_screen(LaunchTaskScreen(self.core, self.cwd), go)

    def action_demo(self) -> None:
        from skytui.core.demo import start_demo

        self._run_core("starting the demo fleet", lambda: start_demo(self.core), "the demo fleet is up")

    @work(group="demo", exclusive=True, exit_on_error=False)
    async def demo_preempter(self) -> None:
        from skytui.core.demo import preempt_demo_job

        stop = asyncio.Event()
        try:
            await preempt_demo_job(self.core, stop)
        except Exception as exc:
            log.exception("demo preemptions stopped")
            self.post_message(self.Note(f"demo preemptions stopped: {exc}", "error"))


async def launch_dev(core: Core, req: Any) -> Any:
    from skytui.core.clusters import LaunchOptions, launch
    from skytui.tui.screens.new_dev import dev_task

    task = dev_task(req.name, req.gpus, req.spot, req.cloud, req.region)
    return await launch(core, req.name, task, LaunchOptions(
        is_dev=True, autostop_minutes=req.autostop_minutes or None, autostop_down=core.config.autostop_down))

