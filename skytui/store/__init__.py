"""The crash-safe SQLite state store shared by every skytui process."""

from skytui.store.models import Attempt, Cluster, ClusterJob, Event, Job, Node
from skytui.store.store import Store, current_user, open_store

__all__ = ["Attempt", "Cluster", "ClusterJob", "Event", "Job", "Node", "Store", "current_user", "open_store"]
