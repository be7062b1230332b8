"""The stream function, fed the real records DynamoDB Local's stream holds after real events:
one EventBridge event per committed change of state, and the completion callback."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import ANY, Stubber
from frontdoors import LambdaContext, LoopbackServer, handler_module

from pipelinejobs import callback_urls
from pipelinejobs.notify import callback, publish

import support


@pytest.fixture
def stream_handler():
    return handler_module("stream").handler


@pytest.fixture
def put_events(tables, monkeypatch) -> list[dict]:
    """Every PutEvents entry the function sends, checked against the EventBridge API model by Stubber."""
    client = boto3.client("events", endpoint_url="http://127.0.0.1:9")
    stubber = Stubber(client)
    sent: list[dict] = []
    client.meta.events.register("before-parameter-build.events.PutEvents",
                                lambda params, **_: sent.extend(params["Entries"]))
    for _ in range(20):
        stubber.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]}, {"Entries": ANY})
    stubber.activate()
    monkeypatch.setattr(publish, "_events", lambda: client)
    return sent


def stream_event(table: str) -> dict:
    """Everything in the table's stream so far, as Lambda hands it to the function."""
    streams = boto3.client("dynamodbstreams")
    arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator)["Records"]:
            created = record["dynamodb"]["ApproximateCreationDateTime"]
            record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
            records.append({**record, "eventSourceARN": arn})
    return {"Records": records}


def test_each_committed_change_of_state_is_published_once(stream_handler, put_events, job, tables):
    job.update({"ignored": "no change of state"})
    job.run({"host": "compute-1"})
    with pytest.raises(Exception, match="not allowed"):
        job.finalize()  # refused: recorded, but the state did not change
    job.finish({"exitCode": 0})
    answer = stream_handler(stream_event(tables.table), LambdaContext())
    assert answer == {"batchItemFailures": []}
    assert {entry["Source"] for entry in put_events} == {"pipelinejobs"}
    assert {entry["DetailType"] for entry in put_events} == {"PipelineJob State Change"}
    details = [json.loads(entry["Detail"]) for entry in put_events]
    assert [(d["from"], d["to"], d["event"]) for d in details] == [
        (None, "CREATED", "create"), ("CREATED", "RUNNING", "run"), ("RUNNING", "FINISHED", "finish")]
    assert details[1]["data"] == {"host": "compute-1"}
    assert details[2]["data"] == {"exitCode": 0}
    assert all(d["uuid"] == job.uuid and d["pipeline"] == job.pipeline_uuid for d in details)
    assert [d["seq"] for d in details] == [1, 3, 5]


def test_large_event_data_is_summarised(stream_handler, put_events, job, tables):
    job.run({"log": "x" * 5000, "exitCode": 0})
    stream_handler(stream_event(tables.table), LambdaContext())
    detail = json.loads(put_events[-1]["Detail"])
    assert detail["data"]["truncated"] is True
    assert detail["data"]["keys"] == ["exitCode", "log"]


def test_completion_callback_is_posted_once_with_retries(stream_handler, put_events, tables, monkeypatch):
    monkeypatch.setenv(callback_urls.ALLOW_PRIVATE_ENV, "1")  # the receiver is on 127.0.0.1
    monkeypatch.setattr(callback, "BACKOFF_BASE_SECONDS", 0.001)
    answers = iter([(503, b"{}"), (200, b"{}")])
    with LoopbackServer(lambda *_: next(answers)) as receiver:
        pipeline_job = support.new_job("callbacks")
        job = type(pipeline_job)(pipeline_job.pipeline_uuid, {"other": 1},
                                 callback_url=f"{receiver.url}/done?key=abc").setup()
        job.run()
        job.fail({"reason": "out of memory"})
        answer = stream_handler(stream_event(tables.table), LambdaContext())
    assert answer == {"batchItemFailures": []}
    assert len(receiver.requests) == 2  # one 503, then the delivery
    path, headers, body = receiver.requests[-1]
    assert path == "/done?key=abc"
    assert headers["Content-Type"] == "application/json"
    posted = json.loads(body)
    assert (posted["uuid"], posted["from"], posted["to"], posted["data"]) == (
        job.uuid, "RUNNING", "FAILED", {"reason": "out of memory"})


def test_a_callback_that_keeps_failing_fails_its_record_for_a_retry(stream_handler, put_events, tables, monkeypatch):
    monkeypatch.setenv(callback_urls.ALLOW_PRIVATE_ENV, "1")  # the receiver is on 127.0.0.1
    monkeypatch.setattr(callback, "BACKOFF_BASE_SECONDS", 0.001)
    with LoopbackServer(lambda *_: (500, b"{}")) as receiver:
        job = support.new_job("callbacks")
        hooked = type(job)(job.pipeline_uuid, {"hooked": 1}, callback_url=receiver.url).setup()
        hooked.run()
        hooked.finish()
        event = stream_event(tables.table)
        answer = stream_handler(event, LambdaContext())
    assert len(receiver.requests) == callback.ATTEMPTS
    finished = {"pk": {"S": f"JOB#{hooked.uuid}"}, "sk": {"S": "JOB"}}
    finish_record = next(r for r in event["Records"] if r["dynamodb"]["Keys"] == finished
                         and r["dynamodb"]["NewImage"]["state"] == {"S": "FINISHED"})
    assert answer == {"batchItemFailures": [{"itemIdentifier": finish_record["dynamodb"]["SequenceNumber"]}]}


def test_a_callback_to_a_private_address_is_not_called(stream_handler, put_events, tables, monkeypatch):
    """Without the deployment's say-so, a loopback receiver is never reached, and the record is not retried
    (no answer would change): the state change is still published."""
    with LoopbackServer(lambda *_: (200, b"{}")) as receiver:
        job = support.new_job("callbacks")
        hooked = type(job)(job.pipeline_uuid, {"private": 1}, callback_url=f"{receiver.url}/done").setup()
        hooked.run()
        hooked.finish()
        answer = stream_handler(stream_event(tables.table), LambdaContext())
    assert answer == {"batchItemFailures": []}
    assert receiver.requests == []
    assert any(json.loads(entry["Detail"])["to"] == "FINISHED" for entry in put_events)
