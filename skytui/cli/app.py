"""`skytui` with no command: open the dashboard; tracebacks go to the log file, never the screen."""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from pathlib import Path

LOG_NAME = "app.log"


def setup_logging() -> Path:
    """Everything the app logs (tracebacks included) goes to a rotated file in the log dir."""
    from skytui.paths import log_dir

    path = log_dir() / LOG_NAME
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("skytui")
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    return path


def run(args: argparse.Namespace) -> int:
    """Open the app (after starting the demo fleet with --demo); the exit status of the app."""
    from skytui.core.context import Core

    log_path = setup_logging()
    core = Core()
    _ = core.config  # a bad config.yaml is a one-line error before the screen opens
    from skytui.tui.app import SkytuiApp

    app = SkytuiApp(core, read_only=bool(getattr(args, "read_only", False)),
                    theme_name=getattr(args, "theme", None), demo=bool(getattr(args, "demo", False)))
    code = app.run()
    if app.return_code not in (None, 0) and code is None:
        sys.stderr.write(f"skytui: the dashboard stopped on an internal error (details in {log_path})\n")
        return 1
    return int(code or 0)
