"""The local stack's event source mappings: a queue and a table's stream, read as Lambda reads them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipelinejobs.local.pollers import QueuePoller, StreamPoller


@pytest.fixture
def aws(aws_env) -> Iterator[None]:
    with mock_aws():
        yield


def queue() -> tuple[Any, str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="events", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    return sqs, url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def bodies(sqs: Any, url: str) -> list[str]:
    return sorted(m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []))


def test_a_queue_batch_is_deleted_but_for_the_failures_it_reports(aws):
    sqs, url, arn = queue()
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}),
                         MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}})
    events: list[dict] = []

    def function(event: dict) -> dict:
        events.append(event)
        failed = [r["messageId"] for r in event["Records"] if json.loads(r["body"])["n"] == 1]
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}

    poller = QueuePoller(sqs, url, arn, function, batch_size=10, reports_failures=True)
    assert poller.poll() is True

    [event] = events
    record = event["Records"][0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == arn
    assert record["messageAttributes"]["kind"]["stringValue"] == "test"
    assert record["attributes"]["ApproximateReceiveCount"] == "1" and record["md5OfBody"]
    assert bodies(sqs, url) == ['{"n": 1}']  # only the reported failure is delivered again


def test_a_failing_function_leaves_the_whole_batch_on_the_queue(aws):
    sqs, url, arn = queue()
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")

    def function(event: dict) -> dict:
        raise RuntimeError("down")

    assert QueuePoller(sqs, url, arn, function, reports_failures=True).poll() is True
    assert bodies(sqs, url) == ["a", "b"]


def test_without_report_batch_item_failures_a_success_deletes_everything(aws):
    sqs, url, arn = queue()
    sqs.send_message(QueueUrl=url, MessageBody="a")
    poller = QueuePoller(sqs, url, arn, lambda event: {"batchItemFailures": [{"itemIdentifier": "x"}]})
    poller.poll()
    assert bodies(sqs, url) == []


def stream_table() -> tuple[Any, str]:
    dynamodb = boto3.client("dynamodb")
    table = dynamodb.create_table(
        TableName="jobs", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in ("pk", "sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    return dynamodb, table["LatestStreamArn"]


def streams() -> Any:
    """A DynamoDB Streams client moto's mock answers: botocore now names the endpoint
    ``<account>.streams-ddb.<region>...``, which moto 5.2.1's mock does not route (its server does)."""
    return boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")


def put(dynamodb: Any, sk: str, state: str) -> None:
    dynamodb.put_item(TableName="jobs", Item={"pk": {"S": "JOB#1"}, "sk": {"S": sk}, "state": {"S": state},
                                              "blob": {"B": b"\x00\x01"}})


def test_stream_records_are_filtered_and_shaped_as_lambdas_event(aws):
    dynamodb, stream_arn = stream_table()
    put(dynamodb, "JOB", "CREATED")
    put(dynamodb, "EV#1", "CREATED")  # not a job item: filtered out, as the template's FilterCriteria says
    put(dynamodb, "JOB", "RUNNING")
    events: list[dict] = []
    pattern = '{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["JOB"]}}}}'
    poller = StreamPoller(streams(), stream_arn, events.append, filters=[pattern])

    while poller.poll():
        pass

    records = [r for event in events for r in event["Records"]]
    assert [(r["eventName"], r["dynamodb"]["NewImage"]["state"]["S"]) for r in records] == [
        ("INSERT", "CREATED"), ("MODIFY", "RUNNING")]
    record = records[1]
    assert record["eventSource"] == "aws:dynamodb" and record["eventSourceARN"] == stream_arn
    assert record["dynamodb"]["OldImage"]["state"]["S"] == "CREATED"
    assert record["dynamodb"]["NewImage"]["blob"]["B"] == "AAE="  # binary in base64, as Lambda's JSON has it
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    json.dumps(events)  # what Lambda would send: JSON


def test_a_failed_stream_record_is_retried_from_it_then_parked(aws):
    dynamodb, stream_arn = stream_table()
    for n in range(3):
        put(dynamodb, f"JOB{n}", "CREATED")
    seen: list[str] = []
    parked: list[dict] = []

    def function(event: dict) -> dict:
        seen.extend(r["dynamodb"]["Keys"]["sk"]["S"] for r in event["Records"])
        failed = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]
                  if r["dynamodb"]["Keys"]["sk"]["S"] == "JOB1"]
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}

    poller = StreamPoller(streams(), stream_arn, function, reports_failures=True,
                          max_retries=1, on_failure=parked.append)
    poller.stopping.set()  # no backoff sleeps in a test
    while poller.poll():
        pass

    # JOB0 once; JOB1 and what follows it: first try, one retry; then parked and the shard moves on.
    assert seen == ["JOB0", "JOB1", "JOB2", "JOB1", "JOB2"]
    [failure] = parked
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 2 and failure["DDBStreamBatchInfo"]["streamArn"] == stream_arn


def test_a_schedule_calls_its_function_with_a_scheduled_event_each_period():
    from sfn_harness import wait_until

    from pipelinejobs.local.schedules import SchedulePoller

    called: list[dict[str, Any]] = []
    rule = "arn:aws:events:us-east-1:123456789012:rule/sweep-EveryMinute"
    poller = SchedulePoller(called.append, rule, period=0.01, region="us-east-1")
    poller.start()
    try:
        wait_until(lambda: len(called) >= 2, what="two scheduled calls")
    finally:
        poller.stop()
        poller.join(5)
    assert not poller.is_alive()
    assert {(e["source"], e["detail-type"], e["account"], tuple(e["resources"])) for e in called} == {
        ("aws.events", "Scheduled Event", "123456789012", (rule,))}
