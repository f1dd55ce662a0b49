"""A loopback Compute Engine v1 REST fake for the GCP adapter's tests (see server.py)."""

from gcp_fake.server import FakeCompute, serve

__all__ = ["FakeCompute", "serve"]
