"""The CSV lines SQLite prints (`csv_sql`) against the accounting reference, at their boundaries.

`test_costs_csv_rows` compares the export on names that mostly need quoting (so most rows go
through the query that tests names row by row); here the names are plain, so the export takes
the fast query whose text `checked` proves, and rows that SQL leaves to `csv_lines` (prices past
the 2**63 guard, starts before 1970) sit between rows SQL printed. (A by-day report is all
`csv_lines`'; it is compared too.)
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from costs_helpers import store_with
from test_costs_csv_rows import DAY, NOW, START, reference_csv

from skytui.core.costs import export
from skytui.core.costs.accounting import window_ms
from skytui.core.costs.csv_sql import FALLBACK, checked, csv_sql
from skytui.core.costs.export import csv_report
from skytui.core.costs.from_store import intervals as stored_intervals
from skytui.core.costs.from_store import window_clause
from skytui.core.costs.model import COMPUTE, DISK, UsageInterval
from skytui.core.costs.report import CURRENCY
from skytui.errors import StateError
from skytui.store import Store

# Inside a name, "=", "+", "@", "-" and a tab need no quoting; only at the start.
PLAIN = ("plain", "a=b", "u@host", "x+y", "n-1", "t\tab", "ünï", "50%off")
GUARD_PRICE = 49_999.999999  # the largest price SQL prints: a day at it stays below 2**63


def plain_intervals(n: int, seed: int) -> list[UsageInterval]:
    """`n` intervals with plain names over 10 days, some at each of csv_sql's boundaries."""
    rng = random.Random(seed)
    out: list[UsageInterval] = []
    for i in range(n):
        started = rng.choice([
            START + rng.random() * 10 * DAY,
            START + rng.randrange(10) * DAY - (START % DAY) + 0.0005,  # a tie at half a millisecond
            START + rng.randrange(10) * DAY + 0.0015,  # a tie rounding the other way (even)
            START - (START % DAY) + rng.randrange(1, 10) * DAY,  # exactly at UTC midnight
        ])  # fmt: skip
        length = rng.choice([0.0, 0.0005, 1.5, 3600.0, DAY, 3 * DAY + 0.123, rng.expovariate(1 / 40000)])
        is_open = rng.random() < 0.1
        price = rng.choice([
            0.0, 0.0000005, 0.0000015, 1.0000005, 0.1 + 0.2, 9.8318, 1 / 3, rng.random() * 30,
            GUARD_PRICE, 50_000.0, 53_400.0, 2.5e9,  # at and past the guard (53,400: a day overflows)
        ])  # fmt: skip
        out.append(UsageInterval(
            id=i + 1, cluster=rng.choice(PLAIN), node=rng.choice([0, 1, -1]),
            job_id=rng.choice([None, 0, 7, -3, 123456789012]), attempt=rng.choice([None, 1, -2]),
            user=rng.choice(PLAIN), cloud=rng.choice(["aws", "gcp", "local"]), region=rng.choice(["r1", "r-2"]),
            zone=rng.choice([None, "", "z1"]), instance_type=rng.choice(["t1", "p4d.24xlarge"]),
            accelerator=rng.choice([None, "", "A100"]), accelerator_count=rng.choice([0, 1, 8]),
            spot=rng.random() < 0.5, price_per_hour=price,
            on_demand_price_per_hour=rng.choice([price, price * 3, 32.7726, 0.0]), started_at=started,
            ended_at=None if is_open else started + length,
            end_reason=None if is_open else rng.choice([None, "down", "", "a=b"]),
            estimate_source=rng.choice(["catalog:aws", "local:reference-estimate"]),
            kind=rng.choice([COMPUTE, COMPUTE, DISK]),
        ))  # fmt: skip
    # Before 1970: SQL leaves it to csv_lines, between rows it printed.
    out.append(out[0].replace(id=n + 1, started_at=-1000.25, ended_at=START + 1.5))
    out.append(out[1].replace(id=n + 2, started_at=START + 2.5, ended_at=START + 2 * DAY, price_per_hour=1.5,
                               on_demand_price_per_hour=1.5))
    # Whole days at 53,400 an hour: a day's ms * micro-price * 2 is past 2**63 (the guard's reason).
    midnight = START - START % DAY
    out.append(out[2].replace(id=n + 3, started_at=midnight, ended_at=midnight + 3 * DAY, price_per_hour=53_400.0))
    return out


