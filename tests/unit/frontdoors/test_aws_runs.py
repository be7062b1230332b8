"""Step Functions executions and HealthOmics runs a user started, named after their job: which job, which
events, which ids, and how they ended (the samples in ``events/engines/``, written from AWS's documented events)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from frontdoors import ROOT, SAMPLE_UUID, LambdaContext, handler_module
from moto import mock_aws

import pipelinejobs
from pipelinejobs.engines import healthomics, stepfunctions
from pipelinejobs.intake import aws_events

SAMPLES = ROOT / "events" / "engines"
OURS = "arn:aws:states:us-east-1:123456789012:stateMachine:pipelinejobs-dev-job"
OTHER = "2c2b8e7f-6d54-5a1f-9b8c-4a3e0d5f7b21"
#: What each sample's name says the job's last event is, and its failure class (None: it did not fail).
ENDS = {"running": ("run", None), "pending": ("resource", None), "succeeded": ("finish", None)}


def load(engine: str, name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / engine / f"{name}.json").read_text())


def samples() -> list[Path]:
    """The AWS services' samples (the other engines' samples beside them come through HTTP doors)."""
    return sorted(path for service in ("stepfunctions", "healthomics") for path in (SAMPLES / service).glob("*.json"))


def messages(event: dict[str, Any]) -> list[dict[str, Any]]:
    return aws_events.state_change_messages(event)


@pytest.mark.parametrize("path", samples(), ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_each_sample_moves_its_job_as_its_name_says(path: Path):
    found = messages(json.loads(path.read_text()))
    event, failure = ENDS.get(path.stem, ("fail", path.stem))
    assert {m["uuid"] for m in found} == {SAMPLE_UUID}
    assert (found[-1]["event"], found[-1]["data"].get("failure")) == (event, failure)
    if failure:
        assert found[-1]["data"]["reason"]  # the service's words, or what we can say without them


def test_an_end_also_sends_the_run_it_implies_with_the_running_events_own_id():
    """So in any order the job runs once and ends once: a late RUNNING is a duplicate."""
    for engine, ended in (("stepfunctions", "succeeded"), ("stepfunctions", "timeout"), ("healthomics", "succeeded")):
        [running] = messages(load(engine, "running"))
        run, end = messages(load(engine, ended))
        assert (run["event"], run["id"]) == ("run", running["id"])
        assert end["id"] != run["id"]


def test_ids_come_from_the_content_not_the_envelope():
    event = load("stepfunctions", "succeeded")
    again = copy.deepcopy(event)
    again.update(id="00000000-0000-4000-8000-000000000000", time="2026-11-22T01:00:07Z")  # emitted twice
    assert [m["id"] for m in messages(again)] == [m["id"] for m in messages(event)]
    redriven = copy.deepcopy(event)
    redriven["detail"].update(redriveCount=1, stopDate=1795312800000)
    assert not {m["id"] for m in messages(redriven)} & {m["id"] for m in messages(event)}


def test_an_execution_names_its_job_by_its_input_then_its_name():
    event = load("stepfunctions", "running")
    detail = event["detail"]
    detail["input"] = json.dumps({"pipelinejobs_job": OTHER.upper()})
    assert messages(event)[0]["uuid"] == OTHER
    detail["input"] = "{not json"
    assert messages(event)[0]["uuid"] == SAMPLE_UUID
    detail["name"] = f"job-{SAMPLE_UUID.upper()}-retry2"
    assert messages(event)[0]["uuid"] == SAMPLE_UUID


@pytest.mark.parametrize("name", [SAMPLE_UUID, f"nightly-{SAMPLE_UUID}", "job-1b1a7d6e", f"job-{SAMPLE_UUID}0",
                                  "", None])
def test_an_execution_or_run_that_names_no_job_is_none_of_ours(name):
    """A bare uuid is what Step Functions names an execution started without a name."""
    execution, run = load("stepfunctions", "running"), load("healthomics", "running")
    execution["detail"]["name"], run["detail"]["runName"] = name, name
    assert messages(execution) == messages(run) == []


def test_our_own_state_machines_executions_are_left_to_orchestration(monkeypatch):
    event = load("stepfunctions", "succeeded")
    event["detail"]["stateMachineArn"] = OURS
    assert stepfunctions.messages(event, ours=OURS) == []
    monkeypatch.setenv("PIPELINEJOBS_STATE_MACHINE_ARN", OURS)
    assert messages(event) == []
    monkeypatch.setenv("PIPELINEJOBS_STATE_MACHINE_ARN", OURS.replace("-dev-", "-prod-"))
    assert [m["event"] for m in messages(event)] == ["run", "finish"]


def test_an_execution_that_ended_says_how_in_the_jobs_attempt():
    run, end = messages(load("stepfunctions", "exit_nonzero"))
    arn = "arn:aws:states:us-east-1:123456789012:execution:rnaseq-nightly:nightly-A2-2026-11-22"
    assert run["data"] == {"source": "aws.states", "status": "RUNNING", "executionArn": arn,
                           "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:rnaseq-nightly",
                           "name": "nightly-A2-2026-11-22", "launcher": "stepfunctions",
                           "handle": {"execution_arn": arn}, "started": "2026-11-22T00:00:00.000Z"}
    assert {k: end["data"][k] for k in ("status", "error", "stopped", "failure")} == {
        "status": "FAILED", "error": "States.TaskFailed", "stopped": "2026-11-22T01:00:00.000Z",
        "failure": "exit_nonzero"}
    assert end["data"]["reason"].startswith("States.TaskFailed: {")


def test_every_documented_run_status_has_an_event():
    documented = {"PENDING", "STARTING", "RUNNING", "STOPPING", "COMPLETED", "DELETED", "CANCELLED", "FAILED"}
    assert {status for statuses in healthomics.HEALTHOMICS.values() for status in statuses} == documented


def test_only_the_services_own_events_are_recognised():
    assert aws_events.is_state_change(load("stepfunctions", "running"))
    assert aws_events.is_state_change(load("healthomics", "running"))
    assert not aws_events.is_state_change({**load("healthomics", "running"), "source": "com.example.lims"})


def test_the_events_function_ends_the_job_an_execution_names_on_moto(aws_env):
    """The door end to end on moto: the end first, then its start, each twice; then an execution naming no job."""
    with mock_aws():
        pipelinejobs.create_tables()
        pipeline = pipelinejobs.register_pipeline("aws-runs", task={"launcher": "external"})
        job = pipelinejobs.PipelineJob(pipeline.uuid, {"sample": "A2"}).setup()
        ended = json.loads((SAMPLES / "stepfunctions" / "timeout.json").read_text().replace(SAMPLE_UUID, job.uuid))
        started = copy.deepcopy(ended)
        started["detail"].update(status="RUNNING", stopDate=None, error=None, cause=None)
        handler = handler_module("events").handler

        answers = [handler(event, LambdaContext()) for event in (ended, started, ended, started)]
        started["detail"]["name"] = "nightly"

        assert [a["statusCode"] for a in answers] == [200] * 4
        assert handler(started, LambdaContext())["statusCode"] == 204
        assert [(e.name, e.applied) for e in job.history] == [("create", True), ("run", True), ("fail", True)]
        assert (job.refresh().state, job.history[-1].data["failure"]) == ("FAILED", "timeout")


def test_a_run_named_after_a_pipeline_is_a_workflow_and_every_status_says_it_started_once():
    """One ``started`` key per run (per redrive): a late RUNNING or PENDING cannot reopen a workflow that ended."""
    execution, run = load("stepfunctions", "killed"), load("healthomics", "killed")
    execution["detail"]["name"] = f"pipeline-{OTHER}-nightly"
    run["detail"]["runName"] = f"pipeline-{OTHER}"
    assert messages(execution) == messages(run) == []

    pipeline, events = aws_events.tracked_run(execution)
    assert pipeline == OTHER
    assert [(type(e).__name__, getattr(e, "kind", None) or e.event) for e in events] == [
        ("RunEvent", "started"), ("TaskEvent", "run"), ("TaskEvent", "fail"), ("RunEvent", "killed")]
    assert events[1].name == "rnaseq-nightly" and events[2].data["failure"] == "killed"
    started = copy.deepcopy(execution)
    started["detail"]["status"] = "RUNNING"
    assert aws_events.tracked_run(started)[1][0].key == events[0].key

    _, (run_started, ended) = aws_events.tracked_run(run)
    pending = copy.deepcopy(run)
    pending["detail"]["status"] = "PENDING"
    assert (ended.kind, aws_events.tracked_run(pending)[1]) == ("killed", [run_started])


def test_a_task_of_a_run_named_after_a_pipeline_is_a_job_of_its_workflow():
    run = load("healthomics", "succeeded")
    run["detail"]["runName"] = f"pipeline-{OTHER}"
    arn = "arn:aws:omics:us-east-1:123456789012:task/7654321"
    task = {**run, "detail-type": "Task Status Change", "detail": {
        "arn": arn, "status": "FAILED", "name": "ALIGN", "runArn": run["detail"]["arn"],
        "runName": f"pipeline-{OTHER}"}}

    assert aws_events.is_state_change(task) and messages(task) == []
    [failed] = aws_events.tracked_run(task)[1]
    assert (failed.run, failed.task, failed.name, failed.event) == (run["detail"]["arn"], arn, "ALIGN", "fail")
    assert aws_events.tracked_run(load("healthomics", "succeeded")) is None  # a job's run: not a workflow
