"""Plain terminal output: tables, stage lines with elapsed time, confirmations."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from skytui.errors import SkytuiError


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[("-" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(vals: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(vals, widths, strict=False)).rstrip()

    return "\n".join([line(list(headers))] + [line(r) for r in cells])


class StageLog:
    """Prints each stage of long work with the time since it began."""

    def __init__(self, stream=None) -> None:  # type: ignore[no-untyped-def]
        self.t0 = time.monotonic()
        self.stream = stream or sys.stderr  # looked up per use: a default would pin the first stderr

    def __call__(self, progress) -> None:  # type: ignore[no-untyped-def]
        elapsed = time.monotonic() - self.t0
        self.stream.write(f"[{elapsed:6.1f}s] {progress.stage:<9} {progress.message}\n")
        self.stream.flush()


def confirm(question: str, assume_yes: bool) -> None:
    """Ask before destroying things; non-interactive use must say --yes."""
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise SkytuiError(f"{question} needs confirmation", "pass --yes to confirm")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise SkytuiError("cancelled", "nothing was changed")


def money(v: float | None) -> str:
    from skytui.core.units_text import money as money_text

    return money_text(v, symbol="$", places=3)
