"""The one registry of dashboard actions: it feeds key bindings, the footer, help and the palette."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

CLUSTERS, JOBS, EVENTS, COSTS, GPUS = "clusters", "jobs", "events", "costs", "gpus"
VIEWS: tuple[tuple[str, str], ...] = (
    (CLUSTERS, "Clusters"), (JOBS, "Jobs"), (EVENTS, "Events"), (COSTS, "Costs"), (GPUS, "GPUs"),
)
ALL = frozenset(v for v, _ in VIEWS)


@dataclass(frozen=True)
class Action:
    """A key, the app method it runs (`action_<name>`), and where it makes sense."""

    key: str
    name: str
    title: str
    help: str
    views: frozenset[str] = ALL
    mutates: bool = False  # off in --read-only
    footer: bool = True
    key_display: str | None = None
    namespace: str = ""  # "app.": the app runs it (quit, the palette), not the screen or a view

    @property
    def bound_to(self) -> str:
        """The binding's action string."""
        return f"{self.namespace}{self.name}"


ACTIONS: tuple[Action, ...] = (
    *(Action(str(i), f"show_view('{v}')", f"View: {title}", f"show the {title} view", footer=False)
      for i, (v, title) in enumerate(VIEWS, start=1)),
    Action("s", "ssh", "SSH", "open a shell on the selected cluster (back here when it exits)",
           frozenset({CLUSTERS, JOBS, GPUS})),
    Action("l", "logs", "Logs", "stream the selected cluster's or job's log",
           frozenset({CLUSTERS, JOBS})),
    Action("x", "stop", "Stop", "stop the selected cluster, or an idle GPU's cluster (disks are kept)",
           frozenset({CLUSTERS, GPUS}), True),
    Action("r", "start", "Start", "start the selected stopped cluster", frozenset({CLUSTERS}), True),
    Action("d", "down", "Down", "tear the selected cluster down (disks are deleted)",
           frozenset({CLUSTERS}), True),
    Action("a", "autostop", "Autostop", "set the selected cluster's autostop", frozenset({CLUSTERS}), True),
    Action("c", "cancel_job", "Cancel", "cancel the selected managed job", frozenset({JOBS}), True),
    Action("e", "events_for", "Events of", "show the events of the selected cluster or job",
           frozenset({CLUSTERS, JOBS})),
    Action("g", "cost_grouping", "Group by", "group costs by the next of cluster, job, user, region, cloud, "
           "GPU, day", frozenset({COSTS})),
    Action("E", "export_costs", "Export", "export the cost report (CSV, JSON, Markdown, HTML, FOCUS) to a file",
           frozenset({COSTS})),
    Action("n", "new_dev", "New dev VM", "launch a new dev VM (GPU picker, region, autostop)", mutates=True),
    Action("L", "launch_task", "Launch task", "launch a task file (*.yaml) after a dry-run plan",
           mutates=True),
    Action("w", "toggle_wide", "Wide", "show every column (narrow terminals leave low-priority ones out)",
           footer=False),
    Action("o", "sort_next", "Sort", "sort by the next column (or click a header)", footer=False),
    Action("O", "sort_reverse", "Reverse sort", "reverse the sort order", footer=False),
    Action("D", "demo", "Demo fleet", "start the demo fleet on the local cloud", mutates=True, footer=False),
    Action("slash", "filter", "Filter", "filter the table (substring or regex)", key_display="/"),
    Action("escape", "clear_filter", "Clear filter", "clear the filter", footer=False),
    Action("question_mark", "help", "Help", "list every key", key_display="?"),
    Action("colon", "command_palette", "Palette", "open the command palette (also ctrl+p)",
           footer=False, key_display=":", namespace="app."),
    Action("q", "quit_app", "Quit", "quit (offers handing running managed jobs to the daemon)",
           namespace="app."),
)

BY_NAME = {a.name: a for a in ACTIONS}


def bindings() -> list[Binding]:
    return [binding(a) for a in ACTIONS]


def binding(a: Action) -> Binding:
    return Binding(a.key, a.bound_to, a.title, show=a.footer, key_display=a.key_display)


def screen_bindings(read_only: bool) -> list[Binding]:
    """Keys that work in every view: the dashboard screen binds them (a dialog on top silences them)."""
    return [binding(a) for a in ACTIONS if a.views == ALL and not (a.mutates and read_only)]


def view_bindings(view: str, read_only: bool) -> list[Binding]:
    """One view's own keys; what changes things is not bound at all when read-only (as k9s does)."""
    return [binding(a) for a in ACTIONS
            if a.views != ALL and view in a.views and not (a.mutates and read_only)]


def method_name(action: Action) -> str:
    """`show_view('jobs')` -> `show_view`: what `check_action` is asked about."""
    return action.name.split("(", 1)[0]


def lookup(method: str) -> Action | None:
    for a in ACTIONS:
        if method_name(a) == method:
            return a
    return None


def shown_key(action: Action) -> str:
    return action.key_display or action.key
