"""moto servers in child processes for the AWS benchmarks (so their CPU is not ours)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def sandbox() -> None:
    root = tempfile.mkdtemp(prefix="skytui-bench-aws-")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = os.path.join(root, var)
        os.makedirs(os.environ[var])
    os.environ["HOME"] = root
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@contextmanager
def moto_servers(n: int) -> Iterator[list[str]]:
    """`n` moto servers, each its own process (as each EC2 region has its own endpoint)."""
    procs, urls = [], []
    try:
        for _ in range(n):
            port = _free_port()
            procs.append(subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{url}/moto-api/", timeout=2).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        yield urls
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)


def per_region_session(settings: Any, endpoints: dict[str, str]) -> Any:
    """An AwsSession whose client for each region talks to that region's own moto server."""
    from skytui.providers.aws.session import AwsSession

    class PerRegion(AwsSession):
        def client(self, service: str, region: str) -> Any:
            key = (service, region)
            if key not in self._clients:
                from botocore.config import Config as BotoConfig

                with self._lock:
                    self._clients[key] = self._session_locked().client(
                        service, region_name=region, endpoint_url=endpoints[region],
                        config=BotoConfig(retries={"mode": "standard", "max_attempts": 3},
                                          max_pool_connections=32))
            return self._clients[key]

    return PerRegion(settings)
