"""Nextflow, Cromwell and Agave payloads (events/engines/, written from each engine's documented format) replayed
through the webhook's handler into DynamoDB Local, with the release consumer fed by the table's stream: every
message delivered twice and out of order (a task's completion before its start, the run's end before its last
task), and the workflows and jobs end as the engine said."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from frontdoors import LambdaContext, conforming_webhook, engine_sample

import pipelinejobs
from pipelinejobs import tokens, workflows
from pipelinejobs.engines import tracker

from support import table_items

CONTEXT = LambdaContext()


@pytest.fixture
def webhook():
    """The webhook's handler, every answer held to the OpenAPI document."""
    return conforming_webhook()


@pytest.fixture
def pipeline(consumer, ddb_env):
    """A pipeline, its token and the consumer's ``until``."""
    record = pipelinejobs.register_pipeline("engines-in", components=["engines"])
    return record, tokens.pipeline_token(ddb_env.token_secret, record.uuid), consumer


def request(path: str, body: str, content_type: str = "application/json", query: dict[str, str] | None = None,
            headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway (HTTP API, payload 2.0) POST as the webhook function receives it, on the route its path
    takes (``/engines/<engine>/{pipeline}/{token}``, or ``/engines/nextflow``)."""
    parts = path.split("/")
    route = f"POST /engines/{parts[2]}/{{pipeline}}/{{token}}" if len(parts) == 5 else f"POST {path}"
    return {
        "version": "2.0", "routeKey": route, "rawPath": path, "rawQueryString": urlencode(query or {}),
        "headers": {"content-type": content_type, "host": "api.example.org", "x-forwarded-proto": "https",
                    **(headers or {})},
        "queryStringParameters": query or None,
        "requestContext": {"accountId": "123456789012", "apiId": "api", "domainName": "api.example.org",
                           "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                                    "userAgent": "engine"},
                           "requestId": "engine-replay", "routeKey": route, "stage": "$default",
                           "time": "26/Nov/2026:04:00:00 +0000", "timeEpoch": 1795752000000},
        "body": body, "isBase64Encoded": False,
    }


def send(webhook, sent: dict[str, Any]) -> dict[str, Any]:
    answer = webhook(sent, CONTEXT)
    assert 200 <= answer["statusCode"] < 300, answer
    return json.loads(answer["body"])


def twice_out_of_order(messages: list[Any], early: list[int], late: list[int]) -> list[Any]:
    """``messages`` with those at ``early`` moved to the front (in their order) and those at ``late`` to the back,
    then every one again, in reverse."""
    moved = set(early) | set(late)
    first = [messages[i] for i in early] + [m for i, m in enumerate(messages) if i not in moved]
    first += [messages[i] for i in late]
    return first + first[::-1]


def history(uuid: str) -> list[str]:
    return [entry.name for entry in pipelinejobs.get_job(uuid).history if entry.applied]


# ---- Nextflow ------------------------------------------------------------------------------------------------

def nextflow_run(name: str, pipeline_uuid: str, token: str) -> list[dict[str, Any]]:
    """A sample run, its weblog address (in its command line) this pipeline's, as ``engine-url`` prints it."""
    text = json.dumps(engine_sample("nextflow", name))
    return json.loads(text.replace("PIPELINE_UUID", pipeline_uuid).replace("PIPELINE_TOKEN", token))


def where(messages: list[dict[str, Any]], event: str, task: str | None = None) -> list[int]:
    return [i for i, m in enumerate(messages)
            if m["event"] == event and (task is None or (m.get("trace") or {}).get("name") == task)]


def test_a_nextflow_run_with_a_retry_ends_finished_whatever_the_order(webhook, pipeline):
    record, token, until = pipeline
    messages = nextflow_run("succeeded-with-retry", record.uuid, token)
    # FASTQC (s1)'s completion before its start and submission; the run's completed before MULTIQC's messages.
    early = where(messages, "process_completed", "FASTQC (s1)")
    late = [*where(messages, "completed"), *(i for i in range(len(messages))
                                             if (messages[i].get("trace") or {}).get("name") == "MULTIQC")]
    path = f"/engines/nextflow/{record.uuid}/{token}"
    for message in twice_out_of_order(messages, early, late):
        answer = send(webhook, request(path, json.dumps(message)))
    uuid = tracker.workflow_uuid("nextflow", record.uuid, messages[0]["runId"])
    assert answer["workflow"] == uuid

    wf = until(lambda: (w := workflows.get(uuid)).counts.get("FINISHED") == 5 and w, what="5 jobs counted")
    assert (wf.state, wf.name, wf.engine) == ("FINISHED", "friendly_pesquet", "nextflow")
    assert wf.spec["outcome"]["workflow"]["stats"]["succeededCount"] == 6
    assert {name: len(jobs) for name, jobs in wf.jobs.items()} == {"FASTQC": 2, "QUANT": 2, "MULTIQC": 1}
    assert {node.name: node.state for node in wf.nodes} == dict.fromkeys(("FASTQC", "QUANT", "MULTIQC"), "finished")
    jobs = {pipelinejobs.get_job(j).record.data.get("name"): pipelinejobs.get_job(j) for ids in wf.jobs.values()
            for j in ids}
    assert set(jobs) == {"FASTQC (s1)", "FASTQC (s2)", "QUANT (s1)", "QUANT (s2)", "MULTIQC"}
    assert {name: job.record.state for name, job in jobs.items()} == dict.fromkeys(jobs, "FINISHED")

    retried = jobs["QUANT (s2)"]  # attempt 1 failed (exit 137), attempt 2 finished: one job, two attempts
    assert history(retried.uuid) == ["create", "update", "run", "fail", "reset", "ready", "update", "run", "finish"]
    ends = [e for e in retried.history if e.applied and e.name in ("fail", "finish")]
    assert [(e.data["attempt"], e.data["exit_code"]) for e in ends] == [(1, 137), (2, 0)]
    assert ends[0].data["failure"] == "exit_nonzero"
    finish = ends[1].data
    assert finish["native_id"] and finish["workdir"] and finish["hash"] and finish["cpus"] == 2
    assert history(jobs["FASTQC (s1)"].uuid) == ["create", "run", "finish"]  # completed first: run implied


def test_a_resumed_nextflow_launch_runs_its_failed_task_again_as_the_next_attempt(webhook, pipeline):
    """``nextflow run -resume`` keeps the runId and starts a new launch (a new runName), whose tasks count their
    attempts from 1 again: the task that failed in the first launch is the same job, and its run in the
    second is its next attempt (ordered by when it was submitted), not a late word of the first."""
    record, token, until = pipeline
    run_id, path = "7c1f0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b", f"/engines/nextflow/{record.uuid}/{token}"

    def launch(name: str, submit: int, status: str, exit_code: int) -> list[dict[str, Any]]:
        trace = {"task_id": 1, "name": "QUANT (s1)", "process": "QUANT", "tag": "s1", "attempt": 1,
                 "hash": f"{submit % 100:02d}/ab12", "submit": submit, "start": submit + 1000}
        workflow = {"success": status == "COMPLETED", "errorMessage": None if exit_code == 0 else "QUANT failed"}
        return [{"runName": name, "runId": run_id, "event": "started", "utcTime": "2026-11-26T04:00:00Z"},
                {"runName": name, "runId": run_id, "event": "process_submitted",
                 "trace": {**trace, "status": "SUBMITTED"}},
                {"runName": name, "runId": run_id, "event": "process_started", "trace": {**trace, "status": "RUNNING"}},
                {"runName": name, "runId": run_id, "event": "process_completed",
                 "trace": {**trace, "status": status, "exit": exit_code, "complete": submit + 9000}},
                {"runName": name, "runId": run_id, "event": "completed", "metadata": {"workflow": workflow}}]

    first, resumed = launch("sad_turing", 1795779720000, "FAILED", 1), launch("happy_hopper", 1795783320000,
                                                                             "COMPLETED", 0)
    for message in first + resumed + first:  # the first launch's words again, late: they change nothing
        send(webhook, request(path, json.dumps(message)))
    uuid = tracker.workflow_uuid("nextflow", record.uuid, run_id)
    wf = until(lambda: (w := workflows.get(uuid)).counts.get("FINISHED") == 1 and w, what="the job counted")
    assert (wf.state, wf.name) == ("FINISHED", "sad_turing")  # a workflow keeps the name it was announced with
    job = pipelinejobs.get_job(wf.jobs["QUANT"][0])
    assert job.record.state == "FINISHED"
    assert history(job.uuid) == ["create", "update", "run", "fail", "reset", "ready", "update", "run", "finish"]


def test_a_failed_nextflow_run_ends_failed_with_its_error_and_the_token_is_kept_nowhere(webhook, pipeline,
                                                                                       monkeypatch):
    record, token, until = pipeline
    messages = nextflow_run("failed", record.uuid, token)
    assert token in json.dumps(messages)  # Nextflow repeats its weblog address in the command line
    handed: list = []
    apply = tracker.apply
    monkeypatch.setattr(tracker, "apply", lambda events, *a, **k: apply(handed.extend(events) or events, *a, **k))
    late = [*where(messages, "completed"), *where(messages, "error"), *where(messages, "process_completed",
                                                                                  "QUANT (s2)")]
    credentials = base64.b64encode(f"{record.uuid}:{token}".encode()).decode()
    for message in twice_out_of_order(messages, where(messages, "process_completed", "QUANT (s1)"), late):
        send(webhook, request("/engines/nextflow", json.dumps(message),
                              headers={"authorization": f"Basic {credentials}"}))
    uuid = tracker.workflow_uuid("nextflow", record.uuid, messages[0]["runId"])

    wf = until(lambda: (w := workflows.get(uuid)).counts.get("FAILED") == 2 and w, what="2 failed jobs counted")
    assert (wf.state, wf.name) == ("FAILED", "sad_turing")
    assert "Process `QUANT (s1)` terminated with an error exit status (1)" in wf.stopped
    states = {pipelinejobs.get_job(j).record.data.get("name"): pipelinejobs.get_job(j).record.state
              for ids in wf.jobs.values() for j in ids}
    assert states == {"FASTQC (s1)": "FINISHED", "QUANT (s1)": "FAILED", "QUANT (s2)": "FAILED"}
    assert wf.spec["outcome"]["workflow"]["commandLine"].endswith(f"/engines/nextflow/{record.uuid}/***'")
    assert token not in json.dumps(table_items())
    command_lines = {e.data["workflow"]["commandLine"] for e in handed if "workflow" in e.data}
    assert command_lines and all(line.endswith(f"/engines/nextflow/{record.uuid}/***'") for line in command_lines)
    assert token not in repr(handed)


# ---- Cromwell ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("sample", "state"), [("succeeded", "FINISHED"), ("failed", "FAILED"),
                                               ("aborted", "KILLED")])
