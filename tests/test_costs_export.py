"""The CSV export straight from the store: the same bytes as the report's CSV, in one process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from costs_helpers import store_with

from skytui.core.costs import export
from skytui.core.costs.from_store import intervals
from skytui.core.costs.report import CURRENCY, build_report, render
from skytui.core.costs.sample import generate_intervals
from skytui.errors import StateError
from skytui.store import Store

START = 1_790_000_000.0
NOW = START + 61 * 86400


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = store_with(tmp_path / "state.db", generate_intervals(300, 7, start=START, days=60))
    yield st
    st.close()


def exported(st: Store, **window: float | None) -> str:
    since, until = window.get("since"), window.get("until")
    by_day = bool(window.get("by_day"))
    chunks = export.csv_report(st, since=since, until=until, now=NOW, currency=CURRENCY,
                               split_days=by_day)
    return b"".join(chunks).decode()


def reported(st: Store, **window: float | None) -> str:
    since, until = window.get("since"), window.get("until")
    by = "day" if window.get("by_day") else "cluster"
    report = build_report(intervals(st, since=since, until=until), since=since, until=until, by=by, now=NOW)
    return render(report, "csv")


WINDOWS = [
    {},
    {"since": START + 20 * 86400},
    {"since": START + 10 * 86400, "until": START + 30.5 * 86400},
    {"since": START + 5 * 86400, "by_day": True},
]


@pytest.mark.parametrize("window", WINDOWS)
def test_export_is_byte_for_byte_the_report_csv(store: Store, window: dict[str, float]) -> None:
    expected = reported(store, **window)
    assert expected.count("\n") > 50  # the window holds rows to compare
    assert exported(store, **window) == expected


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_bad_row_is_one_error_and_no_process_is_started(store: Store) -> None:
    with store.db.transaction() as conn:
        conn.execute("UPDATE usage_intervals SET price_per_hour = -1 WHERE id = 250")
    before = _children()
    with pytest.raises(StateError, match="usage interval 250 has a negative price"):
        exported(store)
    assert _children() - before == set()


def _children() -> set[int]:
    """Pids whose parent is this process, zombies included."""
    me, out = os.getpid(), set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            out.add(int(stat.parent.name))
    return out


def test_an_empty_window_is_just_the_header(store: Store) -> None:
    text = exported(store, since=NOW + 10)
    assert text == reported(store, since=NOW + 10)
    assert text.count("\n") == 1
