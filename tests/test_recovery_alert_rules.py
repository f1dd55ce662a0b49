"""Which store states become alerts (issue 13): idle GPUs, the spend guard, failures, once each."""

from __future__ import annotations

import time
from pathlib import Path

from skytui.config_model import BudgetSettings, Config, NotifySettings
from skytui.core.notify.alerts import Alerts, budget_state
from skytui.core.notify.deliver import Alert, Notifier
from skytui.store import Cluster, open_store

NOW = time.time()


class Collected(Notifier):
    """The real notifier's switch (enabled) with the delivery replaced by a list: these tests
    are about which alerts are raised; delivery itself is tested against a loopback server."""

    def __init__(self, settings: NotifySettings) -> None:
        super().__init__(settings)
        self.sent: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.sent.append(alert)


def _store(tmp: Path):  # type: ignore[no-untyped-def]
    store = open_store(tmp / "state.db", clock=lambda: NOW)
    store.create_cluster(Cluster(name="gpu-box", cloud="local", status="UP", user="me", updated_at=NOW,
                                 region="local-1", zone="a", accelerator="L4", accelerator_count=1,
                                 price_per_hour=2.0, on_demand_price_per_hour=2.0, launched_at=NOW - 7200))
    store.open_usage(cluster="gpu-box", node=0, user="me", cloud="local", region="local-1", zone="a",
                     instance_type="t", price_per_hour=2.0, on_demand_price_per_hour=2.0,
                     estimate_source="x", started_at=NOW - 7200)
    return store


def _gpu_minutes(store, utilization: float, minutes: int) -> None:  # type: ignore[no-untyped-def]
    from skytui.core.telemetry.ring import MinuteRollup
    from skytui.core.telemetry.sampler import write_minutes

    start = int(NOW // 60 * 60)
    rows = [("gpu-box", 0, 0, MinuteRollup(minute=start - 60 * k, utilization_gpu=utilization,
                                          memory_used_mib=100.0, power_w=30.0, samples=12))
            for k in range(minutes)]
    write_minutes(store, rows)


def test_an_idle_billed_gpu_alerts_once_and_again_only_after_it_worked(tmp_path: Path) -> None:
    store = _store(tmp_path)
    cfg = Config(notify=NotifySettings(desktop=True, gpu_idle_minutes=10))
    n = Collected(cfg.notify)
    alerts = Alerts(cfg, store, n, clock=lambda: NOW)
    _gpu_minutes(store, 1.0, 5)
    alerts.check()
    assert n.sent == []  # idle for 5 of 10 minutes: not yet
    _gpu_minutes(store, 1.0, 11)
    alerts.next_slow = 0
    alerts.check()
    alerts.next_slow = 0
    alerts.check()
    assert [a.kind for a in n.sent] == ["gpu-idle"] and n.sent[0].cluster == "gpu-box"


def test_the_spend_guard_names_what_was_crossed(tmp_path: Path) -> None:
    store = _store(tmp_path)
    cfg = Config(budget=BudgetSettings(hourly_usd=1.5, monthly_usd=1.0))
    over = budget_state(cfg, store, NOW)
    assert "$2.00/h, over the $1.50/h budget" in over["hourly"]
    assert "over the $1.00 budget" in over["monthly"]  # two hours at $2/h this month (or $2 since the 1st)
    assert budget_state(Config(budget=BudgetSettings(hourly_usd=5, monthly_usd=10_000)), store, NOW) == {}


def test_a_failed_job_alerts_once(tmp_path: Path) -> None:
    store = _store(tmp_path)
    cfg = Config(notify=NotifySettings(webhook="http://127.0.0.1:9/x"))
    n = Collected(cfg.notify)
    alerts = Alerts(cfg, store, n, clock=lambda: NOW)
    job = store.add_job("train", "{}", "t-1", spot=True)
    store.transition_job(job, ["PENDING"], "STARTING")
    store.transition_job(job, ["STARTING"], "FAILED_NO_RESOURCE", event="no capacity for 600s", reason="no-capacity")
    alerts.check()
    store.add_event("job", "again", job_id=job, reason="x")
    alerts.check()
    assert [a.kind for a in n.sent] == ["failed"] and "FAILED_NO_RESOURCE" in n.sent[0].text


def test_nothing_is_raised_without_a_channel(tmp_path: Path) -> None:
    store = _store(tmp_path)
    n = Collected(NotifySettings())
    alerts = Alerts(Config(budget=BudgetSettings(hourly_usd=0.5)), store, n, clock=lambda: NOW)
    alerts.check()
    assert n.sent == []
