"""`skytui cost-report`: what was spent, grouped, in the format the reader needs."""

from __future__ import annotations

import argparse
import sys
import time

FORMATS = {"table": "table", "csv": "csv", "json": "json", "md": "markdown", "html": "html", "focus": "focus"}


def run(args: argparse.Namespace) -> int:
    from skytui.core.costs.from_store import intervals
    from skytui.core.costs.report import build_report, parse_since, write_report
    from skytui.store import open_store

    now = time.time()
    since = parse_since(args.since, now) if args.since else None
    until = parse_since(args.until, now) if args.until else None
    store = open_store()
    report = build_report(intervals(store, since=since, until=until), since=since, until=until,
                          by=args.by, now=now)
    write_report(report, FORMATS[args.format], args.output)
    if args.output:
        sys.stderr.write(f"cost report ({args.format}) written to {args.output}\n")
    return 0
