"""The dashboard's pure parts: formatting, filtering, sorting and the header summary."""

from __future__ import annotations

from pathlib import Path

from seeding import NOW, seed_store

from skytui.tui import model
from skytui.tui.loader import Loader


def test_duration_has_minute_resolution() -> None:
    assert model.duration(59) == "0m"
    assert model.duration(3 * 3600 + 5 * 60) == "3h05m"
    assert model.duration(2 * 86400 + 3600) == "2d1h"
    assert model.duration(None) == "-"


def test_filter_is_regex_or_literal() -> None:
    assert model.matcher("^dev-")("dev-alice local UP")
    assert not model.matcher("^dev-")("my-dev-box")
    assert model.matcher("gpu(")("a gpu( b")  # not a valid regex: matched literally
    assert model.matcher("NOTE")("notebook")  # case-insensitive


def test_column_filter_matches_one_column_exactly(tmp_path: Path) -> None:
    store = seed_store(tmp_path / "s.db", clusters=5)
    rows = {r["name"]: model.cluster_row(r, NOW) for r in store.cluster_rows()}
    shown = model.arrange(rows, pattern="status:UP", sort_column=0, reverse=False, columns=model.CLUSTER_COLUMNS)
    assert [r.key for r in shown] == ["dev-alice", "notebook"]
    by_price = model.arrange(rows, pattern="", sort_column=6, reverse=True, columns=model.CLUSTER_COLUMNS)
    assert by_price[0].key == "spotty"


def test_summary_counts_what_is_up_and_running(tmp_path: Path) -> None:
    store = seed_store(tmp_path / "s.db", clusters=5, jobs=5)
    from skytui.tui.loader import job_counts, spend_now

    s = model.summarize(store.cluster_rows(), job_counts(store), "this app", spend_now(store, NOW))
    assert (s.clusters_up, s.clusters, s.gpus_in_use) == (2, 5, 9)
    assert s.spend_per_hour == 1.5  # the two UP clusters' open usage; the autostopped one bills nothing
    assert (s.jobs_running, s.jobs_recovering) == (1, 1)
    assert "watching: this app" in s.line()


def test_loader_reuses_finished_jobs_and_reads_only_new_events(tmp_path: Path) -> None:
    store = seed_store(tmp_path / "s.db", clusters=2, jobs=5)
    loader = Loader(store)
    first = loader.load(NOW, "nobody")
    second = loader.load(NOW + 120, "nobody")
    assert second.jobs["3"] is first.jobs["3"]  # SUCCEEDED: same object, not formatted again
    assert second.jobs["1"] != first.jobs["1"]  # RUNNING: its duration moved on
    assert set(second.events) == set(first.events)
    store.add_event("recovery", "relaunching in local-2", cluster="c1")
    third = loader.load(NOW, "nobody")
    assert len(third.events) == len(first.events) + 1


def test_markup_in_names_is_shown_as_text(tmp_path: Path) -> None:
    store = seed_store(tmp_path / "s.db", clusters=1, jobs=0)
    store.add_event("failed", "[bold]not markup[/bold] exit 1", cluster="dev-alice")
    row = Loader(store).load(NOW, "nobody").events
    assert any("[bold]not markup[/bold]" in r.cells[4] for r in row.values())


def test_header_spend_rate_is_the_accountings_and_uses_the_open_index(tmp_path: Path) -> None:
    from skytui.core.costs import spend_rate
    from skytui.core.costs.from_store import intervals
    from skytui.tui.loader import spend_now

    store = seed_store(tmp_path / "s.db", clusters=40, jobs=3)
    expected = spend_rate(intervals(store, since=NOW), NOW)["total"]
    assert spend_now(store, NOW) == expected > 0
    assert spend_now(store, NOW - 30 * 86400) == 0  # nothing open had started yet
    plan = store.db.conn.execute(
        "EXPLAIN QUERY PLAN SELECT TOTAL(ROUND(price_per_hour * 1000000)) FROM usage_intervals"
        " WHERE ended_at IS NULL AND started_at <= ?", (NOW,)).fetchall()
    assert "usage_still_open" in " ".join(str(tuple(r)) for r in plan)
