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


# 1.5 * 2**52 as a float: from 2**52 to 2**53, doubles are spaced exactly 1 apart.
_MAGIC = "6755399441055744.0"


def round_half_even_small(x: str) -> str:
    """Python's round() of a float in (-2**51, 2**51) as SQL, with `x` evaluated once.

    `x + 1.5 * 2**52` lands between 2**52 and 2**53, where doubles have no bits for a fraction,
    so the IEEE addition itself rounds `x` to an integer, half to even, as round() does; taking
    the constant away again is exact. (Outside that range the result is off by up to one:
    callers keep such values off this path, or use them only in comparisons far past where
    they matter.) About a quarter of `round_half_even`'s work, which evaluates `x` five times.
    """
    return f"CAST({x} + {_MAGIC} - {_MAGIC} AS INTEGER)"
