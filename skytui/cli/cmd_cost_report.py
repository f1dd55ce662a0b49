"""`skytui cost-report`: what was spent, grouped, in the format the reader needs."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence


class FormatFlags:
    """`--format`'s choices, read from the format registry (core/costs/formats/registry.py).

    Loaded when argparse first checks or lists them, not when the parser is built: every
    command builds the parser, and `skytui status` must not pay for importing the formats.
    """

    def _flags(self) -> list[str]:
        from skytui.core.costs.formats.registry import BY_FLAG

        return list(BY_FLAG)

    def __contains__(self, flag: object) -> bool:
        return flag in self._flags()

    def __iter__(self) -> Iterator[str]:
        return iter(self._flags())

    def __len__(self) -> int:
        return len(self._flags())


def run(args: argparse.Namespace) -> int:
    from skytui.core.costs.accounting import check_grouping
    from skytui.core.costs.report import CURRENCY, parse_since, write_chunks
    from skytui.store import open_store

    now = time.time()
    since = parse_since(args.since, now) if args.since else None
    until = parse_since(args.until, now) if args.until else None
    check_grouping(args.by)
    store = open_store()
    if args.format == "csv":
        # Line items need no grouping: straight from the store's rows (on every core).
        from skytui.core.costs.export import csv_report

        chunks: Sequence[str | bytes] = csv_report(store, since=since, until=until, now=now,
                                                   currency=CURRENCY, split_days=args.by == "day")
    else:
        from skytui.core.costs.formats.registry import BY_FLAG
        from skytui.core.costs.from_store import intervals
        from skytui.core.costs.report import build_report

        report = build_report(intervals(store, since=since, until=until), since=since, until=until,
                              by=args.by, now=now)
        chunks = [BY_FLAG[args.format].render(report)]
    write_chunks(chunks, args.output)
    if args.output:
        sys.stderr.write(f"cost report ({args.format}) written to {args.output}\n")
    return 0