def test_a_cromwell_callback_ends_its_workflow(webhook, pipeline, sample, state):
    record, token, _ = pipeline
    callback = engine_sample("cromwell", sample)
    for _ in range(2):  # Cromwell retries a callback it saw no answer to
        answer = send(webhook, request(f"/engines/cromwell/{record.uuid}/{token}", json.dumps(callback)))
    wf = workflows.get(answer["workflow"])
    assert answer["workflow"] == tracker.workflow_uuid("cromwell", record.uuid, callback["workflowId"])
    assert (wf.state, wf.jobs) == (state, {})
    assert wf.spec["outcome"] == {"state": callback["state"], "outputs": callback["outputs"],
                                  "failures": callback["failures"]}  # kept, as Cromwell said them
    if sample == "failed":
        assert "exited with return code 137" in wf.stopped


# ---- Agave ---------------------------------------------------------------------------------------------------

def agave_request(record, token: str, notification: dict[str, Any]) -> dict[str, Any]:
    body = notification["body"]
    return request(f"/engines/agave/{record.uuid}/{token}", body if isinstance(body, str) else json.dumps(body),
                   notification["content_type"], query=notification["query"])


@pytest.mark.parametrize(("sample", "workflow_state", "job_state", "applied"), [
    # The end arrives first: the statuses before it come too late to move the job, and are dropped.
    ("finished", "FINISHED", "FINISHED", ["create", "run", "finish"]),
    ("failed-staging", "FAILED", "FAILED", ["create", "fail"]),
    ("stopped-status-in-url", "KILLED", "FAILED", ["create", "fail"]),
])
def test_an_agave_job_is_a_workflow_of_one_job_whatever_the_order(webhook, pipeline, sample, workflow_state,
                                                                   job_state, applied):
    record, token, until = pipeline
    notifications = engine_sample("agave", sample)
    job_id = notifications[0]["query"]["job"]
    last = len(notifications) - 1
    for notification in twice_out_of_order(notifications, [last], []):  # its end first
        send(webhook, agave_request(record, token, notification))
    uuid = tracker.workflow_uuid("agave", record.uuid, job_id)
    wf = until(lambda: (w := workflows.get(uuid)).counts.get(job_state) == 1 and w, what="the job counted")
    assert wf.state == workflow_state
    [[job]] = wf.jobs.values()
    assert pipelinejobs.get_job(job).record.state == job_state
    assert history(job) == applied


