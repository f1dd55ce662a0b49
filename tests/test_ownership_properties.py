"""Property: over random interleavings of user actions and cloud events on the local cloud, the
watcher never terminates an instance the user launched by hand, and every managed job ends in
a terminal state with each attempt recorded once (issue 12).

Each example runs real nodes, so there are few of them (about a minute in all on 2 cores).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_watcher_support import FAST, job_task, wait_until, watching

from skytui.config_model import Config, LocalSettings, ZoneCapacity
from skytui.core import clusters as ops
from skytui.core.context import Core
from skytui.core.jobs import submit
from skytui.core.jobs.service import request_cancel
from skytui.errors import SkytuiError
from skytui.store.models import JOB_TERMINAL
from skytui.task.spec import Resources, Task

# "train-1" and "work-1" were the old managed-job cluster names of jobs named train/work.
USER_NAMES = ("train-1", "work-1", "devbox")
JOB_NAMES = ("train", "work")

user_action = st.one_of(
    st.tuples(st.just("launch"), st.sampled_from(USER_NAMES)),
    st.tuples(st.just("stop"), st.sampled_from(USER_NAMES)),
    st.tuples(st.just("start"), st.sampled_from(USER_NAMES)),
    st.tuples(st.just("down"), st.sampled_from(USER_NAMES)),
    st.tuples(st.just("jobs-launch"), st.sampled_from(JOB_NAMES)),
    st.tuples(st.just("cancel"), st.integers(1, 3)),
)
cloud_event = st.one_of(
    st.tuples(st.just("preempt"), st.integers(1, 3)),
    st.tuples(st.just("capacity-out"), st.sampled_from(("local-1", "local-2"))),
    st.tuples(st.just("capacity-back"), st.just("")),
)
step = st.tuples(st.one_of(user_action, cloud_event), st.sampled_from((0.0, 0.2, 0.8)))


class World:
    """What the user did by hand, so the end state can be judged against it."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.by_hand: dict[str, set[str]] = {}  # user cluster -> instance ids it ever had
        self.downed: set[str] = set()

    def console(self):  # type: ignore[no-untyped-def]
        from skytui.providers.local.provider import LocalCloud

        if not hasattr(self, "_console"):
            self._console = LocalCloud(self.core.config.local)
        return self._console

    async def do(self, kind: str, arg: object) -> None:
        core = self.core
        try:
            if kind == "launch":
                name = str(arg)
                await ops.launch(core, name, Task(name=name, resources=(Resources(cloud="local"),)),
                                 ops.LaunchOptions())
                self.downed.discard(name)
                self.by_hand.setdefault(name, set()).update(
                    n.instance_id or "" for n in core.store.nodes(name))
            elif kind in ("stop", "start"):
                c = core.store.cluster(str(arg))
                if c is not None and c.job_id is None:  # the user's own clusters only
                    await (ops.stop if kind == "stop" else ops.start)(core, str(arg))
            elif kind == "down":
                c = core.store.cluster(str(arg))
                if c is not None and c.job_id is None:
                    self.downed.add(str(arg))
                    await ops.down(core, str(arg))
            elif kind == "jobs-launch":
                submit(core, job_task("sleep 30"), name=str(arg))
            elif kind == "cancel":
                if core.store.job(int(arg)) is not None:  # type: ignore[arg-type]
                    request_cancel(core, int(arg))  # type: ignore[arg-type]
            elif kind == "preempt":
                for r in self.console().registry.rows("job_id = ? AND state = 'running'", (int(arg),)):  # type: ignore[arg-type]
                    self.console().preempt(r.id)
            elif kind == "capacity-out":
                self._capacity({str(arg): ZoneCapacity(spot=0)})
            elif kind == "capacity-back":
                self._capacity({})
        except SkytuiError:
            pass  # refused or failed for the user, in one line: allowed

    def _capacity(self, capacity: dict[str, ZoneCapacity]) -> None:
        cloud = self.core.provider("local")
        cloud.settings = dataclasses.replace(cloud.settings, capacity=capacity)  # type: ignore[attr-defined]

    def check_users_instances(self) -> None:
        for name, ids in self.by_hand.items():
            if name in self.downed:
                continue
            for iid in ids:
                rec = self.console().registry.get(iid)
                assert rec is not None and rec.state != "terminated", (name, iid, rec)

    def check_jobs(self) -> None:
        store = self.core.store
        for job in store.jobs():
            assert job.status in JOB_TERMINAL, job
            attempts = store.attempts(job.id)
            assert [a.attempt for a in attempts] == list(range(1, job.attempts + 1)), attempts
            assert all(a.ended_at is not None for a in attempts), attempts
            left = self.console().registry.rows("job_id = ? AND state IN ('pending', 'running')", (job.id,))
            assert left == [], left
            assert job.cluster not in self.by_hand  # a job's cluster is never one the user made


async def _scenario(steps: list[tuple[tuple[str, object], float]]) -> None:
    core = Core(Config(local=LocalSettings(), watcher_poll_seconds=0.2))
    world = World(core)
    quick = dataclasses.replace(FAST, no_resource_timeout_seconds=3.0)
    try:
        async with watching(core, quick):
            for (kind, arg), pause in steps:
                await world.do(kind, arg)
                await asyncio.sleep(pause)
            world._capacity({})
            for job in core.store.jobs():
                if job.status not in JOB_TERMINAL:
                    try:
                        request_cancel(core, job.id)
                    except SkytuiError:
                        pass
            await wait_until(lambda: all(j.status in JOB_TERMINAL for j in core.store.jobs()), 60,
                             "every job terminal")
            await asyncio.sleep(0.5)  # a few more rounds: extras and orphans judged
        world.check_users_instances()
        world.check_jobs()
    finally:
        await core.aclose()


@pytest.mark.slow
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=3, max_size=7))
def test_the_watcher_never_touches_what_the_user_made_and_jobs_end_counted_once(
        steps: list[tuple[tuple[str, object], float]], monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "faults"))
    from fault_support import kill_processes_under  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory(prefix="skytui-prop-") as d:
        root = Path(d)
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "HOME"):
            (root / var).mkdir()
            monkeypatch.setenv(var, str(root / var))
        try:
            asyncio.run(_scenario(steps))
        finally:
            kill_processes_under(root)
