"""Cromwell's workflow callback (``workflow-state-callback`` in its config, or the ``workflow_callback_uri``
workflow option): one POST when a root workflow reaches a terminal state, retried with backoff.

The body is ``{workflowId, state: Succeeded|Failed|Aborted, outputs{}, failures[]}`` (Cromwell's docs). The run
(``workflowId``) is a workflow with no jobs: the callback names no calls, and Cromwell sends none for its
tasks (their states are only in its metadata API, which would take a poller and Cromwell's credentials). Its
outputs and failures are kept on the workflow; Aborted ends it KILLED. A state we do not know is acknowledged
and changes nothing (a newer Cromwell's word for something we cannot tell).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidEvent
from .model import RUN_FAILED, RUN_FINISHED, RUN_KILLED, RunEvent
from .wire import event_key, message_object, optional_object, required_text

ENGINE = "cromwell"

#: Cromwell's terminal workflow states, and how the workflow ends (matched without regard to case).
STATES: Mapping[str, str] = {"Succeeded": RUN_FINISHED, "Failed": RUN_FAILED, "Aborted": RUN_KILLED}
_BY_LOWER_CASE: Mapping[str, str] = {state.lower(): kind for state, kind in STATES.items()}


def _failures(message: Mapping[str, Any]) -> list[Any]:
    """``failures``: a list (of strings, in the docs; of ``{message, causedBy}`` objects in Cromwell's
    metadata, which some versions send: both are kept as they are)."""
    failures = message.get("failures")
    if failures is None:
        return []
    if not isinstance(failures, list):
        raise InvalidEvent.single("failures", "must be a list")
    return failures


def _said(failure: Any) -> str:
    return str(failure.get("message") or failure) if isinstance(failure, Mapping) else str(failure)


def events(message: Any) -> list[RunEvent]:
    """The run event one callback stands for (none for a state we do not know)."""
    message = message_object(message, "a Cromwell workflow callback")
    run = required_text(message, "workflowId")
    state = required_text(message, "state")
    outputs = optional_object(message, "outputs")
    failures = _failures(message)
    kind = _BY_LOWER_CASE.get(state.lower())
    if kind is None:
        return []
    reason = "; ".join(_said(failure) for failure in failures) or (None if kind == RUN_FINISHED else
                                                                 f"Cromwell says the workflow {state.lower()}")
    return [RunEvent(engine=ENGINE, run=run, kind=kind, key=event_key(ENGINE, run, kind), reason=reason,
                     data={"state": state, "outputs": dict(outputs), "failures": failures})]
