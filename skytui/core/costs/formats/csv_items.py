"""CSV line items in one pass over usage intervals: clip, price and format each row.

Both `render(report, "csv")` and the CLI's streaming export go through `csv_lines`, so
they print the same digits. It takes anything shaped like a `UsageInterval` (the store's
raw rows in `from_store.COLUMNS` order are), so an export of 100,000 intervals builds
no per-row objects besides the line itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from skytui.core.costs.accounting import pieces, price_span
from skytui.core.costs.formats.common import ITEM_COLUMNS, cell
from skytui.core.costs.model import COMPUTE
from skytui.core.costs.units import MICRO, MS_PER_DAY, MS_PER_HOUR, day_of, fmt_micro, iso_z

__all__ = ["ITEM_COLUMNS", "csv_lines"]

# Below 2**49 (< 10**15), "%.6f" of micro / 1e6 is exactly the 6-place decimal; OR-ing the
# (non-negative) amounts tests them all at once.
_FAST_LIMIT = 2**49
_TWO_HOURS_MS = 2 * MS_PER_HOUR
_AMOUNTS = "%.6f,%.6f,%.6f,%.6f,%.6f"
# An ISO time is glued from tables ("HH:MM:" by minute of the day, "SS", ".mmmZ"): about
# 3x faster than %02d formatting, which was the largest cost of a big export.
_HOUR_MINUTE = tuple(f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440))
_SECOND = tuple(f"{s:02d}" for s in range(60))
_MILLIS_Z = ("Z",) + tuple(f".{ms:03d}Z" for ms in range(1, 1000))

Window = tuple[int, int, int]


def _offer(
    cloud: str, region: str, zone: str | None, itype: str, acc: str | None, count: int, spot: Any,
    kind: str, source: str, currency: str,
) -> tuple[str, str, int]:
    """The offer's fields before and after its two prices, and its GPUs per node-hour."""
    head = ",".join(
        (
            cell(cloud),
            cell(region),
            cell(zone or ""),
            cell(itype),
            cell(f"{acc}:{count}" if acc else ""),
            "true" if spot else "false",
            kind,
        )
    )
    tail = ",".join(("true" if "estimate" in source else "false", cell(source), currency))
    return head, tail, count if acc and kind == COMPUTE else 0


def csv_lines(
    intervals: Iterable[Sequence[Any]], window: Window, currency: str, *, split_days: bool = False
) -> Iterator[str]:
    """CSV lines (no newline) in ITEM_COLUMNS order for each interval's part in the window.

    `window` is (since, until, now) in ms as `accounting.window_ms` gives it; open
    intervals count until now. With `split_days`, one line per UTC day of each part.
    """
    since_ms, until_ms, now_ms = window
    offers: dict[tuple[Any, ...], tuple[str, str, int]] = {}
    prices: dict[float, tuple[int, str]] = {}  # catalog prices repeat: convert each once
    quoted: dict[str, str] = {}  # names repeat too: quote each once
    days: dict[int, str] = {}  # "2026-11-01T" by day number
    hour_minute, second, millis_z = _HOUR_MINUTE, _SECOND, _MILLIS_Z
    for (
        _id, cluster, node, job, attempt, user, cloud, region, zone, itype, acc, count, spot,
        price_f, od_f, started, ended, reason, source, kind,
    ) in intervals:
        # The clip of accounting.line_items, inlined: this loop runs once per interval.
        start = round(started * 1000)
        end_ms = None if ended is None else round(ended * 1000)
        end = now_ms if end_ms is None or end_ms > now_ms else end_ms
        start = max(start, since_ms)
        end = min(end, until_ms)
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
        job_s = "" if job is None else str(job)
        attempt_s = "" if attempt is None else str(attempt)
        ended_at = end_ms if reason else None  # the reason goes on the line ending where the interval did
        a_day, a_in = divmod(start, MS_PER_DAY)
        if split_days and end > start - a_in + MS_PER_DAY:
            who = (cluster_q, str(node), job_s, attempt_s, user_q, offer[0], price[1], od_price[1], offer[1])
            for a, b in pieces(start, end):
                yield _line(a, b, who, price[0], od_price[0], offer[2], reason, ended_at)
            continue
        # One line: _line, inlined (this is most of a 100,000-row export's time).
        ms = end - start
        if end <= start - a_in + MS_PER_DAY:
            hours = (ms * 10 + 18) // 36
            cost = (ms * price[0] * 2 + MS_PER_HOUR) // _TWO_HOURS_MS
            on_demand = (ms * od_price[0] * 2 + MS_PER_HOUR) // _TWO_HOURS_MS
        else:
            hours, cost, on_demand = price_span(price[0], od_price[0], start, end)
        gpu_hours = hours * offer[2]
        if (hours | gpu_hours | cost | on_demand) >= _FAST_LIMIT:
            who = (cluster_q, str(node), job_s, attempt_s, user_q, offer[0], price[1], od_price[1], offer[1])
            yield _line(start, end, who, price[0], od_price[0], offer[2], reason, ended_at)
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
        yield ",".join(
            (
                a_day_t + hour_minute[a_s // 60] + second[a_s % 60] + millis_z[a_ms],
                b_day_t + hour_minute[b_s // 60] + second[b_s % 60] + millis_z[b_ms],
                cluster_q, str(node), job_s, attempt_s, user_q, offer[0], price[1], od_price[1], offer[1],
                _AMOUNTS % (hours / MICRO, gpu_hours / MICRO, cost / MICRO, on_demand / MICRO,
                            (on_demand - cost) / MICRO),
                cell(reason) if end == ended_at else "",  # reason is set then
            )
        )


def _line(
    a: int, b: int, who: tuple[str, ...], price: int, od_price: int, gpus: int, reason: str | None,
    ended_at: int | None,
) -> str:
    """One CSV line for [a, b) of an interval: the general case of csv_lines' loop."""
    hours, cost, on_demand = price_span(price, od_price, a, b)
    amounts = (hours, hours * gpus, cost, on_demand, on_demand - cost)
    ended_here = cell(reason) if reason and b == ended_at else ""
    return ",".join((iso_z(a), iso_z(b), *who, *map(fmt_micro, amounts), ended_here))
