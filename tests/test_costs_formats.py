"""Cost report formats: golden files, FOCUS columns, self-contained HTML, equal totals."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skytui.core.costs import (
    FORMATS,
    UsageInterval,
    build_report,
    parse_since,
    render,
    write_report,
)
from skytui.core.costs.formats.focus import FOCUS_COLUMNS
from skytui.core.costs.report import Report
from skytui.core.costs.sample import DEMO_NOW, demo_intervals
from skytui.errors import SkytuiError

GOLDEN = Path(__file__).parent / "golden" / "costs"
SUFFIX = {
    "table": "txt",
    "csv": "csv",
    "json": "json",
    "markdown": "md",
    "html": "html",
    "focus": "focus.csv",
}


def demo_report(by: str = "cluster") -> Report:
    return build_report(demo_intervals(), since=None, by=by, now=DEMO_NOW)


# --- reading the total back out of every format -------------------------------------------


def _cells_after(text: str, label: str) -> list[str]:
    for line in text.splitlines():
        if line.startswith(label):
            return line.split()
    raise AssertionError(f"no {label!r} line")


HUMAN = ("table", "markdown")  # round to cents for people; the data formats keep 6 places


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def same_total(totals: dict[str, Decimal], exact: Decimal) -> bool:
    """Data formats print the exact total; human ones the same total rounded to cents."""
    return all(v == (cents(exact) if k in HUMAN else exact) for k, v in totals.items())


def totals_in_every_format(report: Report) -> dict[str, Decimal]:
    """The total cost each format prints (or adds up to), read back from its text."""
    out: dict[str, Decimal] = {}
    out["table"] = Decimal(_cells_after(render(report, "table"), "Total")[3])
    md_total = next(
        line for line in render(report, "markdown").splitlines() if line.startswith("| **Total**")
    )
    out["markdown"] = Decimal(md_total.split("|")[4].strip().strip("*"))
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    out["csv"] = sum((Decimal(r["cost"]) for r in rows), Decimal(0))
    doc = json.loads(render(report, "json"), parse_float=Decimal)
    out["json"] = Decimal(doc["total_cost"])
    out["json rows"] = sum((Decimal(r["cost"]) for r in doc["rows"]), Decimal(0))
    out["json items"] = sum((Decimal(i["cost"]) for i in doc["items"]), Decimal(0))
    page = render(report, "html")
    out["html"] = Decimal(re.search(r"Total cost <strong>([0-9.]+) USD", page).group(1))
    foot = re.search(
        r"<tfoot><tr[^>]*><td>Total</td><td>[^<]*</td><td>[^<]*</td><td>([0-9.]+)<", page
    )
    out["html table"] = Decimal(foot.group(1))
    focus = list(csv.DictReader(io.StringIO(render(report, "focus"))))
    out["focus"] = sum((Decimal(r["BilledCost"]) for r in focus), Decimal(0))
    return out


def test_every_format_prints_the_same_total() -> None:
    for by in ("cluster", "day", "gpu"):
        report = demo_report(by)
        totals = totals_in_every_format(report)
        assert same_total(totals, Decimal("393.845213")), totals


intervals_st = st.builds(
    UsageInterval,
    id=st.integers(1, 10**6),
    cluster=st.sampled_from(["a", "b-1", "c,comma", 'q"uote']),
    node=st.integers(0, 3),
    job_id=st.none() | st.integers(1, 5),
    attempt=st.none() | st.integers(1, 3),
    user=st.sampled_from(["alice", "bob"]),
    cloud=st.sampled_from(["aws", "gcp", "local"]),
    region=st.sampled_from(["r1", "r2"]),
    zone=st.none() | st.just("r1a"),
    instance_type=st.just("t1"),
    accelerator=st.none() | st.sampled_from(["A100", "H200"]),
    accelerator_count=st.integers(0, 8),
    spot=st.booleans(),
    price_per_hour=st.decimals(0, 100, places=4).map(float),
    on_demand_price_per_hour=st.decimals(0, 100, places=4).map(float),
    started_at=st.floats(1.79e9, 1.79e9 + 10 * 86400),
    ended_at=st.none() | st.floats(1.79e9, 1.79e9 + 12 * 86400),
    end_reason=st.sampled_from([None, "stopped", "autostop", "spot-preempted"]),
    estimate_source=st.sampled_from(["catalog:aws", "local:reference-estimate"]),
    kind=st.sampled_from(["compute", "disk"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ivs=st.lists(intervals_st, max_size=12),
    by=st.sampled_from(["cluster", "job", "user", "region", "cloud", "gpu", "day"]),
    now=st.floats(1.79e9, 1.79e9 + 14 * 86400),
    since=st.none() | st.floats(1.79e9 - 86400, 1.79e9 + 14 * 86400),
)
def test_every_format_total_is_equal_for_any_usage(
    ivs: list[UsageInterval], by: str, now: float, since: float | None
) -> None:
    report = build_report(ivs, since=since, by=by, now=now)
    totals = totals_in_every_format(report)
    assert same_total(totals, report.total.cost), totals


# --- golden files ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_files(fmt: str) -> None:
    """Regenerate with SKYTUI_UPDATE_GOLDEN=1 after an intended change, then review the diff."""
    for by in ("cluster", "day"):
        path = GOLDEN / f"by-{by}.{SUFFIX[fmt]}"
        text = render(demo_report(by), fmt)
        if os.environ.get("SKYTUI_UPDATE_GOLDEN") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == text, f"{path.name} differs"


# --- FOCUS ----------------------------------------------------------------------------------

FOCUS_DECIMALS = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ConsumedQuantity",
    "PricingQuantity",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "x_OnDemandEquivalentCost",
)
FOCUS_DATES = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")
REQUIRED = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ListUnitPrice",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "ServiceName",
    "ServiceCategory",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "RegionId",
    "RegionName",
    "AvailabilityZone",
    "SkuId",
    "Tags",
    "x_GpuType",
    "x_GpuCount",
    "x_Job",
    "x_OnDemandEquivalentCost",
    "x_EstimateSource",
)


def _when(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text[:-1] + "+00:00")


def test_focus_columns_and_types() -> None:
    report = demo_report()
    reader = csv.DictReader(io.StringIO(render(report, "focus")))
    assert set(REQUIRED) <= set(reader.fieldnames or ())
    assert list(reader.fieldnames or ()) == list(FOCUS_COLUMNS)
    rows = list(reader)
    assert rows
    for row in rows:
        for name in FOCUS_DECIMALS:
            assert Decimal(row[name]) >= 0, name
        start, end = _when(row["ChargePeriodStart"]), _when(row["ChargePeriodEnd"])
        period_start, period_end = _when(row["BillingPeriodStart"]), _when(row["BillingPeriodEnd"])
        assert period_start <= start < end <= period_end
        assert (period_start.day, period_start.hour, period_end.day) == (1, 0, 1)
        assert start.date() == (end - (end - start) / 2).date()  # one UTC day per row
        assert row["BillingCurrency"] == "USD"
        assert row["ChargeCategory"] == "Usage"
        assert row["ChargeClass"] == ""
        assert row["PricingUnit"] == row["ConsumedUnit"] == "Hours"
        assert row["EffectiveCost"] == row["BilledCost"] == row["ContractedCost"]
        assert row["ListCost"] == row["x_OnDemandEquivalentCost"]
        list_cost = Decimal(row["ListUnitPrice"]) * Decimal(row["PricingQuantity"])
        assert abs(list_cost - Decimal(row["ListCost"])) <= Decimal("0.00001") * (
            1 + Decimal(row["ListUnitPrice"])
        )
        assert isinstance(json.loads(row["Tags"]), dict)
        int(row["x_GpuCount"])
    by_provider = {r["ResourceId"]: r for r in rows}
    assert by_provider["train-llm/node-0"]["PricingCategory"] in {"Dynamic"}
    assert by_provider["dev-alice/node-0"]["PricingCategory"] == "Standard"
    assert by_provider["dev-alice/node-0/disk"]["ServiceCategory"] == "Storage"
    providers = {r["ProviderName"] for r in rows}
    assert providers == {"AWS", "Google Cloud", "skytui local cloud (estimate)"}
    assert {r["PricingCategory"] for r in rows} == {"Standard", "Dynamic"}
    local = [r for r in rows if r["ProviderName"].startswith("skytui local")]
    assert all(r["x_EstimateSource"] == "local:reference-estimate" for r in local)
    assert all("(estimate)" in r["ChargeDescription"] for r in local)


def test_focus_rows_do_not_cross_the_month_boundary() -> None:
    rows = list(csv.DictReader(io.StringIO(render(demo_report(), "focus"))))
    node0 = [
        r for r in rows if r["ResourceId"] == "train-llm/node-0" and r["ProviderName"] == "AWS"
    ]
    assert [(r["ChargePeriodStart"], r["BillingPeriodStart"]) for r in node0] == [
        ("2026-10-31T20:00:00Z", "2026-10-01T00:00:00Z"),
        ("2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z"),
    ]
    assert [r["BilledCost"] for r in node0] == ["39.327200", "24.579500"]


# --- HTML -----------------------------------------------------------------------------------


def test_html_is_self_contained_and_escaped() -> None:
    evil = UsageInterval(
        id=99,
        cluster="<script>alert(1)</script>",
        node=0,
        job_id=None,
        attempt=None,
        user="x&y",
        cloud="aws",
        region="us-east-1",
        zone=None,
        instance_type="t3",
        accelerator=None,
        accelerator_count=0,
        spot=False,
        price_per_hour=1.0,
        on_demand_price_per_hour=1.0,
        started_at=DEMO_NOW - 3600,
        ended_at=None,
        end_reason=None,
        estimate_source="catalog:aws",
    )
    page = render(
        build_report([*demo_intervals(), evil], since=None, by="cluster", now=DEMO_NOW), "html"
    )
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"\b(src|href)\s*=", page)
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<svg" in page and page.count('class="bar"') == 3  # three UTC days of spend
    assert 'class="estimate"' in page


# --- parse_since ----------------------------------------------------------------------------

NOW = datetime(2026, 11, 15, 12, 30, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", NOW - 30 * 86400),
        ("12h", NOW - 12 * 3600),
        ("2w", NOW - 14 * 86400),
        (" 1.5D ", NOW - 1.5 * 86400),
        ("today", datetime(2026, 11, 15, tzinfo=timezone.utc).timestamp()),
        ("month", datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()),
        ("2026-11-01T06:00:00Z", datetime(2026, 11, 1, 6, tzinfo=timezone.utc).timestamp()),
        ("2026-11-01T06:00:00+02:00", datetime(2026, 11, 1, 4, tzinfo=timezone.utc).timestamp()),
        ("2026-11-01T06:00", datetime(2026, 11, 1, 6, tzinfo=timezone.utc).timestamp()),
    ],
)
def test_parse_since_accepts(text: str, expected: float) -> None:
    assert parse_since(text, NOW) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "30", "30x", "last week", "2026-13-01", "2027-01-01", "-3d"])
def test_parse_since_refuses_with_the_fix(text: str) -> None:
    with pytest.raises(SkytuiError) as err:
        parse_since(text, NOW)
    assert "use 30d, 12h" in str(err.value)
    assert "like 2026-11-01" in str(err.value)


# --- write_report ---------------------------------------------------------------------------


def test_write_report_to_a_file_is_atomic_and_shareable(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    target = folder / "costs.csv"
    target.write_text("old", encoding="utf-8")
    write_report(demo_report(), "csv", target)
    assert target.read_text(encoding="utf-8") == render(demo_report(), "csv")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in folder.iterdir()] == ["costs.csv"]  # no temp file left


def test_write_report_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    write_report(demo_report(), "markdown", None)
    assert capsys.readouterr().out == render(demo_report(), "markdown")


def test_write_report_errors_are_one_line_with_a_fix(tmp_path: Path) -> None:
    with pytest.raises(SkytuiError, match="choose a folder"):
        write_report(demo_report(), "csv", tmp_path / "missing" / "costs.csv")
    with pytest.raises(SkytuiError, match="use one of: table, csv"):
        write_report(demo_report(), "xlsx", tmp_path / "costs.xlsx")


def test_csv_has_utc_times_plain_decimals_and_quotes_odd_names() -> None:
    odd = UsageInterval(
        id=50,
        cluster="a,b",
        node=0,
        job_id=3,
        attempt=1,
        user='say "hi"',
        cloud="gcp",
        region="us-central1",
        zone=None,
        instance_type="n2",
        accelerator=None,
        accelerator_count=0,
        spot=True,
        price_per_hour=0.1,
        on_demand_price_per_hour=0.3,
        started_at=DEMO_NOW - 7200,
        ended_at=DEMO_NOW - 3600,
        end_reason="spot-preempted",
        estimate_source="catalog:gcp",
    )
    text = render(build_report([odd], since=None, by="cluster", now=DEMO_NOW), "csv")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["cluster"] == "a,b" and row["user"] == 'say "hi"'
    assert row["start"] == "2026-11-02T10:00:00Z" and row["end"] == "2026-11-02T11:00:00Z"
    assert (row["cost"], row["on_demand_cost"], row["savings"]) == (
        "0.100000",
        "0.300000",
        "0.200000",
    )
    assert row["end_reason"] == "spot-preempted" and row["spot"] == "true" and row["job"] == "3"
    expected_columns = {
        "cluster",
        "job",
        "user",
        "cloud",
        "region",
        "zone",
        "instance_type",
        "accelerators",
        "spot",
        "hours",
        "price_per_hour",
        "cost",
        "on_demand_cost",
        "savings",
        "start",
        "end",
    }
    assert expected_columns <= set(row)


def test_clipped_item_does_not_claim_the_intervals_end_reason() -> None:
    until = DEMO_NOW - 35 * 3600  # 2026-11-01T01:00Z, before the spot preemption at 02:30
    report = build_report(demo_intervals(), since=None, until=until, by="cluster", now=DEMO_NOW)
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert len(rows) == 2
    assert {r["end_reason"] for r in rows} == {""}  # both were cut by the window
    assert {r["end"] for r in rows} == {"2026-11-01T01:00:00Z"}


def test_empty_report_renders_in_every_format() -> None:
    report = build_report([], since=DEMO_NOW - 86400, by="cluster", now=DEMO_NOW)
    for fmt in FORMATS:
        assert render(report, fmt)
    assert "no usage in this window" in render(report, "table")
    assert json.loads(render(report, "json"))["total_cost"] == 0
