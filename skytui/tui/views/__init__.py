"""The dashboard's views: each owns its table, its key hints and its keys; the screen sets data down."""

from skytui.tui.views.base import DashboardContext, TableView
from skytui.tui.views.clusters import ClustersView
from skytui.tui.views.costs import CostsView
from skytui.tui.views.events import EventsView
from skytui.tui.views.gpus import GpusView
from skytui.tui.views.jobs import JobsView

VIEW_CLASSES: dict[str, type[TableView]] = {
    v.VIEW: v for v in (ClustersView, JobsView, EventsView, CostsView, GpusView)
}

__all__ = ["VIEW_CLASSES", "ClustersView", "CostsView", "DashboardContext", "EventsView", "GpusView",
           "JobsView", "TableView"]
