"""Callback mode: tell the waiting execution when its job ends, or that it is alive.

``service.handle_event`` calls :func:`settle` after committing an event to a job
that carries a task token. It is a step below the service, not part of the
orchestration package: every front door applies events, and none of them (nor the
service) may import the orchestration. The token is written in the same conditional write as
an event (``fields``), so every event is ordered against it: either the event
that ends the job sees the token and settles it here, or the launch step that
stores the token sees the ended job and settles it itself (:func:`conclude`).

A failed SendTask* call is logged, not raised: the event is already applied and
answering an error would make the sender retry a duplicate. The execution's
TimeoutSeconds/HeartbeatSeconds are the safety net, and its recover step looks
at the job before failing anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import observability
from .clients import client
from .events import Event
from .fsm import LIVE_STATES
from .records import JobRecord, Outcome

#: ``source`` of the events the orchestration sends, in the job's history. Defined here, below the service,
#: because settling needs it (the orchestration's own events are no heartbeat) and the service may not import
#: the orchestration; ``orchestration.flow`` re-exports it.
SOURCE = "stepfunctions"

#: SendTaskFailure's error name when the job failed; the state machine's recover step reads it.
JOB_FAILED_ERROR = "JobFailed"
#: Errors meaning the token is already spent or its execution gone: expected after kill/timeouts.
_STALE = {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}
_MAX_CAUSE = 32768


def settle(event: Event, outcome: Outcome, job: JobRecord, source: str) -> None:
    """After an applied event: settle the token if the job just ended, else count it as a heartbeat. A repeated
    callback (a duplicate the store passes on with the job) is a heartbeat too: the runner is alive."""
    if (job.state if outcome.duplicate else outcome.previous_state) not in LIVE_STATES:
        return
    if outcome.state in _SETTLERS and not outcome.duplicate:
        conclude(job.task_token, outcome.state, {"uuid": job.uuid, "event": outcome.event, "seq": outcome.seq,
                                                 **event.data})
    elif source != SOURCE and (job.launch or {}).get("heartbeat_seconds"):
        _send("send_task_heartbeat", taskToken=job.task_token)


def conclude(token: str, state: str, details: dict[str, Any]) -> None:
    """Complete the task waiting on ``token`` for a job that is now FINISHED or FAILED."""
    _SETTLERS[state](token, details)


def _succeed(token: str, details: dict[str, Any]) -> None:
    _send("send_task_success", taskToken=token, output=json.dumps({"state": "FINISHED", **details}))


def _fail(token: str, details: dict[str, Any]) -> None:
    _send("send_task_failure", taskToken=token, error=JOB_FAILED_ERROR,
          cause=json.dumps(details, default=str)[:_MAX_CAUSE])


_SETTLERS: dict[str, Callable[[str, dict[str, Any]], None]] = {"FINISHED": _succeed, "FAILED": _fail}


def _send(operation: str, **arguments: Any) -> None:
    stepfunctions = client("stepfunctions")
    try:
        getattr(stepfunctions, operation)(**arguments)
    except stepfunctions.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        log = observability.logger()
        (log.info if code in _STALE else log.warning)(f"{operation} refused", extra={"error": str(exc)})