def _store(path_factory: pytest.TempPathFactory, ivs: list[UsageInterval]) -> Store:
    return store_with(path_factory.mktemp("csvsql") / "state.db", ivs)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    st = _store(tmp_path_factory, plain_intervals(500, 5))
    yield st
    st.close()


WINDOWS = [
    pytest.param(None, None, id="all"),
    pytest.param(START + 3 * DAY + 0.0005, START + 7 * DAY + 1800.5, id="window-cuts-intervals"),
    pytest.param(NOW - 3600, None, id="open-intervals-until-now"),
    pytest.param(START - 10 * DAY, START - 9 * DAY, id="empty-window"),
    pytest.param(NOW + DAY, None, id="after-now"),
]


@pytest.mark.parametrize("split_days", [False, True], ids=["by-interval", "by-day"])
@pytest.mark.parametrize(("since", "until"), WINDOWS)
def test_sql_lines_match_the_accounting_reference(
    store: Store, since: float | None, until: float | None, split_days: bool
) -> None:
    ivs = stored_intervals(store, since=since, until=until)
    expected = reference_csv(ivs, since=since, until=until, now=NOW, split_days=split_days)
    got = b"".join(csv_report(store, since=since, until=until, now=NOW, currency=CURRENCY,
                              split_days=split_days)).decode()
    assert got == expected


def _lines(store: Store, since: float | None = None) -> list[bytes]:
    clause, args = window_clause(since, None)
    lines = csv_sql(store.db.conn, clause, args, window_ms(NOW, since, None), CURRENCY, quote_names=False)
    assert lines is not None and checked(lines)  # plain names: the fast query's text stands
    return lines.text.split(b"\n")


def test_sql_prints_most_rows_and_leaves_the_rest_in_order(store: Store) -> None:
    """The comparison above means something only if both paths are taken, interleaved."""
    lines = _lines(store)
    left = [int(line[1:]) for line in lines if line.startswith(FALLBACK)]
    assert 30 < len(left) < len(lines) // 2  # the rows past the price guard, and the one before 1970
    assert left == sorted(left) and left[-2:] == [501, 503]  # in id order, among the printed rows
    assert lines.index(b"#501") < len(lines) - 1  # the last row SQL printed comes after it
    prices = {iv.id: max(iv.price_per_hour, iv.on_demand_price_per_hour) for iv in stored_intervals(store)}
    assert [i for i in left if prices[i] < 50_000] == [501]  # the rest are past the price guard
    assert any(line.count(b",49999.999999,") for line in lines)  # the guard price itself is SQL's


