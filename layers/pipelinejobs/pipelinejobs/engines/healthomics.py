"""AWS HealthOmics runs a user started: their "Run Status Change" events as PipelineJobEvents.

A run names its job by its **name** (``engines.aws_runs``: ``job-<uuid>...``). Not by its tags: the event
carries ``omicsVersion, arn, status, uuid, runId, runName, runOutputUri, workflowId, workflowName`` and no
tags (reading them would take a GetRun per event, and rights on every run in the account), nor why a run
failed (GetRun's ``failureReason``): a FAILED run fails its job as ``unknown``, with that said.

Statuses, as the mapping table below: PENDING and STARTING note resources, RUNNING runs the job, COMPLETED
finishes it, FAILED fails it, CANCELLED fails it as killed; STOPPING and DELETED (a run deleted after it
ended) only add to its history. A run that completed had been running, so COMPLETED also sends the ``run`` its
RUNNING event stands for, with the same id: in any order, the job runs once and ends once. A run is one
attempt (``handle``: its ARN); a re-run is a new run.

A run named after a pipeline instead (``pipeline-<uuid>...``) is tracked as a workflow of that pipeline
(:func:`tracked`, for ``engines.tracker``), its tasks ("Task Status Change", the same statuses) jobs of it.
Pure: one event in, messages or engine events out, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..failures import Failure
from ..runner_status import event_for_status
from .aws_runs import compact, event_id, job_named, pipeline_named
from .model import RUN_FAILED, RUN_FINISHED, RUN_KILLED, RUN_STARTED, RunEvent, TaskEvent

#: The engine's name, for workflows (``engines.tracker``).
ENGINE = "healthomics"
SOURCE = "aws.omics"
DETAIL_TYPE, TASK_DETAIL_TYPE = "Run Status Change", "Task Status Change"
#: How a run that ended ends its workflow.
RUN_ENDS = {"COMPLETED": RUN_FINISHED, "FAILED": RUN_FAILED, "CANCELLED": RUN_KILLED}

#: HealthOmics run statuses -> PipelineJob events (as ``runner_status``'s tables).
HEALTHOMICS: Mapping[str, tuple[str, ...]] = {
    "resource": ("PENDING", "STARTING"),
    "run": ("RUNNING",),
    "finish": ("COMPLETED",),
    "fail": ("FAILED", "CANCELLED"),
    "update": ("STOPPING", "DELETED"),
}
#: How a run that did not complete ended: its class, and what we can say of it.
ENDS: Mapping[str, tuple[Failure, str]] = {
    "FAILED": (Failure.UNKNOWN, "HealthOmics run FAILED (the event says no reason: GetRun's failureReason has it)"),
    "CANCELLED": (Failure.KILLED, "HealthOmics run CANCELLED"),
}


def _job_events(event: dict[str, Any], detail: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(event, id, data) of the run's (or task's) job, in order: COMPLETED comes after the ``run`` it implies."""
    status, arn = str(detail.get("status") or "").upper(), detail.get("arn")
    said = compact({"source": SOURCE, "arn": arn, "runId": detail.get("runId"), "runName": detail.get("runName"),
                    "name": detail.get("name"), "workflowId": detail.get("workflowId"),
                    "workflowName": detail.get("workflowName"), "runOutputUri": detail.get("runOutputUri"),
                    "launcher": "healthomics", "handle": {"arn": arn}})
    ran = ("run", event_id("omics", arn, "RUNNING"), {**said, "status": "RUNNING"})
    if status == "RUNNING":
        return [(*ran[:2], {**ran[2], **compact({"started": event.get("time")})})]
    event_name = event_for_status(status, HEALTHOMICS)
    failure, reason = ENDS.get(status, (None, None))
    stopped = event.get("time") if event_name in ("finish", "fail") else None
    this = (event_name, event_id("omics", arn, status),
            {**said, **compact({"status": status, "reason": reason, "failure": failure, "stopped": stopped})})
    return [ran, this] if status == "COMPLETED" else [this]


def _detail(event: dict[str, Any]) -> dict[str, Any]:
    return event.get("detail") if isinstance(event.get("detail"), dict) else {}


def messages(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The PipelineJobEvents a "Run Status Change" stands for: none if the run's name names no job."""
    detail = _detail(event)
    uuid = job_named(detail.get("runName"))
    if uuid is None or event.get("detail-type") != DETAIL_TYPE:
        return []
    return [{"uuid": uuid, "event": name, "id": id_, "data": data} for name, id_, data in _job_events(event, detail)]


def tracked(event: dict[str, Any]) -> tuple[str, list[RunEvent | TaskEvent]] | None:
    """The pipeline a run names (``pipeline-<uuid>...``) and its events as a workflow of it: a "Run Status Change"
    is the run's, a "Task Status Change" one of its tasks (a job in a node named after the task, one job per
    task ARN); None if the run names no pipeline.

    Every status of a run says it started, under one key: the tracker applies it once, so a late PENDING or
    RUNNING cannot reopen a workflow that ended (HealthOmics runs are not restarted: a re-run is a new run)."""
    detail = _detail(event)
    pipeline = pipeline_named(detail.get("runName"))
    if pipeline is None:
        return None
    if event.get("detail-type") == TASK_DETAIL_TYPE:
        run, name = str(detail.get("runArn") or ""), str(detail.get("name") or "task")
        return pipeline, [TaskEvent(ENGINE, run, event_name, id_, task=str(detail.get("arn")), name=name, data=data)
                          for event_name, id_, data in _job_events(event, detail)]
    run, status = str(detail.get("arn") or ""), str(detail.get("status") or "").upper()
    started = RunEvent(ENGINE, run, RUN_STARTED, event_id("omics", run, "started"), name=detail.get("runName"))
    reason = ENDS[status][1] if status in ENDS else None
    ends = [RunEvent(ENGINE, run, RUN_ENDS[status], event_id("omics", run, status), reason=reason)
            ] if status in RUN_ENDS else []
    return pipeline, [started, *ends]
