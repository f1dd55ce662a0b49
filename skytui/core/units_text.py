"""Durations and money as people read them: the one formatting the CLI and the dashboard share."""

from __future__ import annotations


def duration(seconds: float | None) -> str:
    """`3d4h`, `2h05m`, `7m`: minute resolution, so a live table does not flicker every second."""
    if seconds is None or seconds < 0:
        return "-"
    minutes = int(seconds // 60)
    days, rem = divmod(minutes, 24 * 60)
    hours, mins = divmod(rem, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{mins:02d}m"
    return f"{mins}m"


def money(value: float | None, *, symbol: str = "", places: int = 2) -> str:
    """`1,234.50` (or `$1,234.500` with symbol="$", places=3); `-` when unknown."""
    return "-" if value is None else f"{symbol}{value:,.{places}f}"
