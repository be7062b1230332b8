"""Where a node stands, read from its item alone (its counts, ``total``, ``skipped``, ``done_after``).

The release consumer compares these on a node item's old and new stream images (a node that *became*
ready, finished or settled), so each transition is acted on from the record of the write that made it:
no extra read, and the same answer however often the record is delivered.
"""

from __future__ import annotations

import json
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


def counted_state(job: dict[str, Any]) -> str | None:
    """The state a job's item (a stream image) counts as in its workflow.

    A job FAILED while its run still owns it (``run_id`` set) with attempts left is about to be retried by
    that run: the run's recover step resets and readies it for its next attempt (orchestration/handlers.py,
    ``_end_attempt``). That is what a task that fails its own job (a callback, the SDK) leaves, and the job
    is not failed for its workflow yet: it counts as RUNNING, and so does the RESET the retry passes
    through. It counts FAILED once its run has released it (``run_id`` cleared: the run's own final
    ``fail``, or a kill) or its attempts are spent (``attempt`` has reached the ``max_attempts`` its launch
    recorded); the orchestration retries by the same rule, read from the same item, so no read is needed."""
    state = job.get("state")
    if state in ("FAILED", "RESET") and job.get("run_id"):
        launch = job.get("launch") or {}
        launch = json.loads(launch) if isinstance(launch, str) else launch
        if launch.get("max_attempts") is not None and int(job.get("attempt") or 0) < int(launch["max_attempts"]):
            return "RUNNING"
    return state
