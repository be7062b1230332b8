"""The front doors under DynamoDB faults on DynamoDB Local (hooks from tests/faults.py): a reset, a lost answer or
throttling, on a write or a read, is a retryable 503 with Retry-After, never a 500; a lost answer's resend is
applied once and answered as the duplicate it is; and retries end before the function's timeout, what was not
done reported as retryable (a 503, SQS batch item failures). Backoff sleeps on a virtual clock."""

from __future__ import annotations

import json

import pytest
from faults import LambdaContext as TimedContext
from faults import naming, operation
from frontdoors import LambdaContext, callback_request, sample

import support
from support import applied


def call(webhook, request) -> tuple[int, dict, dict]:
    response = webhook(request, LambdaContext())
    return response["statusCode"], json.loads(response["body"]), response.get("headers") or {}


def callback(job, status: str = "RUNNING", body: dict | None = None):
    return callback_request(job.uuid, {"token": job.token, "status": status}, json.dumps(body or {"step": 1}))


def get_job(job):
    return sample("webhook", "get-job", job.uuid, job.token)


def everything(_request) -> bool:
    return True


@pytest.mark.parametrize("request_for", [callback, get_job], ids=["callback POST", "GET /jobs/{uuid}"])
def test_a_connection_reset_that_outlives_the_retries_is_a_503(webhook, job, dynamodb_faults, request_for):
    seen = dynamodb_faults.reset(everything)
    status, body, headers = call(webhook, request_for(job))
    assert (status, body["error"]) == (503, "StorageUnavailable")
    assert "Connection was closed before we received a valid response" in body["message"]
    assert headers["Retry-After"] == "1"
    assert seen["calls"] > 1  # botocore retried the reset before giving up
    dynamodb_faults.clear()
    assert call(webhook, request_for(job))[0] == 200


def test_a_reset_that_clears_is_retried_and_applied_once(webhook, job, dynamodb_faults):
    dynamodb_faults.reset(operation("TransactWriteItems"), times=1)
    status, body, _ = call(webhook, callback(job))
    assert (status, body["state"], body.get("duplicate", False)) == (200, "RUNNING", False)
    assert applied(job) == ["create", "run"]


def test_a_lost_answer_is_resent_by_botocore_and_applied_once(webhook, job, dynamodb_faults):
    seen = dynamodb_faults.lose_answer(operation("TransactWriteItems"), times=1)
    status, body, _ = call(webhook, callback(job))
    # The resent transaction carries the same client request token: DynamoDB answers it as the success it was.
    assert (status, body["state"], body.get("duplicate", False)) == (200, "RUNNING", False)
    assert seen == {"calls": 2, "faults": 1}
    assert applied(job) == ["create", "run"]
    status, again, _ = call(webhook, callback(job))  # the runner, unsure, sends it again
    assert (status, again["duplicate"], again["seq"]) == (200, True, body["seq"])
    assert applied(job) == ["create", "run"]


def test_every_answer_lost_is_a_503_and_the_callers_resend_is_the_duplicate(webhook, job, dynamodb_faults):
    dynamodb_faults.lose_answer(operation("TransactWriteItems"))
    status, body, headers = call(webhook, callback(job))
    assert (status, body["error"], headers["Retry-After"]) == (503, "StorageUnavailable", "1")
    dynamodb_faults.clear()
    status, again, _ = call(webhook, callback(job))
    assert (status, again["duplicate"], again["state"]) == (200, True, "RUNNING")
    assert applied(job) == ["create", "run"]  # the write made while its answer was lost, once


@pytest.mark.parametrize("read", ["Query", "TransactGetItems"])
def test_a_throttled_read_is_a_503_not_a_500(webhook, job, dynamodb_faults, read):
    """GET /jobs/{uuid} reads the job (GetItem) and a page of history (Query); a callback reads with its id."""
    dynamodb_faults.throttle(operation(read))
    request = get_job(job) if read == "Query" else callback(job)
    status, body, headers = call(webhook, request)
    assert (status, body["error"], headers["Retry-After"]) == (503, "StorageUnavailable", "1")
    assert "ProvisionedThroughputExceededException" in body["message"]


#: template.yaml's function timeout (Globals) for the webhook and the events function.
FUNCTION_TIMEOUT = 30


def test_a_throttled_callback_is_answered_before_the_function_times_out(webhook, job, dynamodb_faults, clock):
    dynamodb_faults.throttle(naming(job.uuid))
    response = webhook(callback(job), TimedContext(clock, timeout_seconds=5))
    assert (response["statusCode"], response["headers"]["Retry-After"]) == (503, "1")
    assert clock.elapsed() < 5


def sqs_batch(messages: list[dict]) -> dict:
    return {"Records": [
        {"messageId": f"m-{n}", "receiptHandle": f"r-{n}", "body": json.dumps(message), "attributes": {},
         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "awsRegion": "us-east-1",
         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:pipelinejobs-test-events"}
        for n, message in enumerate(messages)]}


def updates(job, prefix: str, count: int) -> list[dict]:
    return [{"uuid": job.uuid, "event": "update", "token": job.token, "id": f"{prefix}-{n}", "data": {"n": n}}
            for n in range(count)]


@pytest.mark.parametrize("timeout", [FUNCTION_TIMEOUT, 10])
def test_an_sqs_batch_with_throttled_records_answers_in_time_and_loses_nothing(events_function, dynamodb_faults,
                                                                               clock, timeout):
    """10 records, 5 of them for a job whose every request is throttled: the batch answers before the timeout;
    the throttled records, and any the time did not reach, are batch item failures; redelivered, each
    applies once."""
    healthy, doomed = support.new_job("sqs-healthy"), support.new_job("sqs-doomed")
    dynamodb_faults.throttle(naming(doomed.uuid))
    messages = [m for pair in zip(updates(healthy, "h", 5), updates(doomed, "d", 5), strict=True) for m in pair]
    answer = events_function(sqs_batch(messages), TimedContext(clock, timeout))
    assert clock.elapsed() < timeout
    failed = {int(f["itemIdentifier"][2:]) for f in answer["batchItemFailures"]}
    assert {1, 3, 5, 7, 9} <= failed  # the doomed job's records
    done = {entry.data["n"] for entry in healthy.history if entry.name == "update"}
    assert done.isdisjoint({n // 2 for n in failed if n % 2 == 0})  # a failure was not applied...
    assert done | {n // 2 for n in failed if n % 2 == 0} == set(range(5))  # ...and nothing is lost
    dynamodb_faults.clear()
    again = events_function(sqs_batch([messages[n] for n in sorted(failed)]), LambdaContext())
    assert again["batchItemFailures"] == []
    assert sorted(e.data["n"] for e in healthy.history if e.name == "update") == list(range(5))
    assert sorted(e.data["n"] for e in doomed.history if e.name == "update") == list(range(5))
