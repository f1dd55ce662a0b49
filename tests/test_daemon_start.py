"""Starting the daemon runs the installed skytui, whatever folder the CLI runs in, and the pid it
reports is the watcher lock's holder (issue 12, fault 6)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_watcher_support import REPO

FAKE_MAIN = """
import os, pathlib
pathlib.Path(os.environ["POISON_MARK"]).write_text("ran")
print("skytui daemon started (pid 1)")
"""


@pytest.mark.slow
def test_the_daemon_never_imports_skytui_from_the_current_folder(tmp_path: Path) -> None:
    work = tmp_path / "project"
    pkg = work / "skytui" / "cli"
    pkg.mkdir(parents=True)
    (work / "skytui" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "main.py").write_text(FAKE_MAIN)
    mark = tmp_path / "poisoned"
    code = ("import sys; sys.path.insert(0, sys.argv[1]);"
            "from skytui.core.daemon_start import start_daemon; print(*start_daemon())")
    env = {**os.environ, "POISON_MARK": str(mark)}
    env.pop("PYTHONPATH", None)  # as an installed skytui runs: nothing points at the checkout
    out = subprocess.run([sys.executable, "-c", code, str(REPO)], cwd=work, capture_output=True,
                         text=True, timeout=90, env=env)
    pid = None
    try:
        assert not mark.exists(), "the folder's own skytui package ran"
        assert out.returncode == 0, out.stderr
        state, pid_text = out.stdout.split()
        pid = int(pid_text)
        assert state == "started" and pid != 1
        from skytui.core.watcher.lock import lock_holder

        holder = lock_holder()
        assert holder is not None and holder.pid == pid and holder.kind == "daemon"
    finally:
        if pid and pid != 1:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)


def test_a_reported_pid_that_is_not_the_lock_holder_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from skytui.core import daemon_start
    from skytui.errors import SkytuiError

    with pytest.raises(SkytuiError, match="not the watcher"):
        daemon_start.verified_pid("started", os.getpid(), wait_s=0.3)
