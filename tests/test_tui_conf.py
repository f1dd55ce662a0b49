"""Fixtures shared by the dashboard tests: a sandboxed store, a fixed clock, an app to drive."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from seeding import NOW, seed_store

from skytui.config_model import Config
from skytui.core.context import Core

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def make_app(core: Core, **kw: Any) -> Any:
    from skytui.tui.app import SkytuiApp

    kw.setdefault("clock", lambda: NOW)
    kw.setdefault("provider_refresh_seconds", 0)
    kw.setdefault("watch", False)
    kw.setdefault("telemetry", False)  # tests that want GPU telemetry hand in a sampler
    kw.setdefault("store_poll_seconds", 0.05)
    return SkytuiApp(core, **kw)


def seeded_core(tmp: Path, **kw: Any) -> Core:
    store = seed_store(tmp / "state.db", **kw)
    return Core(config=Config(), store=store, clock=lambda: NOW)


async def wait_for(pilot: Any, cond: Callable[[], bool], timeout: float = 60.0) -> None:
    """Let the app run until `cond` holds (real nodes take a moment); fail loudly otherwise."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


def real_nodes_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local-cloud node processes import skytui from this checkout."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
