"""On moto: bad SQS messages go straight to the dead-letter queue, and the stream function's
EventBridge events reach a rule's SQS target (the sample stream record, as Lambda delivers it)."""

from __future__ import annotations

import json

import boto3
import pytest
from frontdoors import LambdaContext, LoopbackServer, handler_module, sample
from moto import mock_aws

from pipelinejobs import completion_urls, tokens
from pipelinejobs.config import Config

import support


@pytest.fixture
def moto(aws_env):
    with mock_aws():
        yield aws_env


def test_a_bad_sqs_message_goes_to_the_dead_letter_queue_at_once(moto, monkeypatch):
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="events-dlq")["QueueUrl"]
    monkeypatch.setenv("PIPELINEJOBS_DLQ_URL", dlq)
    job = support.new_job("sqs")
    admin = tokens.admin_token(tokens.secret(Config.from_env()))
    batch = sample("events", "sqs-batch", job.uuid, job.token)
    good = batch["Records"][0]
    unknown_job = dict(good, messageId="m-404", body=json.dumps(
        {"uuid": "00000000-0000-5000-8000-000000000000", "event": "run", "token": admin}))
    forged = dict(good, messageId="m-401", body=json.dumps({"uuid": job.uuid, "event": "run", "token": "f" * 16}))
    batch["Records"] = [good, unknown_job, forged]

    answer = handler_module("events").handler(batch, LambdaContext())

    assert answer == {"batchItemFailures": []}  # nothing left for SQS to redeliver
    parked = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    by_error = {m["MessageAttributes"]["error"]["StringValue"]: m for m in parked}
    assert set(by_error) == {"JobNotFound", "Unauthorized"}
    assert by_error["Unauthorized"]["MessageAttributes"]["status"]["StringValue"] == "401"
    assert json.loads(by_error["JobNotFound"]["Body"]) == json.loads(unknown_job["body"])
    assert [e.name for e in job.history] == ["create", "run"]


def test_the_sample_stream_record_is_published_to_the_bus_and_its_callback_posted(moto, monkeypatch):
    support.new_job("stream")  # the table, for the history read (the sample's job is not in it: data is {})
    events, sqs = boto3.client("events"), boto3.client("sqs")
    bus = events.create_event_bus(Name="pipelinejobs-test")["EventBusArn"]
    queue = sqs.create_queue(QueueName="notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="state-changes", EventBusName="pipelinejobs-test",
                    EventPattern=json.dumps({"source": ["pipelinejobs"], "detail-type": ["PipelineJob State Change"]}))
    events.put_targets(Rule="state-changes", EventBusName="pipelinejobs-test",
                       Targets=[{"Id": "queue", "Arn": queue_arn}])
    monkeypatch.setenv("PIPELINEJOBS_EVENT_BUS", "pipelinejobs-test")
    monkeypatch.setenv(completion_urls.ALLOW_PRIVATE_ENV, "1")  # the receiver is on 127.0.0.1
    with LoopbackServer(lambda *_: (204, b"")) as receiver:
        event = sample("stream", "dynamodb-stream")
        hook = event["Records"][1]["dynamodb"]["NewImage"]["callback_url"]
        hook["S"] = hook["S"].replace("https://example.org", receiver.url)
        answer = handler_module("stream").handler(event, LambdaContext())

    assert answer == {"batchItemFailures": []}
    delivered = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(delivered) == 1  # the history INSERT is not a job's change of state
    envelope = json.loads(delivered[0]["Body"])
    assert (envelope["source"], envelope["detail-type"]) == ("pipelinejobs", "PipelineJob State Change")
    assert bus.endswith("pipelinejobs-test")
    assert envelope["detail"] == {
        "uuid": "1b1a7d6e-5c43-5f0e-8a7b-3f2d9c4e6a10", "pipeline": "6a1f2b3c-4d5e-5f60-8a9b-0c1d2e3f4a5b",
        "from": "RUNNING", "to": "FINISHED", "event": "finish", "seq": 3, "updated": "2026-11-22T00:10:00.000Z",
        "data": {},
    }
    [(path, _, body)] = receiver.requests
    assert path == "/hooks/pipelinejobs" and json.loads(body) == envelope["detail"]
