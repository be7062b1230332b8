"""Answers from the front doors decode into the Outcome or the very error handle_event raises."""

from __future__ import annotations

import io
import json

import pytest
from frontdoors import LoopbackServer

from pipelinejobs import errors
from pipelinejobs.records import Outcome
from pipelinejobs.transports import LambdaTransport, WebhookTransport, decode_answer

UUID = "1b1a7d6e-5c43-5f0e-8a7b-3f2d9c4e6a10"

ERRORS = [
    errors.InvalidEvent([{"field": "event", "problem": "is required"}, {"field": "color", "problem": "extra"}]),
    errors.PayloadTooLarge.single("data", "is 40000 bytes"),
    errors.InvalidTransition(UUID, "CREATED", "finish", ["run", "fail"]),
    errors.Unauthorized("missing, invalid or expired token"),
    errors.Forbidden("event 'reset' needs an admin token"),
    errors.JobNotFound(UUID),
    errors.ConcurrencyConflict("lost 30 write races"),
    errors.StorageUnavailable("DynamoDB throttled"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_every_error_answer_decodes_to_the_same_error(error):
    with pytest.raises(type(error)) as raised:
        decode_answer(error.status_code, json.loads(json.dumps(error.to_dict())), UUID)
    assert type(raised.value) is type(error)
    assert raised.value.to_dict() == error.to_dict()
    assert raised.value.status_code == error.status_code


def test_an_outcome_answer_decodes_to_the_outcome():
    outcome = Outcome(UUID, "run", "RUNNING", "CREATED", 2, duplicate=True)
    assert decode_answer(200, outcome.to_dict(), UUID) == outcome


@pytest.mark.parametrize(("status", "body"), [(500, {"error": "InternalError", "message": "internal error"}),
                                              (502, "Bad Gateway"), (409, {"error": "InvalidTransition"})])
def test_anything_else_is_a_pipelinejobs_error_with_the_status(status, body):
    with pytest.raises(errors.PipelineJobsError) as raised:
        decode_answer(status, body, UUID)
    assert type(raised.value) is errors.PipelineJobsError
    assert raised.value.status_code == status


class StubLambda:
    def __init__(self, answer: object, function_error: str | None = None):
        self.answer, self.function_error, self.calls = answer, function_error, []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict:  # boto3's argument names
        self.calls.append((FunctionName, json.loads(Payload)))
        response = {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(self.answer).encode())}
        if self.function_error:
            response["FunctionError"] = self.function_error
        return response


def test_lambda_transport_sends_the_message_and_decodes_the_answer():
    client = StubLambda({"statusCode": 409, "body": ERRORS[2].to_dict()})
    message = {"uuid": UUID, "event": "finish", "token": "0" * 16}
    with pytest.raises(errors.InvalidTransition) as refused:
        LambdaTransport("pipelinejobs-events", client)(message)
    assert client.calls == [("pipelinejobs-events", message)]
    assert refused.value.allowed == ["fail", "run"]


def test_lambda_transport_reports_a_crashed_function_as_502():
    client = StubLambda({"errorType": "Runtime.ExitError", "errorMessage": "boom"}, function_error="Unhandled")
    with pytest.raises(errors.PipelineJobsError, match=r"Runtime\.ExitError") as raised:
        LambdaTransport("fn", client)({"uuid": UUID, "event": "run"})
    assert raised.value.status_code == 502


def test_webhook_transport_posts_json_to_events_and_decodes_errors_and_non_json_answers():
    answers = iter([(404, json.dumps(ERRORS[5].to_dict()).encode()), (502, b"<html>Bad Gateway</html>")])
    with LoopbackServer(lambda *_: next(answers)) as api:
        transport = WebhookTransport(api.url + "/dev/")
        with pytest.raises(errors.JobNotFound):
            transport({"uuid": UUID, "event": "run", "token": "0" * 16})
        with pytest.raises(errors.PipelineJobsError, match="Bad Gateway") as raised:
            transport({"uuid": UUID, "event": "run", "token": "0" * 16})
    path, headers, body = api.requests[0]
    assert (path, headers["Content-Type"], json.loads(body)["event"]) == ("/dev/events", "application/json", "run")
    assert raised.value.status_code == 502
