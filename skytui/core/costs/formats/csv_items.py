"""CSV line items in one pass over usage intervals: clip, price and format each row.

`render(report, "csv")` goes through `csv_lines`, and so do the rows that the CLI's export
from the store (`export.csv_report`, whose SQL prints the usual rows) leaves to Python, so
they print the same bytes. It reads rows in `ROW_FIELDS` order,
which the export's SQL selects directly (`item_rows` reorders `UsageInterval`s), so an
export of 100,000 intervals builds no per-row object besides the line itself.

Shaped for speed (docs/performance.md, "Cost CSV export in one process"): each offer (the
nine fields that repeat for every interval of one type) gets its own `%`-template once,
with its text and quoting already in it, so a usual row is one `%` of its template over
the row's own fields. Times come from tables (days by number, "HH:MM:" by minute of the
day, seconds, milliseconds); catalog prices and names are converted once each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from skytui.core.costs.accounting import pieces, price_span
from skytui.core.costs.formats.common import ITEM_COLUMNS, cell
from skytui.core.costs.model import COMPUTE, UsageInterval
from skytui.core.costs.units import MICRO, MS_PER_DAY, MS_PER_HOUR, day_of, fmt_micro, iso_z

__all__ = ["ITEM_COLUMNS", "NULL_AS_EMPTY", "ROW_FIELDS", "csv_lines", "item_rows"]

# The order `csv_lines` reads: the row's own fields first, then the offer's nine (its key).
# `job_id` and `attempt` are "" when absent (the export's SQL selects `ifnull(job_id, '')`),
# which `%s` prints as the empty field.
ROW_FIELDS = (
    "started_at", "ended_at", "cluster", "node", "job_id", "attempt", "user", "price_per_hour",
    "on_demand_price_per_hour", "end_reason",
    "cloud", "region", "zone", "instance_type", "accelerator", "accelerator_count", "spot", "kind",
    "estimate_source",
)  # fmt: skip
NULL_AS_EMPTY = ("job_id", "attempt")

# Below 2**49 (< 10**15), "%.6f" of micro / 1e6 is exactly the 6-place decimal that
# fmt_micro prints; OR-ing the (non-negative) amounts tests them all at once.
_FAST_LIMIT = 2**49
_TWO_HOURS_MS = 2 * MS_PER_HOUR
# An ISO time is glued from tables ("HH:MM:" by minute of the day, "SS", ".mmmZ"): about
# 3x faster than %02d formatting. (A table of all 86,400 "HH:MM:SS" costs as much to build
# as it saves on 100,000 rows.)
_HOUR_MINUTE = tuple(f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440))
_SECOND = tuple(f"{s:02d}" for s in range(60))
_MILLIS_Z = ("Z",) + tuple(f".{ms:03d}Z" for ms in range(1, 1000))

Window = tuple[int, int, int]


def item_rows(intervals: Iterable[UsageInterval]) -> Iterator[tuple[Any, ...]]:
    """`UsageInterval`s as rows in ROW_FIELDS order (what the export's SQL selects)."""
    for iv in intervals:
        yield (
            iv.started_at, iv.ended_at, iv.cluster, iv.node, "" if iv.job_id is None else iv.job_id,
            "" if iv.attempt is None else iv.attempt, iv.user, iv.price_per_hour,
            iv.on_demand_price_per_hour, iv.end_reason, iv.cloud, iv.region, iv.zone, iv.instance_type,
            iv.accelerator, iv.accelerator_count, iv.spot, iv.kind, iv.estimate_source,
        )  # fmt: skip


def _offer(
    cloud: str, region: str, zone: str | None, itype: str, acc: str | None, count: int, spot: Any,
    kind: str, source: str, currency: str,
) -> tuple[str, str, str, int]:
    """The offer's `%`-template for a one-line row, its text before and after the two
    prices (for the general case) and its GPUs per node-hour."""
    gpus = count if acc and kind == COMPUTE else 0
    head = ",".join((
        cell(cloud), cell(region), cell(zone or ""), cell(itype), cell(f"{acc}:{count}" if acc else ""),
        "true" if spot else "false", kind,
    ))  # fmt: skip
    tail = ",".join(("true" if "estimate" in source else "false", cell(source), currency))
    # start, end, cluster, node, job, attempt, user, head, price, on-demand price, tail,
    # hours, GPU hours (a constant without GPUs), cost, on-demand cost, savings, end reason
    template = (
        "%s%s%s%s,%s%s%s%s,%s,%s,%s,%s,%s," + head.replace("%", "%%") + ",%s,%s," + tail.replace("%", "%%")
        + (",%.6f,%.6f," if gpus else ",%.6f,0.000000,") + "%.6f,%.6f,%.6f,%s"
    )
    return template, head, tail, gpus


def csv_lines(
    rows: Iterable[Sequence[Any]], window: Window, currency: str, *, split_days: bool = False
) -> Iterator[str]:
    """CSV lines (no newline) in ITEM_COLUMNS order for each row's part in the window.

    `rows` are in ROW_FIELDS order; `window` is (since, until, now) in ms as
    `accounting.window_ms` gives it; open intervals count until now. With `split_days`,
    one line per UTC day of each part.
    """
    since_ms, until_ms, now_ms = window
    limit_ms = min(until_ms, now_ms)  # no part of any interval ends after this
    offers: dict[tuple[Any, ...], tuple[str, str, str, int]] = {}
    prices: dict[float, tuple[int, str]] = {}  # catalog prices repeat: convert each once
    quoted: dict[str, str] = {}  # names and end reasons repeat too: quote each once
    days: dict[int, str] = {}  # "2026-11-01T" by day number
    hour_minute, second, millis_z = _HOUR_MINUTE, _SECOND, _MILLIS_Z
    for (
        started, ended, cluster, node, job, attempt, user, price_f, od_f, reason,
        cloud, region, zone, itype, acc, count, spot, kind, source,
    ) in rows:  # fmt: skip
        # The clip of accounting.line_items, inlined: this loop runs once per interval.
        start = round(started * 1000)
        if start < since_ms:
            start = since_ms
        if ended is None:
            end = end_ms = limit_ms
            reason = None
        else:
            end = end_ms = round(ended * 1000)
            if end > limit_ms:
                end = limit_ms
        if end <= start:
            continue
        key = (cloud, region, zone, itype, acc, count, spot, kind, source)
        offer = offers.get(key)
        if offer is None:
            offer = offers[key] = _offer(*key, currency)
        price = prices.get(price_f)
        if price is None:
            micro = round(price_f * MICRO)
            price = prices[price_f] = (micro, fmt_micro(micro))
        od_price = prices.get(od_f)
        if od_price is None:
            micro = round(od_f * MICRO)
            od_price = prices[od_f] = (micro, fmt_micro(micro))
        cluster_q = quoted.get(cluster)
        if cluster_q is None:
            cluster_q = quoted[cluster] = cell(cluster)
        user_q = quoted.get(user)
        if user_q is None:
            user_q = quoted[user] = cell(user)
        if reason:  # printed only on the line that ends where the interval did
            reason_q = quoted.get(reason)
            if reason_q is None:
                reason_q = quoted[reason] = cell(reason)
        else:
            reason_q = ""
        a_day, a_in = divmod(start, MS_PER_DAY)
        one_day = end <= start - a_in + MS_PER_DAY
        if split_days and not one_day:
            who = (cluster_q, str(node), str(job), str(attempt), user_q, offer[1], price[1], od_price[1], offer[2])
            for a, b in pieces(start, end):
                yield _line(a, b, who, price[0], od_price[0], offer[3], reason_q if b == end_ms else "")
            continue
        ms = end - start
        if one_day:
            hours = (ms * 10 + 18) // 36
            cost = (ms * price[0] * 2 + MS_PER_HOUR) // _TWO_HOURS_MS
            on_demand = (ms * od_price[0] * 2 + MS_PER_HOUR) // _TWO_HOURS_MS
        else:
            hours, cost, on_demand = price_span(price[0], od_price[0], start, end)
        gpus = offer[3]
        if (hours * (gpus or 1) | cost | on_demand) >= _FAST_LIMIT:
            who = (cluster_q, str(node), str(job), str(attempt), user_q, offer[1], price[1], od_price[1], offer[2])
            yield _line(start, end, who, price[0], od_price[0], gpus, reason_q if end == end_ms else "")
            continue
        a_s, a_ms = divmod(a_in, 1000)
        b_day, b_in = divmod(end, MS_PER_DAY)
        b_s, b_ms = divmod(b_in, 1000)
        a_day_t = days.get(a_day)
        if a_day_t is None:
            a_day_t = days[a_day] = day_of(start) + "T"
        b_day_t = days.get(b_day)
        if b_day_t is None:
            b_day_t = days[b_day] = day_of(end) + "T"
        if gpus:
            yield offer[0] % (
                a_day_t, hour_minute[a_s // 60], second[a_s % 60], millis_z[a_ms],
                b_day_t, hour_minute[b_s // 60], second[b_s % 60], millis_z[b_ms],
                cluster_q, node, job, attempt, user_q, price[1], od_price[1],
                hours / MICRO, hours * gpus / MICRO, cost / MICRO, on_demand / MICRO, (on_demand - cost) / MICRO,
                reason_q if end == end_ms else "",
            )  # fmt: skip
        else:
            yield offer[0] % (
                a_day_t, hour_minute[a_s // 60], second[a_s % 60], millis_z[a_ms],
                b_day_t, hour_minute[b_s // 60], second[b_s % 60], millis_z[b_ms],
                cluster_q, node, job, attempt, user_q, price[1], od_price[1],
                hours / MICRO, cost / MICRO, on_demand / MICRO, (on_demand - cost) / MICRO,
                reason_q if end == end_ms else "",
            )  # fmt: skip


def _line(a: int, b: int, who: tuple[str, ...], price: int, od_price: int, gpus: int, reason_q: str) -> str:
    """One CSV line for [a, b) of an interval: the general case of csv_lines' loop."""
    hours, cost, on_demand = price_span(price, od_price, a, b)
    amounts = (hours, hours * gpus, cost, on_demand, on_demand - cost)
    return ",".join((iso_z(a), iso_z(b), *who, *map(fmt_micro, amounts), reason_q))
