"""The core is a service layer: it imports without Textual, and the CLI's fast paths stay light."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = [
    "skytui.core", "skytui.core.context", "skytui.core.launcher", "skytui.core.clusters",
    "skytui.core.planner", "skytui.core.refresh", "skytui.core.status", "skytui.store",
    "skytui.config", "skytui.task", "skytui.catalog.catalog", "skytui.providers.local.provider",
    "skytui.core.telemetry.parse", "skytui.core.costs.report",
]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_core_imports_without_textual() -> None:
    # A None entry in sys.modules makes `import textual` fail, as if it were not installed.
    code = "import sys; sys.modules['textual'] = None\n" + "\n".join(f"import {m}" for m in CORE_MODULES)
    done = _run(code)
    assert done.returncode == 0, done.stderr


def test_textual_is_really_blocked_by_that_trick() -> None:
    done = _run("import sys; sys.modules['textual'] = None\nimport textual.app")
    assert done.returncode != 0  # so the test above would fail if the core imported Textual


def test_status_json_path_loads_no_heavy_sdk() -> None:
    code = ("import sys\nfrom skytui.cli.main import main\nmain(['status', '--json'])\n"
            "heavy = [m for m in ('textual', 'boto3', 'botocore', 'google', 'asyncssh', 'yaml') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    done = _run(code)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout


def test_status_json_with_aws_enabled_loads_no_boto3(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from skytui.paths import config_dir

    (config_dir() / "config.yaml").write_text(
        "clouds: [aws]\naws: {endpoint_url: 'http://127.0.0.1:9'}\n")
    import time

    from skytui.store import Cluster, open_store

    store = open_store()
    store.create_cluster(Cluster(name="gpu", cloud="aws", status="UP", user="me", updated_at=time.time(),
                                 region="us-east-1", zone="us-east-1a", instance_type="g5.xlarge"),
                         event="seeded")
    store.close()
    code = ("import sys\nfrom skytui.cli.main import main\nrc = main(['status', '--json'])\n"
            "heavy = [m for m in ('boto3', 'botocore') if m in sys.modules]\n"
            "print('RC', rc, 'HEAVY', heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert "RC 0 HEAVY []" in done.stdout and '"gpu"' in done.stdout
