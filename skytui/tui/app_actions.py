"""Actions on the selected row: shells, logs, stop/start/down, autostop, job cancels, costs."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.widgets import Input

from skytui.tui import costs, model
from skytui.tui.actions import CLUSTERS, COSTS, EVENTS, GPUS, JOBS

if TYPE_CHECKING:
    from skytui.core.context import Core
    from skytui.tui.app_host import AppHost
else:
    AppHost = object  # the host's attributes are declared for the type checker only

log = logging.getLogger("skytui.tui")


class RowActions(AppHost):
    """Mixed into SkytuiApp: what the keys do to the row under the cursor."""

    # -- the selected row ---------------------------------------------------------------------------------
    def selected(self) -> str | None:
        return self.table(self.view).selected_key

    def selected_cluster(self) -> str | None:
        key = self.selected()
        if key is None:
            self.notify("nothing selected", severity="warning")
            return None
        if self.view == CLUSTERS:
            return key
        if self.view == GPUS:  # rows are clusters, nodes and GPUs: each names its cluster
            return self.table(GPUS).cell_text(key, "cluster")
        if self.view == JOBS:
            job = self.core.store.job(int(key))
            if job is None or not job.cluster:
                self.notify(f"job {key} has no cluster right now", severity="warning")
                return None
            return job.cluster
        return None

    def _up_cluster(self, name: str) -> Any:
        c = self.core.store.cluster(name)
        if c is None or c.status == "TERMINATED":
            self.notify(f"cluster {name} is gone", severity="warning")
            return None
        if c.status != "UP":
            self.notify(f"cluster {name} is {c.status}; start it first (r)", severity="warning")
            return None
        return c

    # -- actions ---------------------------------------------------------------------------------------------
    def ssh_argv(self, name: str) -> list[str]:
        from skytui.core.context import ssh_dir

        return ["ssh", "-F", str(ssh_dir() / "config"), name, *self.ssh_command]

    def action_ssh(self) -> None:
        name = self.selected_cluster()
        if name is None or self._up_cluster(name) is None:
            return
        from textual.app import SuspendNotSupported

        argv = self.ssh_argv(name)
        try:
            with self.suspend():
                rc = subprocess.run(argv, check=False).returncode
        except SuspendNotSupported:
            self.notify("this terminal cannot hand over to ssh; run `skytui ssh NAME`", severity="error")
            return
        except FileNotFoundError:
            self.notify("OpenSSH's `ssh` is not installed; install openssh-client", severity="error")
            return
        self.last_ssh = (argv, rc)
        if rc == 255:
            self.post_message(self.Note(f"ssh {name}: could not connect (exit 255)", "error", notify=True))
        else:
            self.status_line.say(f"back from ssh {name} (exit {rc})")

    def action_logs(self) -> None:
        from skytui.paths import log_dir
        from skytui.tui.screens.logs import LogScreen

        core = self.core
        if self.view == JOBS:
            key = self.selected()
            if key is None:
                return
            job_id = int(key)

            async def job_source(emit: Callable[[str], None]) -> None:
                from skytui.core.jobs import stream_job_logs

                await stream_job_logs(core, job_id, follow=True, on_output=lambda text, _s: emit(text))

            self.push_screen(LogScreen(f"logs of managed job {job_id} (every attempt)", job_source,
                                       log_dir() / "saved", slug=f"job-{job_id}"))
            return
        name = self.selected_cluster()
        if name is None:
            return
        cluster = self._up_cluster(name)
        if cluster is None:
            return

        async def source(emit: Callable[[str], None]) -> None:
            from skytui.core.logs import stream_cluster_job

            await stream_cluster_job(core, cluster, None, follow=True, on_output=lambda text, _s: emit(text))

        self.push_screen(LogScreen(f"logs of {name} (newest job)", source, log_dir() / "saved",
                                   slug=name))

    def _run_core(self, label: str, make: Callable[[], Awaitable[Any]], done: str) -> None:
        self.status_line.say(f"{label}…", "busy")
        self._core_worker(label, make, done)

    @work(group="actions", exit_on_error=False)
    async def _core_worker(self, label: str, make: Callable[[], Awaitable[Any]], done: str) -> None:
        from skytui.errors import SkytuiError

        try:
            await make()
        except SkytuiError as exc:
            self.post_message(self.Note(f"{label}: {exc}", "error", notify=True))
        except Exception as exc:
            log.exception("%s failed", label)
            self.post_message(self.Note(f"{label} failed: {type(exc).__name__}: {exc} (details in the log)",
                                        "error", notify=True))
        else:
            self.post_message(self.Note(done, "ok", notify=True))

    def _cluster_row(self) -> Any:
        if self.view != CLUSTERS:
            return None
        key = self.selected()
        c = self.core.store.cluster(key) if key else None
        if c is None:
            self.notify("select a cluster first", severity="warning")
        return c

    def action_stop(self) -> None:
        from skytui.core import clusters
        from skytui.tui.screens.confirm import ConfirmScreen

        c = self._gpu_cluster() if self.view == GPUS else self._cluster_row()
        if c is None:
            return
        idle = self.telemetry.idle.get(c.name, 0) if self.telemetry is not None else 0
        why = f"{idle} of its GPUs have been idle for 15 minutes or more. " if idle else ""
        body = (f"{why}Running jobs on {c.name} end and its memory is lost; its disks are kept (they cost a "
                f"little while stopped). It stops billing {model.money(c.price_per_hour)} $/h for compute.")

        def go(yes: bool | None) -> None:
            if yes:
                self._run_core(f"stopping {c.name}", lambda: clusters.stop(self.core, c.name), f"{c.name} stopped")

        self.push_screen(ConfirmScreen(f"Stop {c.name}?", body, yes="Stop"), go)

    def _gpu_cluster(self) -> Any:
        name = self.selected_cluster()
        return self._up_cluster(name) if name is not None else None

    def action_cost_grouping(self) -> None:
        self.cost_by = costs.next_grouping(self.cost_by)
        table = self.table(COSTS)
        # Days read best in calendar order; every other grouping by cost, highest first.
        table.sort_column, table.reverse = (0, False) if self.cost_by == "day" else (3, True)
        self._loaded_at.pop(COSTS, None)
        self.status_line.say(f"costs grouped by {self.cost_by}")
        self.request_refresh()

    def action_export_costs(self) -> None:
        from skytui.tui.screens.export import ExportRequest, ExportScreen

        by = self.cost_by

        def go(req: ExportRequest | None) -> None:
            if req is not None:
                self.status_line.say(f"writing the cost report to {req.path}…", "busy")
                self._export_worker(req.choice, req.path, by)

        self.push_screen(ExportScreen(self.cwd, self.clock(), by), go)

    @work(group="export", thread=True, exit_on_error=False)
    def _export_worker(self, choice: str, path: Path, by: str) -> None:
        from skytui.errors import SkytuiError
        from skytui.store import Store

        store = Store(self.core.store.db.path, self.clock)  # this thread's own connection
        try:
            costs.write_export(store, self.clock(), by, choice, path)
        except SkytuiError as exc:
            self.post_message(self.Note(f"cost report: {exc}", "error", notify=True))
        except Exception as exc:
            log.exception("cost export failed")
            self.post_message(self.Note(f"cost report failed: {type(exc).__name__}: {exc} (details in the log)",
                                        "error", notify=True))
        else:
            self.post_message(self.Note(f"cost report ({choice}, by {by}) written to {path}", notify=True))
        finally:
            store.close()

    def action_start(self) -> None:
        from skytui.core import clusters

        c = self._cluster_row()
        if c is not None:
            self._run_core(f"starting {c.name}", lambda: clusters.start(self.core, c.name), f"{c.name} is UP")

    def action_down(self) -> None:
        from skytui.core import clusters
        from skytui.tui.screens.confirm import ConfirmScreen

        c = self._cluster_row()
        if c is None:
            return
        running = [j for j in self.core.store.cluster_jobs(c.name) if j.status == "RUNNING"]
        body = (f"Its {c.num_nodes} node(s) and their disks are deleted, with everything on them that was "
                f"not synced elsewhere (checkpoints, installed packages, home directories)"
                f"{f'; {len(running)} running job(s) end' if running else ''}. This cannot be undone.")

        def go(yes: bool | None) -> None:
            if yes:
                self._run_core(f"tearing down {c.name}", lambda: clusters.down(self.core, c.name),
                               f"{c.name} torn down")

        self.push_screen(ConfirmScreen(f"Tear down {c.name}?", body, yes="Tear down"), go)

    def action_autostop(self) -> None:
        from skytui.core import clusters
        from skytui.errors import SkytuiError
        from skytui.tui.screens.autostop import AutostopChoice, AutostopScreen

        c = self._cluster_row()
        if c is None:
            return

        def go(choice: AutostopChoice | None) -> None:
            if choice is None:
                return
            try:
                clusters.set_autostop(self.core, c.name, choice.minutes, choice.down)
            except SkytuiError as exc:
                self.notify(str(exc), severity="error")
                return
            what = "off" if not choice.minutes else \
                f"{'tear down' if choice.down else 'stop'} after {choice.minutes} idle minutes"
            self.post_message(self.Note(f"autostop for {c.name}: {what}", notify=True))

        self.push_screen(AutostopScreen(c.name, c.autostop_minutes, bool(c.autostop_down)), go)

    def action_cancel_job(self) -> None:
        from skytui.tui.screens.confirm import ConfirmScreen

        key = self.selected() if self.view == JOBS else None
        job = self.core.store.job(int(key)) if key else None
        if job is None:
            self.notify("select a managed job first", severity="warning")
            return
        if job.status in model.ACTIVE_JOB - {"CANCELLING"}:
            body = (f"Job {job.id} ({job.name}) stops; its cluster{f' {job.cluster}' if job.cluster else ''} "
                    f"is torn down and progress not checkpointed is lost.")
        else:
            self.notify(f"job {job.id} is {job.status}: nothing to cancel", severity="warning")
            return

        def go(yes: bool | None) -> None:
            if yes:
                self._run_core(f"cancelling job {job.id}", lambda: cancel_managed_job(self.core, job.id),
                               f"job {job.id} cancelled")

        self.push_screen(ConfirmScreen(f"Cancel job {job.id}?", body, yes="Cancel job"), go)

    def action_events_for(self) -> None:
        key = self.selected()
        if key is None:
            return
        pattern = f"cluster:{key}" if self.view == CLUSTERS else f"job:{key}"
        self.action_show_view(EVENTS)
        self.table(EVENTS).set_filter(pattern)
        flt = self.main_screen.query_one("#filter", Input)
        flt.value = pattern
        flt.remove_class("hidden")
        self.table(EVENTS).focus()


async def cancel_managed_job(core: Core, job_id: int) -> None:
    from skytui.errors import NotAvailableYet

    try:
        from skytui.core import jobs
    except ImportError:
        raise NotAvailableYet("managed jobs are not in this build", "update skytui") from None
    jobs.request_cancel(core, job_id)

