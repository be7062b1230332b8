"""Where a node stands, read from its item alone (its counts, ``total``, ``skipped``, ``done_after``).

The release consumer compares these on a node item's old and new stream images (a node that *became*
ready, finished or settled), so each transition is acted on from the record of the write that made it:
no extra read, and the same answer however often the record is delivered.
"""

from __future__ import annotations

from typing import Any

from ..orchestration.flow import FINISHED_STATES, LIVE_STATES
from .items import count_attribute

#: A node item's ``state``: before release, released (its slots written), or never to run.
WAITING, RELEASED, NEVER_RUN = "waiting", "released", "never_run"


def count(node: dict[str, Any], states: frozenset[str] | set[str]) -> int:
    return sum(int(node.get(count_attribute(state), 0) or 0) for state in states)


def finished(node: dict[str, Any]) -> int:
    return count(node, FINISHED_STATES)


def failed(node: dict[str, Any]) -> int:
    return count(node, {"FAILED"})


def counts(node: dict[str, Any]) -> dict[str, int]:
    """Job state -> number, for the states with jobs in them."""
    found = {key[2:]: int(value) for key, value in node.items() if key.startswith("n_")}
    return {state: number for state, number in sorted(found.items()) if number}


def ready(node: dict[str, Any] | None) -> bool:
    """Waiting, and every job it runs after has finished."""
    return bool(node) and node.get("state") == WAITING and set(node.get("after") or ()) <= set(
        node.get("done_after") or ())


def complete(node: dict[str, Any] | None) -> bool:
    """Released, and every one of its jobs finished."""
    return bool(node) and node.get("state") == RELEASED and node.get("total") is not None and \
        finished(node) == int(node["total"])


def settled(node: dict[str, Any] | None) -> bool:
    """Nothing more will happen to it (until a rerun): never to run, or every job ended (finished,
    failed, or never run)."""
    if not node:
        return False
    if node.get("state") == NEVER_RUN:
        return True
    if node.get("state") != RELEASED or node.get("total") is None:
        return False
    return finished(node) + failed(node) + int(node.get("skipped", 0) or 0) >= int(node["total"])


def node_state(node: dict[str, Any]) -> str:
    """The node's state as readers see it (``model.NODE_STATES``)."""
    if node.get("state") == NEVER_RUN:
        return "never_run"
    if node.get("state") == WAITING:
        return "waiting"
    if complete(node):
        return "finished"
    return "failed" if settled(node) else "running"


def live(state: str | None) -> bool:
    """A job state its run is still working on (CREATED, RUNNING)."""
    return state in LIVE_STATES
