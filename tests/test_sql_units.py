"""The SQL roundings (`store/sql_units`) against Python's round(), value for value."""

from __future__ import annotations

import random
import sqlite3

import pytest

from skytui.store.sql_units import round_half_even, round_half_even_small

TWO_51 = 2.0**51


def values(negative: bool) -> list[float]:
    """Ties at every scale, their neighbours, times in ms and micro-prices as the export makes them."""
    rng = random.Random(7)
    ties = [k + 0.5 for k in (0, 1, 2, 3, 1_000_000, 2**40 + 1, 2**50 - 1, 2**50)]
    near = [x + d for x in ties for d in (-1e-9, 1e-9)]
    ms = [rng.uniform(0, 253_402_300_800) * 1000 for _ in range(2_000)]
    micro = [rng.choice([0.0000005, 0.0000015, 1 / 3, 0.1 + 0.2, rng.random() * 50_000]) * 1_000_000
             for _ in range(2_000)]
    stamps = [(1_700_000_000 + k + 0.0005) * 1000 for k in range(500)]  # ties after the product
    out = [0.0, 0.5, 1.5, 2.5, TWO_51 - 1, TWO_51 - 0.5, *ties, *near, *ms, *micro, *stamps]
    return out + [-x for x in out] + [-0.6, -0.4, -1e-300, 1 - TWO_51] if negative else out


@pytest.mark.parametrize(("rounding", "negative"), [(round_half_even, False), (round_half_even_small, True)])
def test_sql_rounds_as_python_does(rounding: object, negative: bool) -> None:
    """round_half_even takes non-negative values, round_half_even_small those below 2**51 in size."""
    assert callable(rounding)
    conn = sqlite3.connect(":memory:")
    xs = values(negative)
    sql = f"SELECT {rounding(':x')}"
    got = [conn.execute(sql, {"x": x}).fetchone()[0] for x in xs]
    wrong = [(x, g, round(x)) for x, g in zip(xs, got, strict=True) if g != round(x)]
    assert not wrong, wrong[:5]
    assert any(x == int(x) + 0.5 for x in xs)  # the ties are really there


def test_the_small_rounding_evaluates_its_argument_once() -> None:
    assert round_half_even_small(":x").count(":x") == 1
