"""The Events view: what happened to clusters and jobs, newest first (as k9s and log viewers show)."""

from __future__ import annotations

from skytui.tui import model
from skytui.tui.actions import EVENTS
from skytui.tui.views.base import TableView


class EventsView(TableView):
    VIEW = EVENTS
    COLUMNS = model.EVENT_COLUMNS
    SORT_COLUMN = None  # arrival order, newest on top (the loader hands them over newest first)
