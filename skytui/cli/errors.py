"""Turning failures into one line and an exit code; tracebacks go to the log file, not the user."""

from __future__ import annotations

import os
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
    except Exception as exc:  # noqa: BLE001 - a bug of ours: keep the details, show one line
        where = _log_crash()
        sys.stderr.write(f"skytui: internal error: {type(exc).__name__}: {exc} (details in {where})\n")
        return 1


def redacted_argv(argv: list[str]) -> list[str]:
    """The command line with every `--env NAME=VALUE` value hidden: envs carry secrets."""
    out: list[str] = []
    hide_next = False
    for word in argv:
        if hide_next:
            out.append(_hide(word))
            hide_next = False
        elif word in ("--env", "-e", "--secret"):
            out.append(word)
            hide_next = True
        elif word.startswith(("--env=", "--secret=")):
            flag, _, rest = word.partition("=")
            out.append(f"{flag}={_hide(rest)}")
        else:
            out.append(word)
    return out


def _hide(item: str) -> str:
    name, sep, _ = item.partition("=")
    return f"{name}=***" if sep else item  # NAME alone takes its value from the environment


def _log_crash() -> str:
    try:
        from skytui.paths import log_dir

        path = log_dir() / "crash.log"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # a file made by an older skytui may have been world-readable
        with os.fdopen(fd, "a") as f:
            f.write(f"--- {datetime.now(timezone.utc).isoformat()} {' '.join(redacted_argv(sys.argv))}\n")
            f.write(traceback.format_exc())
        return str(path)
    except Exception:  # noqa: BLE001 - the crash log is best effort
        return "stderr"
