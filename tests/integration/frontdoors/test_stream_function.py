"""The stream function, fed the real records DynamoDB Local's stream holds after real events:
one EventBridge event per committed change of state, and the completion completion."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import ANY, Stubber
from frontdoors import LambdaContext, LoopbackServer, handler_module

import pipelinejobs
from pipelinejobs import completion_urls, runner_status
from pipelinejobs.notify import completion, publish

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


def test_a_fails_class_is_published_however_large_its_data(stream_handler, put_events, job, tables):
    job.run().fail({"log": "x" * 5000, "exit_code": 137})
    stream_handler(stream_event(tables.table), LambdaContext())
    detail = json.loads(put_events[-1]["Detail"])
    assert (detail["to"], detail["failure"], detail["data"]["truncated"]) == ("FAILED", "exit_nonzero", True)


def test_completion_callback_is_posted_once_with_retries(stream_handler, put_events, tables, monkeypatch):
    monkeypatch.setenv(completion_urls.ALLOW_PRIVATE_ENV, "1")  # the receiver is on 127.0.0.1
    monkeypatch.setattr(completion, "BACKOFF_BASE_SECONDS", 0.001)
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
        job.uuid, "RUNNING", "FAILED", {"reason": "out of memory", "failure": "out_of_memory"})  # with its class


def test_a_callback_that_keeps_failing_fails_its_record_for_a_retry(stream_handler, put_events, tables, monkeypatch):
    monkeypatch.setenv(completion_urls.ALLOW_PRIVATE_ENV, "1")  # the receiver is on 127.0.0.1
    monkeypatch.setattr(completion, "BACKOFF_BASE_SECONDS", 0.001)
    with LoopbackServer(lambda *_: (500, b"{}")) as receiver:
        job = support.new_job("callbacks")
        hooked = type(job)(job.pipeline_uuid, {"hooked": 1}, callback_url=receiver.url).setup()
        hooked.run()
        hooked.finish()
        event = stream_event(tables.table)
        answer = stream_handler(event, LambdaContext())
    assert len(receiver.requests) == completion.ATTEMPTS
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


def test_changes_go_ten_to_a_put_events_call_and_a_refused_entry_fails_only_its_record(stream_handler, tables,
                                                                                        monkeypatch):
    client = boto3.client("events", endpoint_url="http://127.0.0.1:9")
    stubber = Stubber(client)
    calls: list[list[dict]] = []
    client.meta.events.register("before-parameter-build.events.PutEvents",
                                lambda params, **_: calls.append(params["Entries"]))
    stubber.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": f"e{n}"} for n in range(10)]},
                         {"Entries": ANY})
    refused = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
    stubber.add_response("put_events", {"FailedEntryCount": 1, "Entries": [
        {"EventId": "e10"}, {"EventId": "e11"}, refused, *({"EventId": f"e{n}"} for n in range(13, 18))]},
        {"Entries": ANY})
    stubber.activate()
    monkeypatch.setattr(publish, "_events", lambda: client)
    monkeypatch.setenv(completion_urls.ALLOW_PRIVATE_ENV, "1")
    with LoopbackServer(lambda *_: (204, b"")) as receiver:
        others = [support.new_job("batches", {"n": n}) for n in range(5)]
        hooked = type(others[0])(others[0].pipeline_uuid, {"hooked": 1}, callback_url=f"{receiver.url}/done").setup()
        jobs = [hooked, *others]
        for job in jobs:
            job.run()
        for job in jobs:
            job.finish()  # 6 jobs x (create, run, finish) = 18 changes; the hooked job's finish is the 13th
        event = stream_event(tables.table)
        answer = stream_handler(event, LambdaContext())

    stubber.assert_no_pending_responses()
    assert [len(entries) for entries in calls] == [10, 8]
    details = [json.loads(entry["Detail"]) for entries in calls for entry in entries]
    assert [(d["uuid"], d["to"]) for d in details][12] == (hooked.uuid, "FINISHED")
    failed = next(r for r in event["Records"] if r["dynamodb"]["Keys"] == {"pk": {"S": f"JOB#{hooked.uuid}"},
                                                                           "sk": {"S": "JOB"}}
                  and r["dynamodb"]["NewImage"]["state"]["S"] == "FINISHED")
    assert answer == {"batchItemFailures": [{"itemIdentifier": failed["dynamodb"]["SequenceNumber"]}]}
    assert receiver.requests == []  # its change was not published: its callback waits for the retry


def test_a_put_events_call_that_fails_fails_every_change_in_it(monkeypatch):
    client = boto3.client("events", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                          aws_access_key_id="stub", aws_secret_access_key="stub")
    stubber = Stubber(client)
    stubber.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}] * 10})
    stubber.add_client_error("put_events", "ThrottlingException", "Rate exceeded")
    stubber.activate()
    monkeypatch.setattr(publish, "_events", lambda: client)
    changes = [{"uuid": str(n), "to": "RUNNING"} for n in range(12)]

    outcomes = publish.put_events(changes)

    assert outcomes[:10] == [None] * 10
    assert [str(failure) for failure in outcomes[10:]] == ["PutEvents failed: An error occurred (ThrottlingException) "
                                                           "when calling the PutEvents operation: Rate exceeded"] * 2


def test_a_heartbeat_only_write_publishes_nothing_and_calls_back_nothing(stream_handler, put_events, tables,
                                                                        monkeypatch):
    """A repeated callback refreshes the job's last_heartbeat (a stream record of the job item), but it is no
    change of state: no EventBridge event, no second completion completion."""
    monkeypatch.setenv(completion_urls.ALLOW_PRIVATE_ENV, "1")  # the receiver is on 127.0.0.1
    with LoopbackServer(lambda *_: (204, b"")) as receiver:
        pipeline_job = support.new_job("heartbeats")
        job = type(pipeline_job)(pipeline_job.pipeline_uuid, {"beats": 1}, callback_url=f"{receiver.url}/done").setup()
        running, finished = (runner_status.callback_message(job.uuid, token=None, status=status, event=None, data={})
                             for status in ("RUNNING", "FINISHED"))
        pipelinejobs.handle_event(running, trusted=True)
        pipelinejobs.handle_event(finished, trusted=True)
        stream_handler(stream_event(tables.table), LambdaContext())
        published, called_back = len(put_events), len(receiver.requests)
        assert called_back == 1

        assert pipelinejobs.handle_event(finished, trusted=True).duplicate  # the runner says FINISHED again
        heartbeat = stream_event(tables.table)["Records"][-1]["dynamodb"]
        assert heartbeat["NewImage"]["last_heartbeat"] != heartbeat["OldImage"]["last_heartbeat"]
        assert heartbeat["NewImage"]["version"] == heartbeat["OldImage"]["version"]
        answer = stream_handler({"Records": stream_event(tables.table)["Records"][-1:]}, LambdaContext())

    assert answer == {"batchItemFailures": []}
    assert (len(put_events), len(receiver.requests)) == (published, called_back)
