"""The events function, driven with its sample events: a direct invoke, an SQS batch, and
EventBridge "Batch Job State Change" / "ECS Task State Change" events."""

from __future__ import annotations

import io
import json

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from frontdoors import LambdaContext, sample

from pipelinejobs.errors import InvalidTransition
from pipelinejobs.sdk.transports import LambdaTransport


def test_direct_invoke_sample_answers_like_the_webhook(events_function, job):
    answer = events_function(sample("events", "direct", job.uuid, job.token), LambdaContext())
    assert answer["statusCode"] == 200
    assert (answer["body"]["event"], answer["body"]["state"]) == ("run", "RUNNING")


@pytest.mark.parametrize("message", [[1, 2], "run", None, {"uuid": "x"}])
def test_direct_invoke_of_junk_is_a_400_answer_not_a_crash(events_function, tables, message):
    answer = events_function(message, LambdaContext())
    assert answer["statusCode"] == 400


class InProcessLambda:
    """A Lambda client whose invoke runs the events function here, as the real service would."""

    def __init__(self, handler):
        self.handler = handler

    def invoke(self, FunctionName: str, Payload: bytes) -> dict:  # boto3's argument names
        answer = self.handler(json.loads(Payload), LambdaContext())
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(answer).encode())}


def test_the_sdk_moves_a_job_through_the_events_function(events_function, job):
    transport = LambdaTransport("events", InProcessLambda(events_function))
    remote = type(job)(job.pipeline_uuid, job.data, transport=transport)
    remote.run({"host": "compute-1"})
    assert job.refresh().state == "RUNNING"
    with pytest.raises(InvalidTransition) as refused:
        remote.validate()
    assert (refused.value.state, refused.value.uuid) == ("RUNNING", job.uuid)
    assert refused.value.allowed == ["fail", "finish", "reset", "resource", "run", "update"]


def test_sqs_sample_batch_applies_every_record(events_function, job):
    answer = events_function(sample("events", "sqs-batch", job.uuid, job.token), LambdaContext())
    assert answer == {"batchItemFailures": []}
    assert [(e.name, e.id) for e in job.history[1:]] == [("run", "sqs-run-1"), ("update", "sqs-update-1")]


def test_sqs_reports_only_the_failed_records(events_function, job, monkeypatch):
    """Without a dead-letter queue URL a bad message takes the retry path (the redrive policy ends it)."""
    monkeypatch.delenv("PIPELINEJOBS_DLQ_URL", raising=False)
    batch = sample("events", "sqs-batch", job.uuid, job.token)
    bad = dict(batch["Records"][0], messageId="bad-1", body="{not json")
    refused = dict(batch["Records"][0], messageId="refused-1",
                   body=json.dumps({"uuid": job.uuid, "event": "finalize", "token": job.token}))
    batch["Records"] = [batch["Records"][0], bad, refused, batch["Records"][1]]
    answer = events_function(batch, LambdaContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}
    entries = job.history
    assert [(e.name, e.applied) for e in entries[1:]] == [("run", True), ("finalize", False), ("update", True)]


def test_sqs_batch_that_failed_whole_fails_the_invocation_so_all_is_retried(events_function, job, monkeypatch):
    monkeypatch.setenv("PIPELINEJOBS_MAX_WRITE_ATTEMPTS", "0")  # every write "loses its race": ConcurrencyConflict
    with pytest.raises(BatchProcessingError, match="All records failed"):
        events_function(sample("events", "sqs-batch", job.uuid, job.token), LambdaContext())
    assert len(job.history) == 1


def test_batch_state_change_moves_the_tagged_job_once(events_function, job):
    event = sample("events", "batch-job-state-change", job.uuid)
    first = events_function(event, LambdaContext())
    again = events_function(event, LambdaContext())  # EventBridge delivers at least once
    assert first["statusCode"] == again["statusCode"] == 200
    assert again["body"]["duplicate"] is True
    entry = job.history[-1]
    assert (job.refresh().state, len(job.history), entry.source) == ("RUNNING", 2, "aws.batch")
    assert entry.data["jobId"] == "4c7599ae-0a82-49aa-ba5a-4727fcce14a8"


def test_batch_job_named_after_its_job_is_found_and_success_finishes_it(events_function, job):
    job.run()
    event = sample("events", "batch-job-state-change", job.uuid)
    detail = event["detail"]
    del detail["tags"]["pipelinejobs:job"]
    detail["container"]["environment"] = []
    detail.update(jobName=f"pj-{job.uuid}", status="SUCCEEDED")
    event["id"] = "e6a4c3f0-0000-4000-8000-000000000001"
    assert events_function(event, LambdaContext())["body"]["state"] == "FINISHED"


def test_batch_job_naming_no_job_is_ignored(events_function, job, table_items):
    event = sample("events", "batch-job-state-change", job.uuid)
    event["detail"].update(tags={}, jobName="someone-elses-job", container={"environment": []})
    before = table_items()
    assert events_function(event, LambdaContext())["statusCode"] == 204
    assert table_items() == before


@pytest.mark.parametrize(("exit_code", "state"), [(0, "FINISHED"), (1, "FAILED")])
def test_ecs_task_stopped_finishes_or_fails_by_exit_code(events_function, job, exit_code, state):
    job.run()
    event = sample("events", "ecs-task-state-change", job.uuid)
    event["detail"]["containers"][0]["exitCode"] = exit_code
    answer = events_function(event, LambdaContext())
    assert (answer["statusCode"], answer["body"]["state"]) == (200, state)
    assert job.history[-1].data["containers"] == [{"name": "worker", "exitCode": exit_code}]


def test_ecs_event_for_a_job_in_a_final_state_is_recorded_as_refused(events_function, job):
    job.fail()
    answer = events_function(sample("events", "ecs-task-state-change", job.uuid), LambdaContext())
    assert answer["statusCode"] == 409
    assert (job.refresh().state, job.history[-1].applied) == ("FAILED", False)
