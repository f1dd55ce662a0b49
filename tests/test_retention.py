"""Events and per-minute GPU history are pruned past their retention; nothing else is (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_watcher_support import FAST, make_core, wait_until, watching

from skytui.config import load_config
from skytui.errors import ConfigError
from skytui.store import Store
from skytui.store.retention import prune

DAY = 86400.0


def _seed(store: Store, now: float) -> None:
    with store.db.transaction() as conn:
        for age_days in (200, 100, 10, 0):
            conn.execute("INSERT INTO events(ts, kind, message) VALUES (?, 'test', ?)",
                         (now - age_days * DAY, f"{age_days} days old"))
            conn.execute("INSERT INTO gpu_minutes(cluster, node, gpu_index, minute, utilization) "
                         "VALUES ('c', 0, 0, ?, 50)", (int(now - age_days * DAY) // 60 * 60,))
    store.open_usage(cluster="c", node=0, job_id=None, attempt=None, user="u", cloud="local", region="r",
                     zone=None, instance_type="t", accelerator=None, accelerator_count=0, spot=0,
                     price_per_hour=1.0, on_demand_price_per_hour=1.0, estimate_source="x")


def _ages(store: Store) -> tuple[list[str], int]:
    events = [e.message for e in store.events(limit=100) if e.kind == "test"]
    minutes = store.db.conn.execute("SELECT COUNT(*) FROM gpu_minutes").fetchone()[0]
    return events, minutes


def test_prune_drops_only_what_is_past_its_retention(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    now = 1_800_000_000.0
    _seed(store, now)
    done = prune(store, now, events_days=90, gpu_minutes_days=30)
    assert (done.events, done.gpu_minutes) == (2, 2)
    events, minutes = _ages(store)
    assert events == ["10 days old", "0 days old"] and minutes == 2
    assert store.db.conn.execute("SELECT COUNT(*) FROM usage_intervals").fetchone()[0] == 1  # costs kept


def test_zero_keeps_everything(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    _seed(store, 1_800_000_000.0)
    assert prune(store, 1_800_000_000.0, events_days=0, gpu_minutes_days=0).events == 0
    assert len(_ages(store)[0]) == 4


def test_retention_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("retention: {events_days: 7, gpu_minutes_days: 0}\n")
    cfg = load_config(path)
    assert (cfg.retention_events_days, cfg.retention_gpu_minutes_days) == (7, 0)
    path.write_text("retention: {events: 7}\n")
    with pytest.raises(ConfigError, match="retention"):
        load_config(path)


async def test_the_watcher_prunes_old_history() -> None:
    core = make_core(retention_events_days=30)
    _seed(core.store, core.clock())
    async with watching(core, FAST):
        await wait_until(lambda: "200 days old" not in _ages(core.store)[0], 10, "old events pruned")
    events, minutes = _ages(core.store)
    assert "10 days old" in events and minutes == 2  # gpu minutes: the 30-day default
