"""Exact money and time units: integer micro-dollars, micro-hours and milliseconds.

Every amount is computed once per (interval, UTC day) piece as an integer number of
micro-units, rounded half up; rows, days and totals are sums of those integers, so any
grouping adds up to the total exactly and every format prints the same digits.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timezone
from decimal import Decimal

MICRO = 1_000_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def to_ms(seconds: float) -> int:
    """Unix seconds as whole milliseconds (the resolution of all accounting)."""
    return round(seconds * 1000)


def to_micro(amount: float) -> int:
    """A price in dollars as integer micro-dollars (catalog prices have <= 6 decimals)."""
    return round(amount * MICRO)


def div_round(numerator: int, denominator: int) -> int:
    """Integer division rounded half up (away from zero), for non-negative numerators."""
    return (2 * numerator + denominator) // (2 * denominator)


def micro_hours(ms: int) -> int:
    """Milliseconds as micro-hours, rounded half up."""
    return (ms * 10 + 18) // 36  # = div_round(ms * 1e6, 3.6e6)


def micro_cost(ms: int, price_micro_per_hour: int) -> int:
    """The cost in micro-dollars of `ms` milliseconds at a price in micro-dollars per hour."""
    return (ms * price_micro_per_hour * 2 + MS_PER_HOUR) // (2 * MS_PER_HOUR)


_FLOAT_EXACT = 10**15  # below this, value / 1e6 printed to 6 places is exactly the decimal


def fmt_micro(value: int) -> str:
    """Integer micro-units as a plain decimal with exactly 6 places (e.g. "12.345678")."""
    if -_FLOAT_EXACT < value < _FLOAT_EXACT:
        return f"{value / MICRO:.6f}"
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), MICRO)
    return f"{sign}{whole}.{frac:06d}"


def fmt_cents(value: int) -> str:
    """Integer micro-units rounded half-up to 2 places for people ("0.32"); data formats keep all 6."""
    cents = (abs(value) + 5_000) // 10_000
    whole, frac = divmod(cents, 100)
    return f"{'-' if value < 0 and cents else ''}{whole}.{frac:02d}"


def micro_to_decimal(value: int) -> Decimal:
    """Integer micro-units as an exact Decimal with 6 places."""
    return Decimal(value).scaleb(-6)


DAY_TEXT: dict[int, str] = {}


def day_of(ms: int) -> str:
    """The UTC calendar day ("2026-11-01") that contains a millisecond timestamp."""
    index = ms // MS_PER_DAY
    text = DAY_TEXT.get(index)
    if text is None:
        text = date.fromordinal(_EPOCH_ORDINAL + index).isoformat()
        DAY_TEXT[index] = text
    return text


def iso_z(ms: int) -> str:
    """A millisecond timestamp as ISO-8601 UTC ending in Z (milliseconds only when non-zero)."""
    index, in_day = divmod(ms, MS_PER_DAY)
    day = DAY_TEXT.get(index) or day_of(ms)
    secs, millis = divmod(in_day, 1000)
    frac = f".{millis:03d}" if millis else ""
    return f"{day}T{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}{frac}Z"


def day_start_ms(ms: int) -> int:
    """The UTC midnight at or before `ms`."""
    return ms - ms % MS_PER_DAY


def month_bounds_ms(ms: int) -> tuple[int, int]:
    """The UTC calendar month containing `ms`, as [start, end) in milliseconds."""
    d = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    start = calendar.timegm((d.year, d.month, 1, 0, 0, 0)) * 1000
    year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    end = calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
    return start, end
