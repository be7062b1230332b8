"""Answers from the front doors decode into the Outcome or the very error handle_event raises."""

from __future__ import annotations

import io
import json

import pytest
from frontdoors import LoopbackServer

from pipelinejobs import errors
from pipelinejobs.records import Outcome
from pipelinejobs.sdk.transports import LambdaTransport, WebhookTransport, decode_answer

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


# ---- no answer at all: a typed error, never urllib's (issue 10, item 14) -----------------------------


def _silent_server(accept_then):
    """A TCP server on 127.0.0.1 that accepts one connection and then ``accept_then(connection)``."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve():
        connection, _ = server.accept()
        accept_then(connection)

    threading.Thread(target=serve, daemon=True).start()
    return server


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("fault", ["refused", "reset", "timeout", "dns"])
def test_a_request_with_no_answer_is_service_unreachable(fault):
    import threading

    hold = threading.Event()
    server = None
    if fault == "refused":
        url = f"http://127.0.0.1:{_closed_port()}"
    elif fault == "dns":
        url = "http://no-such-host.invalid"
    else:
        server = _silent_server(lambda c: c.close() if fault == "reset" else hold.wait(5))
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
    transport = WebhookTransport(url, timeout=0.5, token="0" * 48)
    try:
        with pytest.raises(errors.ServiceUnreachable) as raised:
            transport.create_job("rnaseq", {"sample": "A2"})
    finally:
        hold.set()
        if server is not None:
            server.close()
    assert raised.value.status_code == 503
    assert "0" * 48 not in str(raised.value)


def test_the_webhook_transport_sends_its_token_in_the_header_never_the_url():
    answer = {"uuid": UUID, "pipeline_uuid": UUID, "state": "CREATED", "last_event": "create", "created": "t",
              "updated": "t", "path": "/p", "token": "0123456789abcdef", "callback": "https://x/cb"}
    with LoopbackServer(lambda path, headers, body: (201, json.dumps(answer).encode())) as server:
        granted = WebhookTransport(server.url, token="ab" * 24).create_job("rnaseq", {"n": 1}, parents=[UUID])
    [(path, headers, body)] = server.requests
    assert path == "/jobs" and "ab" * 24 not in path
    assert headers["Authorization"] == "Bearer " + "ab" * 24
    assert json.loads(body) == {"pipeline": "rnaseq", "data": {"n": 1}, "parents": [UUID]}
    assert granted == answer


def test_both_transports_are_importable_from_the_top_level():
    import pipelinejobs

    assert (pipelinejobs.LambdaTransport, pipelinejobs.WebhookTransport) == (LambdaTransport, WebhookTransport)
    assert {"LambdaTransport", "WebhookTransport"} <= set(pipelinejobs.__all__)
