"""The Jobs view: managed jobs; cancel, logs of every attempt, shell on the job's cluster, events."""

from __future__ import annotations

from collections.abc import Callable

from skytui.tui import model
from skytui.tui.actions import JOBS
from skytui.tui.views.base import TableView


class JobsView(TableView):
    VIEW = JOBS
    COLUMNS = model.JOB_COLUMNS

    def cluster_of(self, key: str) -> str | None:
        job = self.core.store.job(int(key))
        if job is None or not job.cluster:
            self.notify(f"job {key} has no cluster right now", severity="warning")
            return None
        return job.cluster

    def events_filter(self, key: str) -> str:
        return f"job:{key}"

    def action_logs(self) -> None:
        from skytui.paths import log_dir
        from skytui.tui.screens.logs import LogScreen

        key = self.selected()
        if key is None:
            return
        core, job_id = self.core, int(key)

        async def source(emit: Callable[[str], None]) -> None:
            from skytui.core.jobs import stream_job_logs

            await stream_job_logs(core, job_id, follow=True, on_output=lambda text, _s: emit(text))

        self.app.push_screen(LogScreen(f"logs of managed job {job_id} (every attempt)", source,
                                       log_dir() / "saved", slug=f"job-{job_id}"))

    def action_cancel_job(self) -> None:
        from skytui.tui.screens.confirm import ConfirmScreen

        key = self.selected()
        job = self.core.store.job(int(key)) if key else None
        if job is None:
            self.notify("select a managed job first", severity="warning")
            return
        if job.status not in model.ACTIVE_JOB - {"CANCELLING"}:
            self.notify(f"job {job.id} is {job.status}: nothing to cancel", severity="warning")
            return
        body = (f"Job {job.id} ({job.name}) stops; its cluster{f' {job.cluster}' if job.cluster else ''} "
                f"is torn down and progress not checkpointed is lost.")

        def go(yes: bool | None) -> None:
            if yes:
                self.run_core(f"cancelling job {job.id}", lambda: cancel_managed_job(self.core, job.id),
                              f"job {job.id} cancelled")

        self.app.push_screen(ConfirmScreen(f"Cancel job {job.id}?", body, yes="Cancel job"), go)


async def cancel_managed_job(core: object, job_id: int) -> None:
    from skytui.core import jobs

    jobs.request_cancel(core, job_id)  # type: ignore[arg-type]
