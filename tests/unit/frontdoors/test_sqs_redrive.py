"""On moto: a poison message on the events queue reaches the dead-letter queue through the redrive policy
after exactly maxReceiveCount deliveries, while the messages batched with it are each applied once.

The event source mapping is played here as Lambda plays it: receive a batch, invoke the events
function, delete what it did not report failed (ReportBatchItemFailures), and let the rest become
visible again; an invocation that fails whole (every record failed) returns the whole batch. The
bad-message-straight-to-the-DLQ path is test_queues_and_notifications_on_moto.py's.
"""

from __future__ import annotations

import json

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from frontdoors import LambdaContext, handler_module, sqs_event
from moto import mock_aws

from pipelinejobs.errors import StorageUnavailable
from pipelinejobs.storage import DynamoDBJobStore

import support

MAX_RECEIVES = 3


class EventSourceMapping:
    """Lambda's SQS poller, one batch at a time."""

    def __init__(self, queue_url: str, handler):
        self.sqs, self.queue_url, self.handler = boto3.client("sqs"), queue_url, handler
        self.arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"]
        self.deliveries: dict[str, int] = {}  # message id -> times handed to the function

    def poll(self, batch_size: int) -> bool:
        """One receive and invoke; False once the queue has nothing to give."""
        received = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=batch_size,
                                            AttributeNames=["All"]).get("Messages", [])
        if not received:
            return False
        for message in received:
            self.deliveries[message["MessageId"]] = self.deliveries.get(message["MessageId"], 0) + 1
        try:
            answer = self.handler(sqs_event(received, self.arn), LambdaContext())
            failed = {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}
        except BatchProcessingError:
            failed = {message["MessageId"] for message in received}
        for message in received:
            if message["MessageId"] in failed:  # visible again at once (in AWS: when its visibility timeout ends)
                self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"],
                                                   VisibilityTimeout=0)
            else:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return True


@pytest.fixture
def queues(aws_env):
    with mock_aws():
        sqs = boto3.client("sqs")
        dlq = sqs.create_queue(QueueName="events-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue = sqs.create_queue(QueueName="events", Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})})["QueueUrl"]
        yield queue, dlq


def _storage_fault_for(uuid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read of one job fails as DynamoDB throttling that outlived its retries (a 503)."""
    load = DynamoDBJobStore.load

    def failing(self, job_uuid, event_id=None):
        if job_uuid == uuid:
            raise StorageUnavailable("DynamoDB is unavailable (ThrottlingException); nothing was written")
        return load(self, job_uuid, event_id)

    monkeypatch.setattr(DynamoDBJobStore, "load", failing)


@pytest.mark.parametrize("poison", ["a job whose writes always fail", "junk without a DLQ URL set"])
def test_a_poison_message_is_redriven_after_max_receives_and_its_batch_mates_apply_once(queues, monkeypatch,
                                                                                         poison):
    queue, dlq = queues
    job, doomed = support.new_job("sqs-good"), support.new_job("sqs-doomed")
    if poison == "a job whose writes always fail":
        monkeypatch.setenv("PIPELINEJOBS_DLQ_URL", dlq)  # as deployed: the retry path is for 5xx only
        _storage_fault_for(doomed.uuid, monkeypatch)
        bad_body = json.dumps({"uuid": doomed.uuid, "event": "run", "token": doomed.token, "id": "doomed-run"})
    else:
        monkeypatch.delenv("PIPELINEJOBS_DLQ_URL", raising=False)
        bad_body = "{not json"
    sqs = boto3.client("sqs")
    bodies = [json.dumps({"uuid": job.uuid, "event": "update", "token": job.token, "id": f"u-{n}",
                          "data": {"n": n}}) for n in range(8)]
    for body in [*bodies[:4], bad_body, *bodies[4:]]:
        sqs.send_message(QueueUrl=queue, MessageBody=body)

    poller = EventSourceMapping(queue, handler_module("events").handler)
    polls = 0
    while poller.poll(batch_size=5):
        polls += 1
        assert polls < 20, "the queue never drained"

    parked = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in parked] == [bad_body]
    assert poller.deliveries[parked[0]["MessageId"]] == MAX_RECEIVES  # handed to the function N times, no more
    assert set(poller.deliveries.values()) == {1, MAX_RECEIVES}  # every other message once
    updates = [entry for entry in job.history if entry.name == "update"]
    assert sorted(entry.data["n"] for entry in updates) == list(range(8))  # each batch mate once
    assert [entry.name for entry in doomed.history] == ["create"]
