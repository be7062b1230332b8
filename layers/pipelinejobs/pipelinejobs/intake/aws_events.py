"""AWS Batch and ECS state-change events (from EventBridge rules) as PipelineJobEvents.

A Batch job or ECS task names the job it runs for; the first of these that
holds a uuid wins (the convention, also in docs/webhook.md):

* AWS Batch: tag ``pipelinejobs:job``, then the container environment variable
  ``PIPELINEJOBS_JOB_UUID``, then a uuid anywhere in the job name;
* ECS: the container override ``PIPELINEJOBS_JOB_UUID``, then ``startedBy``
  (RunTask's free field holds exactly a uuid's 36 characters), then the task group.

A task that names no job is someone else's and is ignored. Each message's id is
EventBridge's event id, so a redelivered event is applied once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..runner_status import BATCH, ECS, event_for_status

JOB_TAG = "pipelinejobs:job"
JOB_ENV = "PIPELINEJOBS_JOB_UUID"
BATCH_DETAIL_TYPE = "Batch Job State Change"
ECS_DETAIL_TYPE = "ECS Task State Change"

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def is_state_change(event: Any) -> bool:
    return isinstance(event, dict) and event.get("detail-type") in (BATCH_DETAIL_TYPE, ECS_DETAIL_TYPE)


def _first_uuid(candidates: Iterable[Any]) -> str | None:
    for candidate in candidates:
        found = _UUID.search(candidate) if isinstance(candidate, str) else None
        if found:
            return found.group(0).lower()
    return None


def _env_value(environment: Iterable[dict[str, Any]] | None) -> str | None:
    return next((var.get("value") for var in environment or () if var.get("name") == JOB_ENV), None)


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "", [], {})}


def batch_message(event: dict[str, Any]) -> dict[str, Any] | None:
    """The message a "Batch Job State Change" stands for, or None if the job names no PipelineJob."""
    detail = event.get("detail") or {}
    container = detail.get("container") or {}
    uuid = _first_uuid([(detail.get("tags") or {}).get(JOB_TAG), _env_value(container.get("environment")),
                        detail.get("jobName")])
    if uuid is None:
        return None
    data = _compact({
        "source": "aws.batch", "status": detail.get("status"), "statusReason": detail.get("statusReason"),
        "jobId": detail.get("jobId"), "jobName": detail.get("jobName"), "jobQueue": detail.get("jobQueue"),
        "exitCode": container.get("exitCode"), "logStreamName": container.get("logStreamName"),
        "attempts": len(detail.get("attempts") or []),
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
    containers = [_compact({"name": c.get("name"), "exitCode": c.get("exitCode"), "reason": c.get("reason")})
                  for c in detail.get("containers") or []]
    data = _compact({
        "source": "aws.ecs", "lastStatus": detail.get("lastStatus"), "desiredStatus": detail.get("desiredStatus"),
        "stopCode": detail.get("stopCode"), "stoppedReason": detail.get("stoppedReason"),
        "taskArn": detail.get("taskArn"), "clusterArn": detail.get("clusterArn"), "containers": containers,
    })
    return {"uuid": uuid, "event": _ecs_event(detail), "data": data, "id": f"eb-{event['id']}"}


def state_change_message(event: dict[str, Any]) -> dict[str, Any] | None:
    if event.get("detail-type") == BATCH_DETAIL_TYPE:
        return batch_message(event)
    return ecs_message(event)
