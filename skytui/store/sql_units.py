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
