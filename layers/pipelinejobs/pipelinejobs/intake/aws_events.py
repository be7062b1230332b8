"""AWS Batch and ECS state-change events (from EventBridge rules) as PipelineJobEvents.

A Batch job or ECS task names the job it runs for; the first of these that
holds a uuid wins (the convention, also in docs/webhook.md):

* AWS Batch: tag ``pipelinejobs:job``, then the container environment variable
  ``PIPELINEJOBS_JOB_UUID``, then a uuid anywhere in the job name;
* ECS: the container override ``PIPELINEJOBS_JOB_UUID``, then ``startedBy``
  (RunTask's free field holds exactly a uuid's 36 characters), then the task group.

A task that names no job is someone else's and is ignored. Each message's id is
EventBridge's event id, so a redelivered event is applied once.

Each message also says which attempt it is about and, once that attempt has ended, how
(``attempt``, ``launcher``, ``handle``, ``exit_code``, ``reason``, ``failure``, ``started``,
``stopped``: see :mod:`pipelinejobs.attempt_history` and :mod:`pipelinejobs.failures`), so a job
that nothing orchestrates has attempts too: one per Batch attempt (a task orchestration launched
carries its attempt in ``PIPELINEJOBS_ATTEMPT``) or per ECS task.

Step Functions executions and HealthOmics runs a user started (not pipelinejobs' orchestration) name their job
too, by a name starting ``job-<uuid>`` (or, for an execution, ``pipelinejobs_job`` in its input): their
status changes are mapped by :mod:`pipelinejobs.engines.stepfunctions` and :mod:`pipelinejobs.engines.healthomics`,
which may send more than one message for one event (an end also sends the ``run`` it implies), each with an id
derived from the event's content. One named ``pipeline-<uuid>`` instead is a workflow of that pipeline
(:data:`TRACKED`: the events function applies it with the engines' tracker; this wins over a job's name).
Executions of our own job state machine (``PIPELINEJOBS_STATE_MACHINE_ARN``) are left to orchestration.

A failed asynchronous invocation of a Lambda task (its ``OnFailure`` destination, EventBridge's
"Lambda Function Invocation Result - Failure") names its job in the payload the launcher sent
(``pipelinejobs.uuid`` and ``attempt``) and fails it with Lambda's error type and message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from .. import failures
from ..config import Config
from ..engines import healthomics, stepfunctions
from ..engines.aws_runs import compact, iso_millis
from ..engines.model import RunEvent, TaskEvent
from ..runner_status import BATCH, ECS, event_for_status

JOB_TAG = "pipelinejobs:job"
JOB_ENV = "PIPELINEJOBS_JOB_UUID"
ATTEMPT_ENV = "PIPELINEJOBS_ATTEMPT"
BATCH_DETAIL_TYPE = "Batch Job State Change"
ECS_DETAIL_TYPE = "ECS Task State Change"
LAMBDA_FAILURE_DETAIL_TYPE = "Lambda Function Invocation Result - Failure"
#: Batch statuses of a job whose current attempt has not started yet (the end of the one before may be known).
_BATCH_WAITING = frozenset({"SUBMITTED", "PENDING", "RUNNABLE"})

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def is_state_change(event: Any) -> bool:
    return isinstance(event, dict) and (event.get("source"), event.get("detail-type")) in MESSAGES


def _first_uuid(candidates: Iterable[Any]) -> str | None:
    for candidate in candidates:
        found = _UUID.search(candidate) if isinstance(candidate, str) else None
        if found:
            return found.group(0).lower()
    return None


def _env_value(environment: Iterable[dict[str, Any]] | None, name: str = JOB_ENV) -> str | None:
    return next((var.get("value") for var in environment or () if var.get("name") == name), None)


def _our_attempt(environments: Iterable[Iterable[dict[str, Any]] | None]) -> int | None:
    """The attempt orchestration launched the task as (its PIPELINEJOBS_ATTEMPT), if it did."""
    value = next((v for env in environments if (v := _env_value(env, ATTEMPT_ENV))), None)
    return int(value) if value and value.isdigit() else None


def _batch_attempt(detail: dict[str, Any], status: str) -> dict[str, Any]:
    """Which attempt a Batch event is about, and its end once known: the job's end (SUCCEEDED, FAILED), or,
    while Batch waits to run it again, the end of the attempt before (the last of ``attempts[]``)."""
    ended = detail.get("attempts") or []
    if status in ("SUCCEEDED", "FAILED"):
        number, end, times = len(ended) or 1, failures.batch_end(detail, status == "SUCCEEDED"), detail
    elif status in _BATCH_WAITING and ended:
        number, end, times = len(ended), failures.batch_end(ended[-1], False), ended[-1]
    else:
        number, end, times = len(ended) + 1, None, detail
    ours = _our_attempt([(detail.get("container") or {}).get("environment")])
    return {"attempt": ours or number, "launcher": "batch", "handle": {"job_id": detail.get("jobId")},
            "started": iso_millis(times.get("startedAt")),
            "stopped": iso_millis(times.get("stoppedAt")) if end else None,
            **(end._asdict() if end else {})}


def batch_message(event: dict[str, Any]) -> dict[str, Any] | None:
    """The message a "Batch Job State Change" stands for, or None if the job names no PipelineJob."""
    detail = event.get("detail") or {}
    container = detail.get("container") or {}
    uuid = _first_uuid([(detail.get("tags") or {}).get(JOB_TAG), _env_value(container.get("environment")),
                        detail.get("jobName")])
    if uuid is None:
        return None
    data = compact({
        "source": "aws.batch", "status": detail.get("status"), "statusReason": detail.get("statusReason"),
        "jobId": detail.get("jobId"), "jobName": detail.get("jobName"), "jobQueue": detail.get("jobQueue"),
        "exitCode": container.get("exitCode"), "logStreamName": container.get("logStreamName"),
        "attempts": len(detail.get("attempts") or []), **_batch_attempt(detail, str(detail.get("status")).upper()),
    })
    return {"uuid": uuid, "event": event_for_status(detail.get("status"), BATCH), "data": data,
            "id": f"eb-{event['id']}"}


def _ecs_event(detail: dict[str, Any]) -> str:
    """A stopped task finished only if its essential container exited and every exit code is 0."""
    if str(detail.get("lastStatus", "")).upper() != "STOPPED":
        return event_for_status(detail.get("lastStatus"), ECS)
    codes = [c.get("exitCode") for c in detail.get("containers") or [] if c.get("exitCode") is not None]
    succeeded = detail.get("stopCode") == "EssentialContainerExited" and codes and all(code == 0 for code in codes)
    return "finish" if succeeded else "fail"


def ecs_message(event: dict[str, Any]) -> dict[str, Any] | None:
    """The message an "ECS Task State Change" stands for, or None if the task names no PipelineJob."""
    detail = event.get("detail") or {}
    overrides = (detail.get("overrides") or {}).get("containerOverrides") or []
    uuid = _first_uuid([*(_env_value(o.get("environment")) for o in overrides), detail.get("startedBy"),
                        detail.get("group")])
    if uuid is None:
        return None
    containers = [compact({"name": c.get("name"), "exitCode": c.get("exitCode"), "reason": c.get("reason")})
                  for c in detail.get("containers") or []]
    event_name = _ecs_event(detail)
    stopped = str(detail.get("lastStatus", "")).upper() == "STOPPED"
    end = failures.ecs_end(detail, event_name == "finish") if stopped else None
    data = compact({
        "source": "aws.ecs", "lastStatus": detail.get("lastStatus"), "desiredStatus": detail.get("desiredStatus"),
        "stopCode": detail.get("stopCode"), "stoppedReason": detail.get("stoppedReason"),
        "taskArn": detail.get("taskArn"), "clusterArn": detail.get("clusterArn"), "containers": containers,
        # no attempt number unless orchestration gave one: then each task is an attempt of its own
        "attempt": _our_attempt(o.get("environment") for o in overrides), "launcher": "ecs",
        "handle": {"cluster": detail.get("clusterArn"), "task_arn": detail.get("taskArn")},
        "started": detail.get("startedAt"), "stopped": detail.get("stoppedAt") if stopped else None,
        **(end._asdict() if end else {}),
    })
    return {"uuid": uuid, "event": event_name, "data": data, "id": f"eb-{event['id']}"}


def lambda_failure_message(event: dict[str, Any]) -> dict[str, Any] | None:
    """The ``fail`` a failed asynchronous invocation of a job's Lambda task stands for, or None if its payload
    names no PipelineJob (another function's failure)."""
    detail = event.get("detail") or {}
    job = ((detail.get("requestPayload") or {}) if isinstance(detail.get("requestPayload"), dict) else {}).get(
        "pipelinejobs") or {}
    uuid = _first_uuid([job.get("uuid")]) if isinstance(job, dict) else None
    if uuid is None:
        return None
    request = detail.get("requestContext") or {}
    end = failures.lambda_end(detail)
    data = compact({
        "source": "aws.lambda", "attempt": job.get("attempt") if isinstance(job.get("attempt"), int) else None,
        "launcher": "lambda", "functionArn": request.get("functionArn"), "requestId": request.get("requestId"),
        "condition": request.get("condition"), "approximateInvokeCount": request.get("approximateInvokeCount"),
        "stopped": detail.get("timestamp"), **end._asdict(),
    })
    return {"uuid": uuid, "event": "fail", "data": data, "id": f"eb-{event['id']}"}


def _one(message_for: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Callable[[dict[str, Any]], list]:
    return lambda event: [message] if (message := message_for(event)) is not None else []


def _executions(event: dict[str, Any]) -> list[dict[str, Any]]:
    """A user's execution's messages; our own job state machine's executions are orchestration's to track."""
    return stepfunctions.messages(event, ours=_ours())


def _ours() -> str | None:
    """Our job state machine: its executions are orchestration's to track (see orchestration.launch)."""
    return Config.current().state_machine_arn


#: The messages each kind of AWS event stands for, by its ``source`` and ``detail-type``.
MESSAGES: dict[tuple[str, str], Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
    ("aws.batch", BATCH_DETAIL_TYPE): _one(batch_message),
    ("aws.ecs", ECS_DETAIL_TYPE): _one(ecs_message),
    ("lambda", LAMBDA_FAILURE_DETAIL_TYPE): _one(lambda_failure_message),
    (stepfunctions.SOURCE, stepfunctions.DETAIL_TYPE): _executions,
    (healthomics.SOURCE, healthomics.DETAIL_TYPE): healthomics.messages,
    (healthomics.SOURCE, healthomics.TASK_DETAIL_TYPE): healthomics.messages,  # none: a task is a workflow's
}

#: The kinds of AWS event a run named after a pipeline sends, tracked as a workflow of it: (pipeline, events).
TRACKED: dict[tuple[str, str], Callable[[dict[str, Any]], tuple[str, list[RunEvent | TaskEvent]] | None]] = {
    (stepfunctions.SOURCE, stepfunctions.DETAIL_TYPE):
        lambda event: stepfunctions.tracked(event, ours=_ours()),
    (healthomics.SOURCE, healthomics.DETAIL_TYPE): healthomics.tracked,
    (healthomics.SOURCE, healthomics.TASK_DETAIL_TYPE): healthomics.tracked,
}


def state_change_messages(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The PipelineJobEvents an AWS event stands for, in the order to apply them; none if it names no job."""
    return MESSAGES[event["source"], event["detail-type"]](event)


def tracked_run(event: dict[str, Any]) -> tuple[str, list[RunEvent | TaskEvent]] | None:
    """The pipeline an AWS event's run names and the run's events as a workflow of it; None if it names none."""
    kind = (event["source"], event["detail-type"])
    return TRACKED[kind](event) if kind in TRACKED else None
