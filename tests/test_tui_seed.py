"""The seed data is the same on every run (snapshots depend on it)."""

from __future__ import annotations

from pathlib import Path

from seeding import seed_store


def test_seed_store_is_deterministic(tmp_path: Path) -> None:
    a = seed_store(tmp_path / "a.db")
    b = seed_store(tmp_path / "b.db")
    assert [tuple(r) for r in a.cluster_rows()] == [tuple(r) for r in b.cluster_rows()]
    assert [j.status for j in a.jobs()] == ["RUNNING", "RECOVERING", "SUCCEEDED"]
