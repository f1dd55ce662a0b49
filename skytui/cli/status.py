"""`skytui status`: the fast path reads only the store (no SDKs, no Textual)."""

from __future__ import annotations

import argparse
import json
import sys

from skytui.core.status import cluster_dict


def status_json(args: argparse.Namespace) -> int:
    from skytui.store import open_store

    store = open_store()
    rows = store.cluster_rows(include_terminated=args.all)
    wanted = set(args.names or ())
    out = [cluster_dict(r) for r in rows if not wanted or r["name"] in wanted]
    sys.stdout.write(json.dumps(out, indent=2) + "\n")
    return 0
