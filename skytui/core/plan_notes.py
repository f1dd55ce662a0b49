"""Lines a plan adds under its table: what was left out, and what disk and network each gets."""

from __future__ import annotations

from skytui.core.planner import Plan, best_per_region
from skytui.task.spec import Task


def plan_notes(task: Task, plan: Plan) -> list[str]:
    """Notes on alternatives left out, then the disk and network of each cloud's best pick."""
    lines = [f"note: {n}" for n in (*task.notes, *plan.notes)]
    seen: set[str] = set()
    for c in best_per_region(Plan(plan.candidates + plan.candidates_elsewhere, {})):
        if c.cloud in seen or not (c.disk or c.network):
            continue
        seen.add(c.cloud)
        if c.disk:
            nodes = f", ${c.disk_price_per_node * c.num_nodes:.3f}/h for {c.num_nodes} nodes" \
                if c.num_nodes > 1 else ""
            lines.append(f"disk on {c.cloud} ({c.instance_type}): {c.disk}; "
                         f"~${c.disk_price_per_node:.3f}/h per node{nodes} (list price estimate)")
        if c.network:
            lines.append(f"network on {c.cloud} ({c.instance_type}): {c.network}")
    return lines
