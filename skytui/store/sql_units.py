"""Accounting's exact integer units as SQL expressions (see skytui.core.costs.units).

Shared by the per-day sums (`usage_sums`, kept by triggers) and the CSV export's one-query
path (`skytui.core.costs.csv_sql`), so both round floats exactly as Python's `round` does.
"""

from __future__ import annotations


def round_half_even(x: str) -> str:
    """Python's round() of a non-negative float as SQL: half to even (SQLite's ROUND is half up).

    Exact below 2**53: the cast truncates, and the remainder `x - t` is computed exactly.
    """
    t = f"CAST({x} AS INTEGER)"
    return (f"({t} + CASE WHEN {x} - {t} > 0.5 THEN 1 WHEN {x} - {t} < 0.5 THEN 0"
            f" ELSE {t} % 2 END)")


# 2**52 as a float: from there up, doubles are spaced 1 apart.
_TWO_52 = "4503599627370496.0"


def round_half_even_small(x: str) -> str:
    """Python's round() of a float in [0, 2**52) as SQL, with `x` evaluated once.

    Adding 2**52 leaves no bits for a fraction, so the IEEE addition itself rounds `x` to an
    integer, half to even, as round() does; taking 2**52 away again is exact. (Outside that
    range the result is wrong: callers keep such values off this path.) About a quarter of
    `round_half_even`'s work, which evaluates `x` five times.
    """
    return f"CAST({x} + {_TWO_52} - {_TWO_52} AS INTEGER)"
