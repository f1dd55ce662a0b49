"""Cost accounting end to end: real local clusters, then every `skytui cost-report` format."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from test_cli import skytui

from skytui.config_model import Config
from skytui.core import clusters
from skytui.core.context import Core
from skytui.task.spec import Resources, Task

pytestmark = pytest.mark.slow

RAN_FOR = 3600.0  # what the controllable clock moves between launch and teardown


class Clock:
    """A clock set two hours back, so the hour the clusters run lies wholly in the past."""

    def __init__(self) -> None:
        self.now = time.time() - 2 * RAN_FOR

    def __call__(self) -> float:
        return self.now


def _cost_report(*args: str) -> str:
    done = skytui("cost-report", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _amount(text: str) -> Decimal:
    return Decimal(text.strip().strip("*"))


async def test_two_local_clusters_cost_the_same_in_every_format(sandbox: Path, tmp_path: Path) -> None:
    clock = Clock()
    core = Core(config=Config(), clock=clock)
    try:
        await clusters.launch(core, "ondemand", Task(run="true", resources=(Resources(cloud="local"),)),
                              clusters.LaunchOptions())
        await clusters.launch(core, "spotty",
                              Task(run="true", resources=(Resources(cloud="local", use_spot=True),)),
                              clusters.LaunchOptions())
        clock.now += RAN_FOR
    finally:
        for name in ("ondemand", "spotty"):
            if core.store.cluster(name) is not None:
                await clusters.down(core, name)
        await core.aclose()

    # CSV: one line item per node interval; both clusters priced, the spot one cheaper.
    rows = list(csv.DictReader(io.StringIO(_cost_report("--format", "csv"))))
    by_cluster = {r["cluster"]: r for r in rows}
    assert set(by_cluster) == {"ondemand", "spotty"}
    assert all(Decimal(r["cost"]) > 0 for r in rows)
    assert by_cluster["spotty"]["spot"] == "true" and by_cluster["ondemand"]["spot"] == "false"
    assert Decimal(by_cluster["spotty"]["savings"]) > 0
    assert Decimal(by_cluster["ondemand"]["savings"]) == 0
    assert abs(Decimal(by_cluster["ondemand"]["hours"]) - 1) < Decimal("0.01")
    total = sum(Decimal(r["cost"]) for r in rows)
    assert total > 0

    # JSON: the same total, and both clusters as rows.
    doc = json.loads(_cost_report("--format", "json"))
    assert doc["currency"] == "USD"
    assert Decimal(str(doc["total_cost"])) == total
    assert Decimal(str(doc["savings"])) > 0
    assert {r["key"] for r in doc["rows"]} == {"ondemand", "spotty"}
    assert all(r["cost"] > 0 for r in doc["rows"])

    # FOCUS: spot is Dynamic pricing, on-demand Standard; billed costs add up to the total.
    focus = list(csv.DictReader(io.StringIO(_cost_report("--format", "focus"))))
    pricing = {r["ResourceName"].split("/")[0]: r["PricingCategory"] for r in focus}
    assert pricing == {"ondemand": "Standard", "spotty": "Dynamic"}
    assert sum(Decimal(r["BilledCost"]) for r in focus) == total
    assert all(r["BillingCurrency"] == "USD" and r["ChargeCategory"] == "Usage" for r in focus)
    spot_rows = [r for r in focus if r["ResourceName"].startswith("spotty/")]
    assert sum(Decimal(r["ListCost"]) - Decimal(r["BilledCost"]) for r in spot_rows) > 0

    # Table and Markdown: a line per cluster with cost > 0, and the same total.
    for fmt in ("table", "md"):
        text = _cost_report("--format", fmt)
        lines = text.splitlines()
        for name in ("ondemand", "spotty"):
            [line] = [ln for ln in lines if re.match(rf"^\|?\s*{name}\b", ln)]
            cells = [c for c in re.split(r"\s*\|\s*|\s{2,}", line.strip("| ")) if c]
            assert _amount(cells[3]) > 0, (fmt, line)
        [total_line] = [ln for ln in lines if re.match(r"^\|?\s*\**Total", ln)]
        cells = [c for c in re.split(r"\s*\|\s*|\s{2,}", total_line.strip("| ")) if c]
        # Human tables round to cents; CSV, JSON and FOCUS above keep every digit.
        assert _amount(cells[3]) == total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), (fmt, total_line)

    # HTML: one page naming both clusters and printing the same total.
    html = _cost_report("--format", "html")
    assert "<td>ondemand</td>" in html and "<td>spotty</td>" in html
    assert f"<strong>{total:.6f} USD</strong>" in html

    # -o FILE writes the file and says where.
    out = tmp_path / "costs.csv"
    done = skytui("cost-report", "--format", "csv", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stderr and done.stdout == ""
    assert sum(Decimal(r["cost"]) for r in csv.DictReader(io.StringIO(out.read_text()))) == total


def test_a_bad_since_is_one_line_and_exit_2() -> None:
    done = skytui("cost-report", "--since", "last tuesday")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "--since" in done.stderr and "30d" in done.stderr
