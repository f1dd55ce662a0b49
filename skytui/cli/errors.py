"""Turning failures into one line and an exit code; tracebacks go to the log file, not the user."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from datetime import datetime, timezone


def run_guarded(fn: Callable[[], int]) -> int:
    from skytui.errors import SkytuiError

    try:
        return fn()
    except SkytuiError as exc:
        sys.stderr.write(f"skytui: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("skytui: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug of ours: keep the details, show one line
        where = _log_crash()
        sys.stderr.write(f"skytui: internal error: {type(exc).__name__}: {exc} (details in {where})\n")
        return 1


def _log_crash() -> str:
    try:
        from skytui.paths import log_dir

        path = log_dir() / "crash.log"
        with open(path, "a") as f:
            f.write(f"--- {datetime.now(timezone.utc).isoformat()} {' '.join(sys.argv)}\n")
            f.write(traceback.format_exc())
        return str(path)
    except Exception:
        return "stderr"
