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
are new events of the same attempt.

An execution that names a pipeline instead (``pipeline-<uuid>...``, or ``pipelinejobs_pipeline`` in its input) is
tracked as a workflow of that pipeline (:func:`tracked`, for ``engines.tracker``): the execution is the run, and
its one task, a job in a node named after the state machine (the event says nothing of the states inside).
Pure: one event in, messages or engine events out, no I/O.
"""

from __future__ import annotations

import json
from typing import Any

from .. import failures
from ..failures import Failure, Rule
from ..runner_status import STEP_FUNCTIONS, event_for_status
from .aws_runs import JOB_INPUT_KEY, PIPELINE_INPUT_KEY, compact, event_id, iso_millis, job_named, pipeline_named
from .model import RUN_FAILED, RUN_FINISHED, RUN_KILLED, RUN_STARTED, RunEvent, TaskEvent

#: The engine's name, for workflows (``engines.tracker``).
ENGINE = "stepfunctions"
SOURCE = "aws.states"
DETAIL_TYPE = "Step Functions Execution Status Change"
#: The statuses in which an execution has ended, and how its run (a workflow) ends then.
RUN_ENDS = {"SUCCEEDED": RUN_FINISHED, "FAILED": RUN_FAILED, "TIMED_OUT": RUN_FAILED, "ABORTED": RUN_KILLED}
ENDED = frozenset(RUN_ENDS)

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


def _ours(detail: dict[str, Any], ours: str | None) -> bool:
    return ours is not None and detail.get("stateMachineArn") == ours


def _job_events(detail: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(event, id, data) of the execution's job, in order: an end comes after the ``run`` it implies."""
    status = str(detail.get("status") or "").upper()
    arn, redrives = detail.get("executionArn"), detail.get("redriveCount") or 0
    said = compact({"source": SOURCE, "executionArn": arn, "stateMachineArn": detail.get("stateMachineArn"),
                    "name": detail.get("name"), "redriveCount": redrives or None, "launcher": "stepfunctions",
                    "handle": {"execution_arn": arn}, "started": iso_millis(detail.get("startDate"))})
    ran = ("run", event_id("sfn", arn, "RUNNING", redrives, None), {**said, "status": "RUNNING"})
    if status == "RUNNING":
        return [ran]
    end = _end(detail, status)
    this = (event_for_status(status, STEP_FUNCTIONS), event_id("sfn", arn, status, redrives, detail.get("stopDate")),
            {**said, **compact({"status": status, "error": detail.get("error"), "cause": detail.get("cause"),
                                "stopped": iso_millis(detail.get("stopDate")), **(end._asdict() if end else {})})})
    return [ran, this] if end else [this]


def messages(event: dict[str, Any], ours: str | None = None) -> list[dict[str, Any]]:
    """The PipelineJobEvents an "Execution Status Change" stands for: none if the execution names no job or is an
    execution of ``ours`` (pipelinejobs' own job state machine, whose executions orchestration tracks)."""
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    uuid = None if _ours(detail, ours) else job_named(detail.get("name"), _input(detail).get(JOB_INPUT_KEY))
    if uuid is None:
        return []
    return [{"uuid": uuid, "event": name, "id": id_, "data": data} for name, id_, data in _job_events(detail)]


def tracked(event: dict[str, Any], ours: str | None = None) -> tuple[str, list[RunEvent | TaskEvent]] | None:
    """The pipeline an execution names and its events as a workflow of it (the execution a run, itself its one
    task, in a node named after its state machine); None if it names no pipeline, or is one of ``ours``.

    Every status says the run started, with one key per redrive (a redrive is the run started again): the
    tracker applies it once, and a late RUNNING after the end cannot reopen the workflow."""
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    pipeline = None if _ours(detail, ours) else pipeline_named(detail.get("name"),
                                                                _input(detail).get(PIPELINE_INPUT_KEY))
    if pipeline is None:
        return None
    arn, status = str(detail.get("executionArn") or ""), str(detail.get("status") or "").upper()
    machine = str(detail.get("stateMachineArn") or "").rsplit(":", 1)[-1] or "execution"
    started = RunEvent(ENGINE, arn, RUN_STARTED, event_id("sfn", arn, "started", detail.get("redriveCount") or 0),
                       name=detail.get("name"))
    jobs = [TaskEvent(ENGINE, arn, name, id_, task="execution", name=machine, data=data)
            for name, id_, data in _job_events(detail)]
    ends = [RunEvent(ENGINE, arn, RUN_ENDS[status], f"{jobs[-1].key}-run", reason=jobs[-1].data.get("reason"))
            ] if status in RUN_ENDS else []
    return pipeline, [started, *jobs, *ends]
