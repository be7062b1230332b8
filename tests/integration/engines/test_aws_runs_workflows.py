"""Step Functions executions and HealthOmics runs named after a pipeline (``pipeline-<uuid>...``), tracked as
workflows of it through the events function, on DynamoDB Local with the release consumer: each event delivered
twice and out of order (ends before starts, the run's end before its last task's)."""

from __future__ import annotations

import json
import uuid as uuidlib
from typing import Any

from frontdoors import ROOT, SAMPLE_UUID, LambdaContext, handler_module

import pipelinejobs
from pipelinejobs import workflows
from pipelinejobs.engines import tracker

from support import table_items

SAMPLES = ROOT / "events" / "engines"


def sample(engine: str, name: str, pipeline: str) -> dict[str, Any]:
    """A sample event of a run named after ``pipeline`` instead of a job."""
    return json.loads((SAMPLES / engine / f"{name}.json").read_text().replace(f"job-{SAMPLE_UUID}",
                                                                               f"pipeline-{pipeline}-A2"))


def task(run: dict[str, Any], name: str, status: str, number: int) -> dict[str, Any]:
    """A HealthOmics "Task Status Change" of ``run``'s task ``name`` (the documented fields)."""
    detail = run["detail"]
    arn = f"arn:aws:omics:us-east-1:123456789012:task/{number}"
    return {**run, "id": str(uuidlib.uuid4()), "detail-type": "Task Status Change", "resources": [arn],
            "detail": {"omicsVersion": "1.0.0", "arn": arn, "status": status, "name": name, "runArn": detail["arn"],
                       "runUuid": detail["uuid"], "runId": detail["runId"], "runName": detail["runName"],
                       "workflowId": detail["workflowId"], "workflowName": detail["workflowName"]}}


def deliver(events: list[dict[str, Any]]) -> list[int]:
    handler = handler_module("events").handler
    return [handler(event, LambdaContext())["statusCode"] for event in events + events]


def history(uuid: str) -> list[str]:
    return [entry.name for entry in pipelinejobs.get_job(uuid).history if entry.applied]


def test_an_execution_named_after_a_pipeline_is_a_workflow_of_one_job(consumer):
    pipeline = pipelinejobs.register_pipeline("sfn-runs")
    ended = sample("stepfunctions", "timeout", pipeline.uuid)
    started = json.loads(json.dumps(ended))
    started["detail"].update(status="RUNNING", stopDate=None, error=None, cause=None)

    assert deliver([ended, started]) == [200] * 4
    uuid = tracker.workflow_uuid("stepfunctions", pipeline.uuid, ended["detail"]["executionArn"])
    wf = consumer(lambda: (w := workflows.get(uuid)).node("rnaseq-nightly").state == "failed" and w,
                  what="the execution's job counted failed")
    assert (wf.state, wf.engine) == ("FAILED", "stepfunctions")
    [job] = wf.jobs["rnaseq-nightly"]
    assert history(job) == ["create", "run", "fail"]
    assert pipelinejobs.get_job(job).history[-1].data["failure"] == "timeout"


def test_a_run_named_after_a_pipeline_is_a_workflow_of_its_tasks(consumer):
    pipeline = pipelinejobs.register_pipeline("omics-runs")
    pending, completed = (sample("healthomics", name, pipeline.uuid) for name in ("pending", "succeeded"))
    running = {**pending, "detail": {**pending["detail"], "status": "RUNNING"}}
    align, count = (task(pending, "ALIGN", "COMPLETED", 1), task(pending, "COUNT", "COMPLETED", 2))
    late = [task(pending, "ALIGN", "RUNNING", 1), task(pending, "COUNT", "PENDING", 2)]

    statuses = deliver([align, completed, count, running, pending, *late])

    assert statuses.count(200) == len(statuses)
    uuid = tracker.workflow_uuid("healthomics", pipeline.uuid, pending["detail"]["arn"])
    wf = consumer(lambda: (w := workflows.get(uuid)).node("COUNT").state == "finished" and w,
                  what="the run's tasks counted")
    assert (wf.state, wf.engine) == ("FINISHED", "healthomics")
    assert {node.name: node.state for node in wf.nodes} == {"ALIGN": "finished", "COUNT": "finished"}
    assert [history(job) for name in ("ALIGN", "COUNT") for job in wf.jobs[name]] == [
        ["create", "run", "finish"]] * 2


def test_a_run_naming_an_unknown_pipeline_writes_nothing(consumer):
    before = table_items()
    event = sample("healthomics", "succeeded", str(uuidlib.uuid4()))
    assert deliver([event]) == [404, 404]
    assert table_items() == before
