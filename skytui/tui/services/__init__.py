"""The dashboard's background work as plain classes (no widgets): the screen runs each as a worker.

Each `run(post)` loops until its worker is cancelled, posting messages (skytui.tui.messages)
through `post`. Failures they can retry are status-line notes they post themselves; anything
else ends the worker, and the screen's one `on_worker_state_changed` handler says so.
"""

from skytui.tui.services.provider_refresh import ProviderRefresh
from skytui.tui.services.store_feed import StoreFeed
from skytui.tui.services.telemetry_feed import TelemetryFeed
from skytui.tui.services.watcher_host import WatcherHost, describe_watcher

__all__ = ["ProviderRefresh", "StoreFeed", "TelemetryFeed", "WatcherHost", "describe_watcher"]
