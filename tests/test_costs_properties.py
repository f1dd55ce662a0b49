"""Properties of cost accounting that must hold for any usage, window and clock."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from skytui.core.costs import GROUPINGS, UsageInterval, build_report, line_items, total_of
from skytui.core.costs.accounting import split_by_day
from skytui.core.costs.units import MICRO, fmt_micro, micro_cost, micro_hours

DAY = 86400.0
T0 = 1.79e9

intervals_st = st.builds(
    UsageInterval,
    id=st.integers(1, 10**6),
    cluster=st.sampled_from(["a", "b", "c"]),
    node=st.integers(0, 2),
    job_id=st.none() | st.integers(1, 4),
    attempt=st.none() | st.integers(1, 3),
    user=st.sampled_from(["alice", "bob", "carol"]),
    cloud=st.sampled_from(["aws", "gcp", "local"]),
    region=st.sampled_from(["r1", "r2"]),
    zone=st.none() | st.just("z"),
    instance_type=st.just("t"),
    accelerator=st.none() | st.sampled_from(["A100", "L4"]),
    accelerator_count=st.integers(0, 8),
    spot=st.booleans(),
    price_per_hour=st.decimals(0, 200, places=6).map(float),
    on_demand_price_per_hour=st.decimals(0, 200, places=6).map(float),
    started_at=st.floats(T0, T0 + 40 * DAY),
    ended_at=st.none() | st.floats(T0, T0 + 45 * DAY),
    end_reason=st.sampled_from([None, "stopped", "down", "autostop", "spot-preempted"]),
    estimate_source=st.sampled_from(["catalog:aws", "local:reference-estimate"]),
    kind=st.sampled_from(["compute", "disk"]),
)
window_st = st.tuples(
    st.floats(T0, T0 + 50 * DAY),  # now
    st.none() | st.floats(T0 - DAY, T0 + 50 * DAY),  # since
    st.none() | st.floats(T0, T0 + 60 * DAY),  # until
)


@settings(max_examples=150, deadline=None)
@given(ivs=st.lists(intervals_st, max_size=25), window=window_st)
def test_every_grouping_sums_to_the_same_total(
    ivs: list[UsageInterval], window: tuple[float, float | None, float | None]
) -> None:
    now, since, until = window
    totals = set()
    for by in GROUPINGS:
        report = build_report(ivs, since=since, until=until, by=by, now=now)
        assert sum(r.cost_micro for r in report.rows) == report.total.cost_micro
        assert sum(r.on_demand_micro for r in report.rows) == report.total.on_demand_micro
        assert sum(r.hours_micro for r in report.rows) == report.total.hours_micro
        assert sum(r.items for r in report.rows) == len(report.items)
        # What the formats print is the same integer, so it adds up as printed too.
        assert fmt_micro(sum(r.cost_micro for r in report.rows)) == fmt_micro(
            report.total.cost_micro
        )
        totals.add(
            (report.total.cost_micro, report.total.on_demand_micro, report.total.hours_micro)
        )
    assert len(totals) == 1  # no grouping, not even by day, changes the total


@settings(max_examples=150, deadline=None)
@given(ivs=st.lists(intervals_st, max_size=25), window=window_st)
def test_no_amount_is_negative_and_items_stay_in_the_window(
    ivs: list[UsageInterval], window: tuple[float, float | None, float | None]
) -> None:
    now, since, until = window
    for item in line_items(ivs, now=now, since=since, until=until):
        assert item.cost_micro >= 0 and item.on_demand_micro >= 0 and item.hours_micro >= 0
        assert item.start_ms < item.end_ms <= round(now * 1000)
        if since is not None:
            assert item.start_ms >= round(since * 1000)
        if until is not None:
            assert item.end_ms <= round(until * 1000)
        assert item.start_ms >= round(item.interval.started_at * 1000)


@settings(max_examples=100, deadline=None)
@given(ivs=st.lists(intervals_st, max_size=25), now=st.floats(T0, T0 + 50 * DAY))
def test_splitting_at_midnight_keeps_every_amount(ivs: list[UsageInterval], now: float) -> None:
    whole = line_items(ivs, now=now)
    split = line_items(ivs, now=now, split_days=True)
    again = list(split_by_day(whole))
    for a, b in ((total_of(whole), total_of(split)), (total_of(whole), total_of(again))):
        assert (a.cost_micro, a.on_demand_micro, a.hours_micro, a.gpu_hours_micro) == (
            b.cost_micro,
            b.on_demand_micro,
            b.hours_micro,
            b.gpu_hours_micro,
        )
    for item in split:
        assert item.start_ms // 86_400_000 == (item.end_ms - 1) // 86_400_000


@given(ms=st.integers(0, 10**11), price=st.integers(0, 10**9))
def test_piece_rounding_is_exact_half_up(ms: int, price: int) -> None:
    from decimal import ROUND_HALF_UP, Decimal

    exact = Decimal(ms) * Decimal(price) / Decimal(3_600_000)
    assert micro_cost(ms, price) == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    hours = Decimal(ms) * MICRO / Decimal(3_600_000)
    assert micro_hours(ms) == int(hours.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@given(st.integers(-(10**18), 10**18))
def test_fmt_micro_is_the_exact_six_place_decimal(value: int) -> None:
    from decimal import Decimal

    text = fmt_micro(value)
    assert Decimal(text) == Decimal(value).scaleb(-6)
    assert len(text.split(".")[1]) == 6


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(0, 2**42),
    length=st.integers(1, 40 * 86_400_000),
    price=st.integers(0, 10**9),
    on_demand=st.integers(0, 10**9),
)
def test_price_span_equals_the_sum_of_its_day_pieces(start: int, length: int, price: int, on_demand: int) -> None:
    from skytui.core.costs.accounting import pieces, price_span

    end = start + length
    by_piece = [
        (micro_hours(b - a), micro_cost(b - a, price), micro_cost(b - a, on_demand)) for a, b in pieces(start, end)
    ]
    assert price_span(price, on_demand, start, end) == tuple(sum(col) for col in zip(*by_piece))
