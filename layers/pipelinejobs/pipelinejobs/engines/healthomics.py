"""AWS HealthOmics runs a user started: their "Run Status Change" events as PipelineJobEvents.

A run names its job by its **name** (``engines.aws_runs``: ``job-<uuid>...``). Not by its tags: the event
carries ``omicsVersion, arn, status, uuid, runId, runName, runOutputUri, workflowId, workflowName`` and no
tags (reading them would take a GetRun per event, and rights on every run in the account), nor why a run
failed (GetRun's ``failureReason``): a FAILED run fails its job as ``unknown``, with that said.

Statuses, as the mapping table below: PENDING and STARTING note resources, RUNNING runs the job, COMPLETED
finishes it, FAILED fails it, CANCELLED fails it as killed; STOPPING and DELETED (a run deleted after it
ended) only add to its history. A run that completed had been running, so COMPLETED also sends the ``run`` its
RUNNING event stands for, with the same id: in any order, the job runs once and ends once. A run is one
attempt (``handle``: its ARN); a re-run is a new run. Pure: one event in, messages out, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..failures import Failure
from ..runner_status import event_for_status
from .aws_runs import compact, event_id, job_named

SOURCE = "aws.omics"
DETAIL_TYPE = "Run Status Change"

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


def messages(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The PipelineJobEvents a "Run Status Change" stands for: none if the run's name names no job."""
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    uuid = job_named(detail.get("runName"))
    if uuid is None:
        return []
    status, arn = str(detail.get("status") or "").upper(), detail.get("arn")
    said = compact({"source": SOURCE, "arn": arn, "runId": detail.get("runId"), "runName": detail.get("runName"),
                    "workflowId": detail.get("workflowId"), "workflowName": detail.get("workflowName"),
                    "runOutputUri": detail.get("runOutputUri"), "launcher": "healthomics", "handle": {"run_arn": arn}})
    ran = {"uuid": uuid, "event": "run", "id": event_id("omics", arn, "RUNNING"), "data": {**said, "status": "RUNNING"}}
    if status == "RUNNING":
        return [{**ran, "data": {**ran["data"], **compact({"started": event.get("time")})}}]
    event_name = event_for_status(status, HEALTHOMICS)
    failure, reason = ENDS.get(status, (None, None))
    stopped = event.get("time") if event_name in ("finish", "fail") else None
    this = {"uuid": uuid, "event": event_name, "id": event_id("omics", arn, status),
            "data": {**said, **compact({"status": status, "reason": reason, "failure": failure, "stopped": stopped})}}
    return [ran, this] if status == "COMPLETED" else [this]
