"""With GCP enabled and a GCP cluster on record, the CLI's fast path still never loads compute_v1."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _seed_gcp_cluster() -> None:
    from skytui.paths import config_file
    from skytui.store import Cluster, open_store

    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text("clouds: [gcp]\ngcp:\n  project: skytui-test\n  endpoint: http://127.0.0.1:9\n")
    store = open_store()
    store.create_cluster(Cluster(name="g1", cloud="gcp", status="UP", user="me", updated_at=time.time(),
                                 region="us-central1", zone="us-central1-a", instance_type="n1-standard-8"))
    store.close()


def _importtime(code: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          timeout=120, env=os.environ.copy(), cwd=ROOT, check=False)
    # `import time: self [us] | cumulative | imported package` lines on stderr, one per module.
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
               if line.startswith("import time:")}
    return done, modules


def test_status_json_with_gcp_enabled_imports_no_compute_v1(sandbox: Path) -> None:
    _seed_gcp_cluster()
    done, modules = _importtime("from skytui.cli.main import main; main(['status', '--json'])")
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"cloud": "gcp"' in done.stdout  # the GCP cluster is there and shown
    assert "skytui.cli.main" in modules  # so the import log really lists what was loaded
    assert not {m for m in modules if m.startswith(("google.cloud.compute", "google.api_core", "google.auth"))}


def test_the_importtime_check_would_see_compute_v1(sandbox: Path) -> None:
    done, modules = _importtime("from google.cloud import compute_v1")
    assert done.returncode == 0
    assert "google.cloud.compute_v1" in modules
