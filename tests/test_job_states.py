"""The job state machine: one table, enforced by the store, drawn in docs/job-states.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from skytui.store import open_store
from skytui.store.job_states import (
    ACTIVE,
    CANCELLABLE,
    INITIAL,
    TERMINAL,
    TRANSITIONS,
    WAITING,
    IllegalTransition,
    JobStatus,
)

DOC = Path(__file__).resolve().parent.parent / "docs" / "job-states.md"
EDGE = re.compile(r"^\s*(\[\*\]|\w+)\s*-->\s*(\[\*\]|\w+)\s*(?::.*)?$")


def diagram() -> tuple[set[tuple[str, str]], set[str], set[str]]:
    """(moves, initial statuses, final statuses) as the Mermaid diagram draws them."""
    text = DOC.read_text()
    block = re.search(r"```mermaid\n(.*?)```", text, re.DOTALL)
    assert block is not None, "docs/job-states.md has no mermaid block"
    lines = block.group(1).splitlines()
    assert lines[0].strip() == "stateDiagram-v2"
    moves, start, end = set(), set(), set()
    for line in lines[1:]:
        if not line.strip():
            continue
        m = EDGE.match(line)
        assert m, f"unreadable diagram line: {line!r}"
        a, b = m.groups()
        if a == "[*]":
            start.add(b)
        elif b == "[*]":
            end.add(a)
        else:
            moves.add((a, b))
    return moves, start, end


def test_the_diagram_draws_exactly_the_table() -> None:
    moves, start, end = diagram()
    table = {(str(a), str(b)) for a, targets in TRANSITIONS.items() for b in targets}
    assert moves == table, f"only in the doc: {moves - table}; only in TRANSITIONS: {table - moves}"
    assert start == {str(INITIAL)}
    assert end == {str(s) for s in TERMINAL}


def test_statuses_keep_their_strings() -> None:
    # The store and `skytui jobs --json` hold these strings: renaming one breaks scripts.
    assert [s.value for s in JobStatus] == [
        "PENDING", "STARTING", "RUNNING", "RECOVERING", "SUCCEEDED", "FAILED",
        "FAILED_SETUP", "FAILED_NO_RESOURCE", "CANCELLING", "CANCELLED"]
    for s in JobStatus:
        # name == value keeps a member and its plain string equal and equally hashed.
        assert s.name == s.value and s == s.value and hash(s) == hash(s.value)
        assert str(s) == s.value and f"{s}" == s.value and json.dumps(s) == f'"{s.value}"'
    assert set(TRANSITIONS) == set(JobStatus)


def test_derived_sets() -> None:
    assert TERMINAL == {"SUCCEEDED", "FAILED", "FAILED_SETUP", "FAILED_NO_RESOURCE", "CANCELLED"}
    assert ACTIVE == ("PENDING", "STARTING", "RUNNING", "RECOVERING", "CANCELLING")
    assert set(WAITING) == {"PENDING", "STARTING", "RECOVERING"}
    assert set(CANCELLABLE) == {"PENDING", "STARTING", "RUNNING", "RECOVERING"}
    # Every status is reachable from the initial one, and every active one can still end.
    def reach(start: JobStatus) -> set[JobStatus]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in TRANSITIONS[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    assert reach(INITIAL) == set(JobStatus)
    assert all(reach(s) & TERMINAL for s in ACTIVE)

def test_store_refuses_a_move_not_in_the_table(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    job = store.add_job("a", "{}", "t", spot=False)
    assert store.job(job).status == JobStatus.PENDING  # type: ignore[union-attr]
    with pytest.raises(IllegalTransition, match="PENDING -> RUNNING"):
        store.transition_job(job, [JobStatus.PENDING], JobStatus.RUNNING)
    with pytest.raises(IllegalTransition):  # one bad source in the expected set is enough
        store.transition_job(job, ["PENDING", "SUCCEEDED"], "STARTING")
    with pytest.raises(IllegalTransition):
        store.transition_job(job, ["PENDING"], "NOT-A-STATUS")
    assert store.job(job).status == "PENDING"  # type: ignore[union-attr]
    assert store.transition_job(job, ["PENDING"], JobStatus.STARTING)
    assert not store.transition_job(job, ["PENDING"], JobStatus.STARTING)  # CAS: it moved already
    assert store.transition_job(job, ["STARTING"], JobStatus.RUNNING, event="running", reason="running")
    row = store.db.conn.execute("SELECT status, last_event FROM jobs WHERE id = ?", (job,)).fetchone()
    assert type(row["status"]) is str and row["status"] == "RUNNING" and row["last_event"] == "running"
    for terminal in TERMINAL:
        with pytest.raises(IllegalTransition):
            store.transition_job(job, [terminal], JobStatus.PENDING)
    store.close()


def test_opening_an_attempt_is_a_checked_move(tmp_path: Path) -> None:
    from skytui.core.watcher.records import open_attempt

    store = open_store(tmp_path / "s.db")
    job = store.add_job("a", "{}", "t", spot=False)
    opened = open_attempt(store, job, "a-job1")
    assert opened is not None and opened.fresh and opened.attempt.attempt == 1
    again = open_attempt(store, job, "a-job1")  # STARTING -> STARTING: the interrupted attempt resumes
    assert again is not None and not again.fresh and again.attempt.attempt == 1
    j = store.job(job)
    assert j is not None and j.status == "STARTING" and j.attempts == 1 and j.next_try_at is None
    store.transition_job(job, ["STARTING"], "RUNNING")
    assert open_attempt(store, job, "a-job1") is None  # RUNNING is no waiting status
    store.close()
