"""Cost arithmetic over usage intervals, with a fixed clock and hand-computed amounts."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from skytui.core.costs import (
    UsageInterval,
    autostop_savings,
    build_report,
    clip,
    group_items,
    line_items,
    spend_rate,
    spend_today_and_month,
    total_of,
)
from skytui.core.costs.sample import DEMO_NOW, demo_intervals
from skytui.errors import SkytuiError


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def interval(**changes: object) -> UsageInterval:
    base = UsageInterval(
        id=1,
        cluster="c1",
        node=0,
        job_id=None,
        attempt=None,
        user="alice",
        cloud="aws",
        region="us-east-1",
        zone="us-east-1a",
        instance_type="g5.xlarge",
        accelerator="A10G",
        accelerator_count=1,
        spot=False,
        price_per_hour=1.0,
        on_demand_price_per_hour=1.0,
        started_at=utc("2026-11-01T00:00:00"),
        ended_at=utc("2026-11-01T02:00:00"),
        end_reason="stopped",
        estimate_source="catalog:aws",
    )
    return base.replace(**changes)


def by_key(
    intervals: list[UsageInterval], by: str, now: float, **window: float
) -> dict[str, Decimal]:
    report = build_report(
        intervals, since=window.get("since"), until=window.get("until"), by=by, now=now
    )
    return {row.key: row.cost for row in report.rows}


def test_closed_interval_costs_hours_times_price() -> None:
    iv = interval(price_per_hour=2.5, on_demand_price_per_hour=2.5)
    [item] = line_items([iv], now=utc("2026-11-05T00:00:00"))
    assert item.hours_micro == 2_000_000
    assert item.cost == Decimal("5.000000")
    assert item.savings_micro == 0


def test_open_interval_counts_until_now_and_grows_with_the_clock() -> None:
    iv = interval(ended_at=None, end_reason=None, price_per_hour=3.0)
    at_one = total_of(line_items([iv], now=utc("2026-11-01T01:00:00")))
    at_three = total_of(line_items([iv], now=utc("2026-11-01T03:00:00")))
    assert at_one.cost == Decimal("3.000000")
    assert at_three.cost == Decimal("9.000000")
    assert at_three.hours == Decimal("3.000000")


def test_interval_is_clipped_to_the_window_and_to_now() -> None:
    iv = interval(started_at=utc("2026-11-01T00:00:00"), ended_at=utc("2026-11-01T10:00:00"))
    now = utc("2026-11-01T08:00:00")  # ended_at after now: a clock skew, count only until now
    span = clip(iv, now=now, since=utc("2026-11-01T02:00:00"), until=utc("2026-11-01T20:00:00"))
    assert span == (utc("2026-11-01T02:00:00"), now)
    assert clip(iv, now=now, since=utc("2026-11-01T09:00:00")) is None
    assert clip(iv, now=now, until=utc("2026-11-01T00:00:00")) is None


def test_window_until_is_exclusive_and_since_inclusive() -> None:
    a = interval(id=1, started_at=utc("2026-11-01T00:00:00"), ended_at=utc("2026-11-01T01:00:00"))
    b = interval(id=2, started_at=utc("2026-11-01T01:00:00"), ended_at=utc("2026-11-01T02:00:00"))
    items = line_items(
        [a, b],
        now=utc("2026-11-03T00:00:00"),
        since=utc("2026-11-01T01:00:00"),
        until=utc("2026-11-01T02:00:00"),
    )
    assert [i.interval.id for i in items] == [2]


def test_spot_savings_are_on_demand_minus_cost() -> None:
    iv = interval(spot=True, price_per_hour=9.8318, on_demand_price_per_hour=32.7726)
    total = total_of(line_items([iv], now=utc("2026-11-02T00:00:00")))
    assert total.cost == Decimal("19.663600")
    assert total.on_demand_cost == Decimal("65.545200")
    assert total.savings == Decimal("45.881600")


def test_stop_start_cycle_counts_only_running_time() -> None:
    runs = [
        interval(id=1, started_at=utc("2026-11-01T08:00:00"), ended_at=utc("2026-11-01T12:00:00")),
        interval(id=2, started_at=utc("2026-11-01T20:00:00"), ended_at=utc("2026-11-01T21:30:00")),
    ]
    total = total_of(line_items(runs, now=utc("2026-11-02T00:00:00")))
    assert total.hours == Decimal("5.500000")
    assert total.cost == Decimal("5.500000")


def test_price_change_between_intervals_uses_each_intervals_price() -> None:
    runs = [
        interval(
            id=1,
            price_per_hour=1.212,
            started_at=utc("2026-11-01T00:00:00"),
            ended_at=utc("2026-11-01T10:00:00"),
        ),
        interval(id=2, price_per_hour=1.25, started_at=utc("2026-11-01T10:00:00"), ended_at=None),
    ]
    total = total_of(line_items(runs, now=utc("2026-11-01T14:00:00")))
    assert total.cost == Decimal("17.120000")  # 10 h x 1.212 + 4 h x 1.25


def test_multi_node_cluster_pays_per_node_and_counts_gpus() -> None:
    nodes = [
        interval(id=n, node=n, accelerator="A100", accelerator_count=8, price_per_hour=32.7726)
        for n in range(4)
    ]
    [row] = group_items(line_items(nodes, now=utc("2026-11-02T00:00:00")), "cluster")
    assert row.cost == Decimal("262.180800")  # 4 nodes x 2 h x 32.7726
    assert row.gpu_hours_micro == 4 * 2 * 8 * 1_000_000
    assert row.items == 4


def test_preemption_and_recovery_in_another_cloud_group_by_job_and_cloud() -> None:
    ivs = demo_intervals()
    assert by_key(ivs, "job", DEMO_NOW)["7"] == Decimal("349.280066")
    clouds = by_key(ivs, "cloud", DEMO_NOW)
    # AWS: 2 nodes x 6.5 h x 9.8318 spot, plus the dev VM (9.5 h x 1.212 + 4 h x 1.25 + disk)
    assert clouds["aws"] == Decimal("127.813400") + Decimal("11.514000") + Decimal(
        "5.000000"
    ) + Decimal("0.147947")
    assert clouds["local"] == Decimal("27.000000")


def test_day_grouping_splits_at_utc_midnight_across_a_month_boundary() -> None:
    days = by_key(demo_intervals(), "day", DEMO_NOW)
    assert list(days) == ["2026-10-31", "2026-11-01", "2026-11-02"]
    assert days["2026-10-31"] == Decimal("78.654400")  # 2 nodes x 4 h x 9.8318
    assert (
        sum(days.values())
        == build_report(demo_intervals(), since=None, by="cluster", now=DEMO_NOW).total.cost
    )


def test_gpu_grouping_names_the_accelerator_or_cpu() -> None:
    gpus = by_key(demo_intervals(), "gpu", DEMO_NOW)
    assert set(gpus) == {"A100", "A10G", "H200", "cpu"}
    assert gpus["cpu"] == Decimal("0.903200")


def test_region_and_user_groupings() -> None:
    regions = by_key(demo_intervals(), "region", DEMO_NOW)
    assert regions["gcp/europe-west4"] == Decimal("0.903200")
    users = by_key(demo_intervals(), "user", DEMO_NOW)
    assert set(users) == {"alice", "bob", "carol"}


def test_unknown_grouping_is_a_user_error_with_the_choices() -> None:
    with pytest.raises(SkytuiError, match="use one of: cluster, job, user"):
        build_report([], since=None, by="team", now=DEMO_NOW)


def test_disk_intervals_are_cost_and_reported_apart() -> None:
    report = build_report(demo_intervals(), since=None, by="cluster", now=DEMO_NOW)
    dev = next(r for r in report.rows if r.key == "dev-alice")
    assert dev.disk_cost_micro == 147_947  # 13.5 h x 0.010959, rounded per UTC day
    assert dev.gpu_hours_micro == 13_500_000  # disk hours carry no GPU hours
    assert report.total.disk_cost_micro == 147_947


def test_estimates_are_labelled() -> None:
    report = build_report(demo_intervals(), since=None, by="cluster", now=DEMO_NOW)
    labelled = {r.key for r in report.rows if r.estimate}
    assert labelled == {"bob-notebook"}
    assert report.estimate_sources == ["local:reference-estimate"]


def test_spend_rate_sums_open_intervals() -> None:
    rate = spend_rate(demo_intervals(), DEMO_NOW)
    assert rate["total"] == pytest.approx(5.75)
    assert rate["by_cloud"] == {"aws": 1.25, "local": 4.5}
    assert rate["by_region"] == {"aws/us-west-2": 1.25, "local/local-1": 4.5}
    assert rate["by_user"] == {"alice": 1.25, "bob": 4.5}
    # At 05:00 on 2 November the dev VM was stopped and the notebook not yet started.
    assert spend_rate(demo_intervals(), utc("2026-11-02T05:00:00"))["total"] == 0


def test_spend_today_and_month_use_utc_boundaries() -> None:
    today, month = spend_today_and_month(demo_intervals(), DEMO_NOW)
    assert today == Decimal("32.087672")
    # November only: everything but the 8 spot hours of 31 October.
    assert month == Decimal("393.845213") - Decimal("78.654400")


def test_autostop_savings_count_the_gap_until_the_next_start() -> None:
    saved = autostop_savings(demo_intervals(), now=DEMO_NOW)
    assert saved.stops == 1
    assert saved.hours == Decimal("13.500000")
    assert saved.saved == Decimal("16.362000")  # 13.5 h x 1.212
    assert saved.disk_cost == Decimal("0.147947")
    assert saved.net == Decimal("16.214053")
    assert saved.by_cluster == {"dev-alice": 16_362_000}


def test_autostop_without_a_restart_counts_until_now_per_node() -> None:
    ivs = [interval(id=n, node=n, price_per_hour=2.0, end_reason="autostop") for n in range(2)]
    saved = autostop_savings(ivs, now=utc("2026-11-01T05:00:00"))
    assert saved.hours == Decimal("6.000000")  # 2 nodes x 3 h since 02:00
    assert saved.saved == Decimal("12.000000")
    window = autostop_savings(ivs, now=utc("2026-11-01T05:00:00"), since=utc("2026-11-01T04:00:00"))
    assert window.saved == Decimal("4.000000")


def test_stops_for_other_reasons_save_nothing() -> None:
    ivs = [interval(end_reason="stopped"), interval(id=2, end_reason="spot-preempted")]
    assert autostop_savings(ivs, now=utc("2026-11-02T00:00:00")).saved_micro == 0


def test_bad_records_are_refused() -> None:
    with pytest.raises(ValueError, match="negative price"):
        interval(price_per_hour=-1.0)
    with pytest.raises(ValueError, match="kind"):
        interval(kind="network")


def test_local_timezone_does_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    def everything() -> tuple[object, ...]:
        day = build_report(demo_intervals(), since=None, by="day", now=DEMO_NOW)
        return (
            [(r.key, r.cost_micro) for r in day.rows],
            spend_today_and_month(demo_intervals(), DEMO_NOW),
            autostop_savings(demo_intervals(), now=DEMO_NOW).saved_micro,
        )

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        in_utc = everything()
        for zone in ("America/Los_Angeles", "Asia/Kolkata", "Pacific/Kiritimati"):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            assert time.localtime(DEMO_NOW).tm_hour != 12  # the zone really is not UTC
            assert everything() == in_utc
    finally:
        monkeypatch.undo()
        time.tzset()
