"""Cost reports: build one from usage intervals, then render or write it in any format."""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from skytui.core.costs.accounting import (
    check_grouping,
    line_items,
)
from skytui.core.costs.formats.registry import FORMATS, Format
from skytui.core.costs.model import UsageInterval
from skytui.core.costs.report_model import CURRENCY, Report
from skytui.core.costs.units import day_start_ms, month_bounds_ms, to_ms
from skytui.errors import SkytuiError

__all__ = [
    "CURRENCY", "FORMATS", "Format", "Report", "build_report", "parse_since", "render", "write_chunks",
    "write_report",
]

SINCE_FIX = "use 30d, 12h, 2w, today, month, or a date like 2026-11-01"


def build_report(
    intervals: Iterable[UsageInterval],
    *,
    since: float | None,
    until: float | None = None,
    by: str = "cluster",
    now: float,
) -> Report:
    """Clip intervals to [since, until) (until defaults to `now`), price, group and total them."""
    check_grouping(by)
    intervals = intervals if isinstance(intervals, Sequence) else list(intervals)
    items = line_items(intervals, now=now, since=since, until=until, split_days=by == "day")
    now_ms = to_ms(now)
    until_ms = now_ms if until is None else min(to_ms(until), now_ms)
    if since is not None:
        since_ms = to_ms(since)
    else:
        since_ms = min((item.start_ms for item in items), default=until_ms)
    return Report(
        by=by, since_ms=since_ms, until_ms=until_ms, now_ms=now_ms, items=items, intervals=intervals
    )


_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)\s*([hdw])")
_UNIT_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_since(text: str, now: float) -> float:
    """Read `--since`: 30d, 12h, 2w, today, month (UTC), 2026-11-01 or an ISO datetime."""
    raw = text.strip().lower()
    match = _RELATIVE.fullmatch(raw)
    if match:
        return now - float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if raw == "today":
        return day_start_ms(to_ms(now)) / 1000
    if raw == "month":
        return month_bounds_ms(to_ms(now))[0] / 1000
    try:
        if _DATE.fullmatch(raw):
            moment = datetime.fromisoformat(raw)
        else:
            iso = raw.upper()
            moment = datetime.fromisoformat(iso[:-1] + "+00:00" if iso.endswith("Z") else iso)
    except ValueError:
        raise SkytuiError(f"can't read --since {text!r}", SINCE_FIX) from None
    if moment.tzinfo is None:  # a date or naive time means UTC, whatever the local zone
        moment = moment.replace(tzinfo=timezone.utc)
    seconds = moment.timestamp()
    if seconds > now:
        raise SkytuiError(f"--since {text!r} is in the future", SINCE_FIX)
    return seconds


def render(report: Report, fmt: str) -> str:
    """The report as text in one of FORMATS (by name)."""
    f = FORMATS.get(fmt)
    if f is None:
        raise SkytuiError(f"unknown report format {fmt!r}", f"use one of: {', '.join(FORMATS)}")
    return f.render(report)


def write_report(
    report: Report, fmt: str, path: str | os.PathLike[str] | None, *, stdout: TextIO | None = None
) -> None:
    """Write the report to a file (atomically, mode 0644: reports are for sharing) or stdout."""
    write_chunks([render(report, fmt)], path, stdout=stdout)


def write_chunks(
    chunks: Iterable[str | bytes], path: str | os.PathLike[str] | None, *, stdout: TextIO | None = None
) -> None:
    """Write text (or UTF-8) chunks to a file (atomically) or stdout, as they come.

    A file that exists keeps its mode, and a symlink stays a link (the file it points at is
    replaced); a new file gets the usual mode under the umask, as a shell redirect would.
    """
    if path is None:
        out = stdout or sys.stdout
        for chunk in chunks:
            if isinstance(chunk, str):
                out.write(chunk)
            elif hasattr(out, "buffer"):  # bytes go under the text layer, not through it
                out.flush()
                out.buffer.write(chunk)
            else:
                out.write(chunk.decode())
        out.flush()
        return
    target = Path(path)
    if target.is_symlink():
        target = target.resolve()  # write through the link, never replace it
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    except OSError:
        mode = 0o600
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise SkytuiError(
            f"can't write report to {target}: {exc.strerror}",
            "choose a folder that exists and that you can write to",
        ) from None
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk.encode() if isinstance(chunk, str) else chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise SkytuiError(
            f"can't write report to {target}: {exc.strerror}",
            "choose a path you can write to",
        ) from None
    except BaseException:  # a failed chunk leaves no half-written file behind
        Path(tmp).unlink(missing_ok=True)
        raise