def test_a_name_that_needs_quoting_is_caught_by_the_check(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each quoting rule of `cell`, alone in one row among plain ones: the fast query's text is
    refused by `checked`, and the export (the query that tests names) still prints the reference."""
    base = plain_intervals(20, 7)
    for name in ("-lead", "=lead", "+lead", "@lead", "\tlead", "\rlead", "com,ma", 'q"uote', "new\nline"):
        for field in ("cluster", "user", "zone", "accelerator", "estimate_source"):
            ivs = [*base, base[3].replace(id=len(base) + 1, **{field: name})]
            st = _store(tmp_path_factory, ivs)
            try:
                lines = csv_sql(st.db.conn, "", [], window_ms(NOW, None, None), CURRENCY, quote_names=False)
                assert lines is not None and not checked(lines), (name, field)
                got = b"".join(csv_report(st, since=None, until=None, now=NOW, currency=CURRENCY)).decode()
                assert got == reference_csv(stored_intervals(st), since=None, until=None, now=NOW,
                                            split_days=False)
            finally:
                st.close()


def test_times_on_the_edges_of_sqls_range(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Ends before 1970 (past what the one-addition rounding covers), a start at 0, whole
    seconds (no milliseconds printed) beside fractions of one: the reference's bytes."""
    base = plain_intervals(10, 11)[:10]
    edges = [(0.0, 0.7), (0.4, -0.7), (5.0, -3.2), (0.0, DAY + 0.25), (START, START + 60.0),
             (START + 0.999, START + 61.0), (START + 61.0, START + 61.001), (START - 0.0004, START + 0.0004)]
    ivs = [*base, *(base[i % 10].replace(id=11 + i, started_at=s, ended_at=e, price_per_hour=2.0)
                    for i, (s, e) in enumerate(edges))]
    st = _store(tmp_path_factory, ivs)
    try:
        got = b"".join(csv_report(st, since=None, until=None, now=NOW, currency=CURRENCY)).decode()
        assert got == reference_csv(stored_intervals(st), since=None, until=None, now=NOW, split_days=False)
        assert "1970-01-01T00:00:00Z,1970-01-01T00:00:00.700Z" in got  # printed by SQL or by Python
    finally:
        st.close()


def test_a_currency_with_format_and_quote_characters(store: Store) -> None:
    """The currency is part of the SQL `printf` format: "%" and "'" in it print as themselves."""
    odd = "E%d'R"
    got = b"".join(csv_report(store, since=None, until=None, now=NOW, currency=odd)).decode()
    expected = reference_csv(stored_intervals(store), since=None, until=None, now=NOW, split_days=False)
    assert f",{CURRENCY}," in expected
    assert got == expected.replace(f",{CURRENCY},", f",{odd},")


@pytest.mark.parametrize("split_days", [False, True], ids=["by-interval", "by-day"])
@pytest.mark.parametrize("bad", [
    {"price_per_hour": -1e-9}, {"on_demand_price_per_hour": -2.0}, {"accelerator_count": -1}, {"kind": "gpu"},
])  # fmt: skip
def test_a_row_accounting_cannot_price_refuses_the_export(
    tmp_path_factory: pytest.TempPathFactory, bad: dict[str, object], split_days: bool
) -> None:
    """Tested inside the query that prints the lines (no scan of its own): the same one error."""
    st = _store(tmp_path_factory, plain_intervals(30, 3)[:30])
    try:
        column, value = next(iter(bad.items()))
        with st.db.transaction() as conn:
            conn.execute(f"UPDATE usage_intervals SET {column} = ? WHERE id = 17", (value,))
        with pytest.raises(StateError, match="usage interval 17 has a negative price or an unknown kind"):
            csv_report(st, since=None, until=None, now=NOW, currency=CURRENCY, split_days=split_days)
    finally:
        st.close()


@pytest.fixture
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ranges of a few dozen ids, so the test stores are cut into several queries."""
    monkeypatch.setattr(export, "_RANGE_IDS", 37)
    monkeypatch.setattr(export, "_QUERIES", 6)


@pytest.mark.usefixtures("small_ranges")
@pytest.mark.parametrize(("since", "until"), WINDOWS)
def test_ranges_printed_apart_join_into_the_reference(store: Store, since: float | None, until: float | None) -> None:
    assert len(export._id_ranges(1, 504)) == 6
    ivs = stored_intervals(store, since=since, until=until)
    expected = reference_csv(ivs, since=since, until=until, now=NOW, split_days=False)
    got = b"".join(csv_report(store, since=since, until=until, now=NOW, currency=CURRENCY)).decode()
    assert got == expected


@pytest.mark.usefixtures("small_ranges")
def test_a_name_to_quote_in_one_range_reprints_that_range(tmp_path_factory: pytest.TempPathFactory) -> None:
    ivs = plain_intervals(200, 9)
    ivs[120] = ivs[120].replace(cluster="com,ma", user="-lead")
    st = _store(tmp_path_factory, ivs)
    try:
        got = b"".join(csv_report(st, since=None, until=None, now=NOW, currency=CURRENCY)).decode()
        assert got == reference_csv(stored_intervals(st), since=None, until=None, now=NOW, split_days=False)
        assert '"com,ma"' in got
    finally:
        st.close()


@pytest.mark.usefixtures("small_ranges")
def test_every_range_reads_the_snapshot_the_export_started_with(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process renames a cluster of the last range while the first is printed: the
    export shows the rows as they were when it began, whole."""
    st = _store(tmp_path_factory, plain_intervals(300, 4))
    expected = b"".join(csv_report(st, since=None, until=None, now=NOW, currency=CURRENCY)).decode()
    printing = export.csv_sql
    writes: list[int] = []

    def write_meanwhile(*args: Any, **kwargs: Any) -> Any:
        if not writes:  # during the first range's query: commit from another connection
            other = sqlite3.connect(st.db.path, timeout=10)
            with other:
                writes.append(other.execute("UPDATE usage_intervals SET cluster = 'renamed' WHERE id = 280").rowcount)
            other.close()
        return printing(*args, **kwargs)

    monkeypatch.setattr(export, "csv_sql", write_meanwhile)
    try:
        got = b"".join(csv_report(st, since=None, until=None, now=NOW, currency=CURRENCY)).decode()
        assert writes == [1] and got == expected and "renamed" not in got
        after = b"".join(csv_report(st, since=None, until=None, now=NOW, currency=CURRENCY)).decode()
        assert "renamed" in after and not st.db.conn.in_transaction
    finally:
        st.close()
