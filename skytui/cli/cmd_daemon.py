"""`skytui daemon status|stop|install`: the background watcher, seen and managed from the shell."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import time
from pathlib import Path

UNIT_NAME = "skytui.service"
AGENT_LABEL = "dev.skytui.daemon"


def run(args: argparse.Namespace) -> int:
    return {"status": status, "stop": stop, "install": install}[args.action](args)


def _watched() -> int:
    from skytui.store import open_store
    from skytui.store.job_states import ACTIVE

    store = open_store()
    try:
        return len(store.jobs(statuses=ACTIVE))
    finally:
        store.close()


def status(args: argparse.Namespace) -> int:
    from datetime import datetime

    from skytui.core.watcher import lock_holder

    h = lock_holder()
    if h is None or h.kind != "daemon":
        extra = f" (the dashboard, pid {h.pid}, is watching {_watched()} jobs)" if h is not None else ""
        print(f"not running{extra}")
        return 0
    since = datetime.fromtimestamp(h.since).strftime("%Y-%m-%d %H:%M:%S") if h.since else "?"
    print(f"running (pid {h.pid}) since {since}, watching {_watched()} jobs")
    return 0


def stop(args: argparse.Namespace, timeout: float = 60.0) -> int:
    """SIGTERM the daemon; it finishes the step in hand and releases the lock."""
    from skytui.core.watcher import lock_holder
    from skytui.errors import SkytuiError

    h = lock_holder()
    if h is None or h.kind != "daemon" or not h.pid:
        print("not running")
        return 0
    try:
        os.kill(h.pid, signal.SIGTERM)
    except ProcessLookupError:
        print("not running")
        return 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = lock_holder()
        if now is None or now.pid != h.pid:
            print(f"skytui daemon stopped (pid {h.pid})")
            return 0
        time.sleep(0.1)
    raise SkytuiError(f"the daemon (pid {h.pid}) is still finishing after {timeout:.0f}s",
                      f"wait, or end it with `kill -9 {h.pid}` (safe: the next watcher resumes its work)")


def package_parent() -> Path:
    from skytui.paths import package_parent as parent

    return parent()


def _command() -> list[str]:
    return [sys.executable, "-m", "skytui.cli.main", "--daemon", "--foreground"]


def systemd_unit() -> str:
    return (
        "[Unit]\nDescription=skytui spot-recovery watcher\n\n"
        f"[Service]\nExecStart={shlex.join(_command())}\nRestart=on-failure\nRestartSec=5\n"
        # `-m` imports from the working folder first: start where this skytui lives, not in ~.
        f"WorkingDirectory={package_parent()}\n"
        "KillSignal=SIGTERM\nTimeoutStopSec=90\n\n"
        "[Install]\nWantedBy=default.target\n")


def launchd_plist() -> str:
    args = "".join(f"    <string>{a}</string>\n" for a in _command())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
        '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
        '<plist version="1.0">\n<dict>\n'
        f"  <key>Label</key>\n  <string>{AGENT_LABEL}</string>\n"
        f"  <key>ProgramArguments</key>\n  <array>\n{args}  </array>\n"
        f"  <key>WorkingDirectory</key>\n  <string>{package_parent()}</string>\n"
        "  <key>RunAtLoad</key>\n  <true/>\n  <key>KeepAlive</key>\n  <true/>\n"
        "</dict>\n</plist>\n")


def install(args: argparse.Namespace) -> int:
    home = Path.home()
    if sys.platform == "darwin":
        path = home / "Library" / "LaunchAgents" / f"{AGENT_LABEL}.plist"
        text, hint = launchd_plist(), f"launchctl load -w {shlex.quote(str(path))}"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        path = base / "systemd" / "user" / UNIT_NAME
        text, hint = systemd_unit(), f"systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    print(f"wrote {path}")
    print(f"enable it: {hint}")
    return 0