# ---- answers an engine can live with ---------------------------------------------------------------------------

@pytest.mark.parametrize(("engine", "body", "query", "status", "field"), [
    ("nextflow", {"runId": "r", "runName": "n", "event": "process_cached", "trace": {}}, None, 200, None),
    ("cromwell", {"workflowId": "w", "state": "Running"}, None, 200, None),
    ("agave", {"id": "j", "status": "HEARTBEAT"}, None, 200, None),
    ("nextflow", {"runName": "n", "event": "started"}, None, 400, "runId"),
    ("nextflow", {"runId": "r", "event": "process_started"}, None, 400, "trace"),
    ("nextflow", ["started"], None, 400, "runId"),
    ("cromwell", "{not json", None, 400, "(body)"),
    ("cromwell", {"workflowId": "w"}, None, 400, "state"),
    ("agave", {"id": "j"}, {"status": "${JOB_STATUS}"}, 400, "status"),
    ("agave", {"status": "RUNNING"}, None, 400, "id"),
])
def test_meaningless_messages_are_acknowledged_and_malformed_ones_refused_naming_the_field(
        webhook, pipeline, engine, body, query, status, field):
    record, token, _ = pipeline
    before = table_items()
    text = body if isinstance(body, str) else json.dumps(body)
    label = "application/json" if engine == "agave" else "text/plain"  # the JSON-only engines' read as JSON anyway
    answer = webhook(request(f"/engines/{engine}/{record.uuid}/{token}", text, label, query=query), CONTEXT)
    assert answer["statusCode"] == status, answer
    if field is None:
        assert json.loads(answer["body"])["workflow"] is None
    else:
        assert [error["field"] for error in json.loads(answer["body"])["errors"]] == [field]
    assert table_items() == before


def test_a_throttled_table_is_a_503_to_retry_and_nothing_is_written(webhook, ddb_env, dynamodb_faults):
    record = pipelinejobs.register_pipeline("engines-throttled", components=["engines"])
    token = tokens.pipeline_token(ddb_env.token_secret, record.uuid)
    before = table_items()
    seen = dynamodb_faults.throttle(lambda request: True)
    answer = webhook(request(f"/engines/cromwell/{record.uuid}/{token}",
                             json.dumps(engine_sample("cromwell", "succeeded"))), CONTEXT)
    dynamodb_faults.clear()
    assert (answer["statusCode"], answer["headers"].get("Retry-After")) == (503, "1"), answer
    assert seen["faults"] > 1  # retried before giving up
    assert table_items() == before
