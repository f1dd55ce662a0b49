"""The CSV line items against a reference built from the accounting functions, on awkward data.

`csv_lines` (one `%`-template per offer, rows in SQL order) prints what the general path prints:
`accounting.line_items` clipped and priced, each field through `iso_z`, `fmt_micro` and `cell`.
Checked on the export straight from a real SQLite store and on `render(report, "csv")`, over
windows that cut intervals, open intervals, rate changes on one node, names that need quoting
(or hold a `%`), half-millisecond ties, and amounts past the fast path's limit. The golden files
`tests/golden/costs/odd.*` were written by the code before this loop changed (CSV, JSON, FOCUS).
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from costs_helpers import store_with

from skytui.core.costs.accounting import line_items
from skytui.core.costs.export import csv_report
from skytui.core.costs.formats.common import ITEM_COLUMNS, cell, ended_here
from skytui.core.costs.from_store import intervals as stored_intervals
from skytui.core.costs.model import COMPUTE, DISK, UsageInterval
from skytui.core.costs.report import CURRENCY, build_report, render
from skytui.core.costs.units import fmt_micro, iso_z, to_micro
from skytui.store import Store

GOLDEN = Path(__file__).parent / "golden" / "costs"
DAY = 86400.0
START = 1_790_000_000.0  # 2026-09-21T13:33:20Z
NOW = START + 12 * DAY + 0.0005
# Each needs quoting or holds a `%` (the template must not read it as a conversion).
NAMES = ("plain", "a,b", 'q"uote', "=cmd", "+1", "-x", "@y", "\ttab", "new\nline", "ünï", "50%off", "%s%d")


def odd_intervals(n: int, seed: int) -> list[UsageInterval]:
    """`n` intervals over 10 days that exercise every branch of the CSV loop (deterministic)."""
    rng = random.Random(seed)
    out: list[UsageInterval] = []
    for i in range(n):
        started = rng.choice([
            START + rng.random() * 10 * DAY,
            START + rng.randrange(10) * DAY - (START % DAY) + 0.0005,  # a tie at half a millisecond
            START - (START % DAY) + rng.randrange(1, 10) * DAY,  # exactly at UTC midnight
        ])  # fmt: skip
        length = rng.choice([0.0, 0.001, 0.0005, 1.5, 3600.0, DAY, 2 * DAY + 0.123, rng.expovariate(1 / 20000)])
        is_open = rng.random() < 0.12
        price = rng.choice([0.0, 0.0000005, 1.0000005, 9.8318, 0.1 + 0.2, rng.random() * 30, 2.5e9])
        acc = rng.choice([None, "A100", "H,200", "%G"])
        out.append(UsageInterval(
            id=i + 1, cluster=rng.choice(NAMES), node=rng.randrange(3),
            job_id=rng.choice([None, 0, 7, 123456789012]), attempt=rng.choice([None, 1, 2]),
            user=rng.choice(NAMES), cloud=rng.choice(["aws", "gcp", "lo,cal", "50%"]),
            region=rng.choice(["r1", "r,2", '"r3"']), zone=rng.choice([None, "", "z1", "=z"]),
            instance_type=rng.choice(["t1", "t,2", "-t3", "%s"]), accelerator=acc,
            accelerator_count=rng.choice([0, 1, 8]), spot=rng.random() < 0.5, price_per_hour=price,
            on_demand_price_per_hour=rng.choice([price, price * 3, 32.7726]), started_at=started,
            ended_at=None if is_open else started + length,
            end_reason=None if is_open else rng.choice([None, "down", "a,b", "=x", ""]),
            estimate_source=rng.choice(["catalog:aws", "local:reference-estimate", "x,est%mate"]),
            kind=rng.choice([COMPUTE, COMPUTE, DISK]),
        ))  # fmt: skip
    # Rate changes: one node billed at three prices in a row, the last still open.
    node = UsageInterval(
        id=0, cluster="rates", node=0, job_id=9, attempt=1, user="u", cloud="aws", region="r1", zone="z1",
        instance_type="t1", accelerator="A100", accelerator_count=8, spot=True, price_per_hour=0.0,
        on_demand_price_per_hour=32.7726, started_at=0.0, ended_at=None, end_reason=None,
        estimate_source="catalog:aws", kind=COMPUTE,
    )
    t = START + 2 * DAY + 1234.5
    for price, hours in ((9.8318, 20.25), (11.25, 7.0), (7.5, None)):
        end = None if hours is None else t + hours * 3600
        out.append(node.replace(id=len(out) + 1, price_per_hour=price, started_at=t, ended_at=end,
                                end_reason=None if end is None else "price-change"))
        t = end or t
    return out


def reference_csv(
    ivs: list[UsageInterval], *, since: float | None, until: float | None, now: float, split_days: bool
) -> str:
    """The CSV as the general path prints it: line items, then each field on its own."""
    lines = [",".join(ITEM_COLUMNS)]
    for item in line_items(ivs, now=now, since=since, until=until, split_days=split_days):
        iv = item.interval
        hours = item.hours_micro
        lines.append(",".join((
            iso_z(item.start_ms), iso_z(item.end_ms), cell(iv.cluster), str(iv.node),
            "" if iv.job_id is None else str(iv.job_id), "" if iv.attempt is None else str(iv.attempt),
            cell(iv.user), cell(iv.cloud), cell(iv.region), cell(iv.zone or ""), cell(iv.instance_type),
            cell(f"{iv.accelerator}:{iv.accelerator_count}" if iv.accelerator else ""),
            "true" if iv.spot else "false", iv.kind, fmt_micro(to_micro(iv.price_per_hour)),
            fmt_micro(to_micro(iv.on_demand_price_per_hour)), "true" if iv.is_estimate else "false",
            cell(iv.estimate_source), CURRENCY, fmt_micro(hours),
            fmt_micro(hours * iv.accelerator_count if iv.accelerator and iv.kind == COMPUTE else 0),
            fmt_micro(item.cost_micro), fmt_micro(item.on_demand_micro), fmt_micro(item.savings_micro),
            cell(ended_here(item)),
        )))  # fmt: skip
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    st = store_with(tmp_path_factory.mktemp("odd") / "state.db", odd_intervals(400, 3))
    yield st
    st.close()


WINDOWS = [
    pytest.param(None, None, id="all"),
    pytest.param(START + 3 * DAY + 0.0005, START + 7 * DAY + 1800.5, id="window-cuts-intervals"),
    pytest.param(START + 2 * DAY + 5 * 3600, START + 2 * DAY + 40 * 3600, id="rate-changes"),
    pytest.param(NOW - 3600, None, id="open-intervals-until-now"),
    pytest.param(START + 5 * DAY, START + 5 * DAY + 1, id="one-second"),
]


@pytest.mark.parametrize("split_days", [False, True], ids=["by-interval", "by-day"])
@pytest.mark.parametrize(("since", "until"), WINDOWS)
def test_export_matches_the_accounting_reference(
    store: Store, since: float | None, until: float | None, split_days: bool
) -> None:
    ivs = stored_intervals(store, since=since, until=until)
    expected = reference_csv(ivs, since=since, until=until, now=NOW, split_days=split_days)
    assert expected.count("\n") > 1  # the window holds rows to compare
    got = b"".join(csv_report(store, since=since, until=until, now=NOW, currency=CURRENCY,
                              split_days=split_days)).decode()
    assert got == expected
    report = build_report(ivs, since=since, until=until, by="day" if split_days else "cluster", now=NOW)
    assert render(report, "csv") == expected


def test_the_data_reaches_every_branch(store: Store) -> None:
    """The reference comparison means something only if the awkward cases are there."""
    text = b"".join(csv_report(store, since=None, until=None, now=NOW, currency=CURRENCY)).decode()
    assert '"a,b"' in text and "\"'=cmd\"" in text and '"q""uote"' in text and "50%off" in text
    assert "%s%d" in text and "50%," in text and ",%s," in text  # `%` in a name and in an offer
    assert "price-change" in text  # closed rate changes keep their reason
    assert any(len(f) > 17 for line in text.splitlines() for f in line.split(",")[-6:-1])  # past 2**49 micro
    assert re.search(r"T\d\d:\d\d:\d\d\.\d{3}Z,", text)  # millisecond times print as ISO fractions


@pytest.mark.parametrize("fmt", ["csv", "json", "focus"])
def test_odd_data_renders_as_before(fmt: str) -> None:
    """Regenerate with SKYTUI_UPDATE_GOLDEN=1 after an intended change, then review the diff."""
    suffix = {"csv": "csv", "json": "json", "focus": "focus.csv"}[fmt]
    for by in ("cluster", "day"):
        report = build_report(odd_intervals(120, 11), since=START + DAY, by=by, now=NOW)
        text = render(report, fmt)
        path = GOLDEN / f"odd-by-{by}.{suffix}"
        if os.environ.get("SKYTUI_UPDATE_GOLDEN") == "1":
            path.write_bytes(text.encode())
        assert path.read_bytes().decode() == text, f"{path.name} differs"
