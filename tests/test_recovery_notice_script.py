"""The node-side notice watcher for AWS and GCP, run by real bash against a stand-in `curl`
(no metadata server can answer here): it must signal the job's group on a notice, and only then."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from skytui.remote.notice import notice_script, parse_notice

CURLS = {
    # AWS: the token PUT answers, then instance-action answers 200 (curl -f exits 0).
    "aws": "#!/bin/sh\ncase \"$*\" in *instance-action*) exit ${NOTICE_EXIT:-0};; esac\necho token\n",
    # GCP: instance/preempted says TRUE once the notice is out.
    "gcp": "#!/bin/sh\n[ \"${NOTICE_EXIT:-0}\" = 0 ] && echo TRUE || echo FALSE\n",
}


def _node(tmp_path: Path, cloud: str) -> tuple[dict[str, str], subprocess.Popen[bytes], Path]:
    home = tmp_path / "home"
    job = home / ".skytui" / "jobs" / "1"
    job.mkdir(parents=True)
    (home / ".skytui" / "notice").mkdir()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "curl").write_text(CURLS[cloud])
    (bindir / "curl").chmod(0o755)
    victim = subprocess.Popen(["sleep", "60"], start_new_session=True)
    (job / "pgid").write_text(f"{victim.pid}\n")
    (job / "log").write_text("step 1\n")
    env = {**os.environ, "HOME": str(home), "PATH": f"{bindir}:{os.environ['PATH']}"}
    return env, victim, home


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_a_notice_signals_the_job_and_is_recorded(tmp_path: Path, cloud: str) -> None:
    env, victim, home = _node(tmp_path, cloud)
    try:
        subprocess.run(["bash", "-c", notice_script(cloud)], env=env, timeout=30, check=True)
        assert victim.wait(10) == -signal.SIGTERM
        at = float((home / ".skytui/notice/at").read_text())
        assert abs(at - time.time()) < 30
        assert (home / ".skytui/notice/source").read_text().strip() == cloud
        assert "[skytui] preemption notice from the cloud" in (home / ".skytui/jobs/1/log").read_text()
        assert parse_notice(f"@@notice@@ {at}\n") == at
    finally:
        victim.kill()


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_no_notice_no_signal(tmp_path: Path, cloud: str) -> None:
    env, victim, home = _node(tmp_path, cloud)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            subprocess.run(["bash", "-c", notice_script(cloud)], env={**env, "NOTICE_EXIT": "22"}, timeout=3)
        assert victim.poll() is None and not (home / ".skytui/notice/at").exists()
    finally:
        victim.kill()
