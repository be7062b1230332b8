"""The webhook under DynamoDB faults on DynamoDB Local (hooks from tests/faults.py): a reset, a lost answer or
throttling, on a write or a read, is a retryable 503 with Retry-After, never a 500; a lost answer's resend is
applied once and answered as the duplicate it is."""

from __future__ import annotations

import json

import pytest
from faults import operation
from frontdoors import LambdaContext, callback_request, sample

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
    assert "ConnectionClosedError" in body["message"] and headers["Retry-After"] == "1"
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
