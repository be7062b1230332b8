"""Step Functions executions a user started: their "Execution Status Change" events as PipelineJobEvents.

An execution that names a job (``engines.aws_runs``: its name starts with ``job-<uuid>``, or its input says
``"pipelinejobs_job": "<uuid>"``) moves that job: RUNNING runs it, SUCCEEDED finishes it, FAILED and TIMED_OUT
fail it with the execution's ``error`` and ``cause`` and a failure class, ABORTED fails it as killed, as the
other doors do (:mod:`pipelinejobs.failures`). Executions of pipelinejobs' own job state machine are left out:
orchestration tracks those, and names them ``<job uuid>-<run>`` too.

Events arrive in any order (Step Functions delivers them best effort): an execution that ended had been
running, so an end also sends the ``run`` its RUNNING event stands for, with the same id. Whichever comes first,
the job runs once and ends once, and the late RUNNING is a duplicate.

Each execution is an attempt of its own (``handle``: its ARN); a redriven execution's events (``redriveCount``)
are new events of the same attempt. Pure: one event in, messages out, no I/O.
"""

from __future__ import annotations

import json
from typing import Any

from .. import failures
from ..failures import Failure, Rule
from ..runner_status import STEP_FUNCTIONS, event_for_status
from .aws_runs import JOB_INPUT_KEY, compact, event_id, iso_millis, job_named

SOURCE = "aws.states"
DETAIL_TYPE = "Step Functions Execution Status Change"
#: The statuses in which an execution has ended.
ENDED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})

#: Why an execution failed, from its ``status``, ``error`` and ``cause``: a stop is a kill, a timeout (the
#: execution's or a state's ``States.Timeout``) a timeout; a Lambda task's own error reads as Lambda's does;
#: any other error is the work's own failure.
RULES: tuple[Rule, ...] = (
    Rule("status", r"^ABORTED$", Failure.KILLED),
    Rule("status", r"^TIMED_OUT$", Failure.TIMEOUT),
    Rule("errorType", r"^States\.(Timeout|HeartbeatTimeout)$", Failure.TIMEOUT),
    *failures.LAMBDA,
)


def _input(detail: dict[str, Any]) -> dict[str, Any]:
    """The execution's input, if the event carries it and it is a JSON object."""
    try:
        value = json.loads(detail["input"]) if isinstance(detail.get("input"), str) else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _end(detail: dict[str, Any], status: str) -> failures.End | None:
    if status not in ENDED:
        return None
    if status == "SUCCEEDED":
        return failures.End(None, None, None)
    facts = {"status": status, "errorType": detail.get("error"), "errorMessage": detail.get("cause")}
    reason = ": ".join(str(part) for part in (detail.get("error"), detail.get("cause")) if part) or status
    return failures.End(None, reason, failures.classify(RULES, facts))


def messages(event: dict[str, Any], ours: str | None = None) -> list[dict[str, Any]]:
    """The PipelineJobEvents an "Execution Status Change" stands for: none if the execution names no job or is an
    execution of ``ours`` (pipelinejobs' own job state machine, whose executions orchestration tracks)."""
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    if ours is not None and detail.get("stateMachineArn") == ours:
        return []
    uuid = job_named(detail.get("name"), _input(detail).get(JOB_INPUT_KEY))
    if uuid is None:
        return []
    status = str(detail.get("status") or "").upper()
    arn, redrives = detail.get("executionArn"), detail.get("redriveCount") or 0
    said = compact({"source": SOURCE, "executionArn": arn, "stateMachineArn": detail.get("stateMachineArn"),
                    "name": detail.get("name"), "redriveCount": redrives or None, "launcher": "stepfunctions",
                    "handle": {"execution_arn": arn}, "started": iso_millis(detail.get("startDate"))})
    ran = {"uuid": uuid, "event": "run", "id": event_id("sfn", arn, "RUNNING", redrives, None),
           "data": {**said, "status": "RUNNING"}}
    if status == "RUNNING":
        return [ran]
    end = _end(detail, status)
    this = {"uuid": uuid, "event": event_for_status(status, STEP_FUNCTIONS),
            "id": event_id("sfn", arn, status, redrives, detail.get("stopDate")),
            "data": {**said, **compact({"status": status, "error": detail.get("error"), "cause": detail.get("cause"),
                                        "stopped": iso_millis(detail.get("stopDate")),
                                        **(end._asdict() if end else {})})}}
    return [ran, this] if end else [this]
