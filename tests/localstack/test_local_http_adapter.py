"""The local stack's HTTP front: requests as API Gateway HTTP API (payload 2.0) events, answers back."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from frontdoors import FUNCTIONS

from pipelinejobs.local.http import ApiServer, Request, Route, dispatch, from_result, to_event
from pipelinejobs.local.lambda_runtime import InProcessFunction

CALLBACK = Route("POST", "/jobs/{uuid}/events", lambda event: event)


def event_for(request: Request, route: Route = CALLBACK) -> dict[str, Any]:
    parameters = route.match(request.method, request.target.split("?")[0])
    assert parameters is not None
    return to_event(request, route, parameters)


def test_a_callback_becomes_the_event_api_gateway_sends():
    request = Request("POST", "/jobs/abc-1/events?token=0123&status=RUNNING",
                      [("Host", "127.0.0.1:8787"), ("Content-Type", "application/json"), ("User-Agent", "curl/8")],
                      b'{"progress": 0.5}', source_ip="10.1.2.3")

    event = event_for(request)

    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "POST /jobs/{uuid}/events"
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/jobs/abc-1/events"
    assert event["rawQueryString"] == "token=0123&status=RUNNING"
    assert event["queryStringParameters"] == {"token": "0123", "status": "RUNNING"}
    assert event["pathParameters"] == {"uuid": "abc-1"}
    assert event["headers"] == {"host": "127.0.0.1:8787", "content-type": "application/json", "user-agent": "curl/8"}
    assert event["body"] == '{"progress": 0.5}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "$default" and context["http"]["method"] == "POST"
    assert context["http"]["sourceIp"] == "10.1.2.3" and context["http"]["userAgent"] == "curl/8"
    assert isinstance(context["timeEpoch"], int) and context["requestId"]


def test_repeats_are_joined_by_commas_and_cookies_kept_apart():
    request = Request("POST", "/jobs/j/events?status=a&status=b&empty=",
                      [("X-Tag", "one"), ("x-tag", "two"), ("Cookie", "a=1; b=2")])

    event = event_for(request)

    assert event["headers"] == {"x-tag": "one,two"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["queryStringParameters"] == {"status": "a,b", "empty": ""}
    assert "body" not in event


def test_without_query_or_path_parameters_those_keys_are_absent():
    route = Route("GET", "/openapi.json", lambda event: event)
    event = to_event(Request("GET", "/openapi.json", []), route, {})
    assert "queryStringParameters" not in event and "pathParameters" not in event and event["rawQueryString"] == ""


@pytest.mark.parametrize(("body", "content_type", "encoded"), [
    (b"\x00\xff\xfe binary", "application/octet-stream", True),
    (b"\xff\xfe not utf-8", "text/plain", True),           # text that is not UTF-8 cannot be sent as it is
    (b"plain words", "image/png", True),                    # a binary type is encoded whatever its bytes
    (b"step=align&progress=0.5", "application/x-www-form-urlencoded", False),
    (b'{"a": 1}', "application/vnd.api+json", False),
    ("caf\u00e9".encode(), None, False),
])
def test_a_body_that_is_not_text_travels_in_base64(body: bytes, content_type: str | None, encoded: bool):
    headers = [("content-type", content_type)] if content_type else []
    event = event_for(Request("POST", "/jobs/j/events", headers, body))

    assert event["isBase64Encoded"] is encoded
    assert (base64.b64decode(event["body"]) if encoded else event["body"].encode()) == body


def test_path_parameters_are_decoded_and_a_greedy_one_spans_slashes():
    assert Route("GET", "/jobs/{uuid}", print).match("GET", "/jobs/a%20b") == {"uuid": "a b"}
    assert Route("ANY", "/files/{path+}", print).match("DELETE", "/files/a/b/c") == {"path": "a/b/c"}
    assert Route("GET", "/jobs/{uuid}", print).match("POST", "/jobs/x") is None
    assert Route("GET", "/jobs/{uuid}", print).match("GET", "/jobs/x/events") is None


def test_answers_with_status_headers_cookies_and_base64_bodies():
    answer = from_result({"statusCode": 201, "headers": {"content-type": "text/plain"}, "cookies": ["s=1"],
                          "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True})
    assert answer.status == 201 and answer.body == b"\x00\x01"
    assert ("content-type", "text/plain") in answer.headers and ("set-cookie", "s=1") in answer.headers


def test_an_answer_without_status_code_is_a_json_200_as_in_payload_2():
    answer = from_result({"uuid": "x", "state": "RUNNING"})
    assert answer.status == 200 and json.loads(answer.body) == {"uuid": "x", "state": "RUNNING"}


def test_no_route_is_api_gateways_404_and_a_failing_function_its_500():
    def broken(event: dict) -> dict:
        raise RuntimeError("boom")

    routes = [Route("GET", "/jobs/{uuid}", broken)]
    missing = dispatch(Request("GET", "/nowhere", []), routes)
    wrong_method = dispatch(Request("POST", "/jobs/x", []), routes)
    failed = dispatch(Request("GET", "/jobs/x", []), routes)

    assert (missing.status, json.loads(missing.body)) == (404, {"message": "Not Found"})
    assert wrong_method.status == 404
    assert (failed.status, json.loads(failed.body)) == (500, {"message": "Internal Server Error"})


def test_over_http_the_function_sees_the_request_and_the_client_its_answer(caplog: pytest.LogCaptureFixture):
    seen: list[dict] = []

    def function(event: dict) -> dict:
        seen.append(event)
        return {"statusCode": 409, "headers": {"x-answer": "yes"}, "body": json.dumps({"seen": event["rawPath"]})}

    caplog.set_level("INFO", logger="pipelinejobs.local")
    server = ApiServer([Route("POST", "/jobs/{uuid}/events", function)]).start()
    try:
        request = urllib.request.Request(f"{server.url}/jobs/j-1/events?token=t&token=u", data=b"\x89PNG\x00",
                                         headers={"content-type": "image/png"}, method="POST")
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=10)
    finally:
        server.stop()

    assert answer.value.code == 409 and answer.value.headers["x-answer"] == "yes"
    assert json.loads(answer.value.read()) == {"seen": "/jobs/j-1/events"}
    [event] = seen
    assert event["queryStringParameters"] == {"token": "t,u"} and event["pathParameters"] == {"uuid": "j-1"}
    assert event["isBase64Encoded"] and base64.b64decode(event["body"]) == b"\x89PNG\x00"
    assert event["headers"]["host"] == server.url.removeprefix("http://")
    assert "/jobs/j-1/events?token=***" in caplog.text and "token=t" not in caplog.text  # access log, redacted


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "GET"])
def test_a_method_no_route_has_is_a_json_404_whatever_the_method(method: str):
    server = ApiServer([CALLBACK]).start()
    try:
        request = urllib.request.Request(f"{server.url}/jobs/j-1/events", method=method)
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=10)
    finally:
        server.stop()
    assert answer.value.code == 404 and answer.value.headers["content-type"] == "application/json"
    assert json.loads(answer.value.read()) == {"message": "Not Found"}


def test_the_webhook_handler_answers_the_adapters_events(aws_env):
    """The real webhook function behind the adapter: its OpenAPI route, and an unknown route in its own shape."""
    webhook = InProcessFunction.load(FUNCTIONS / "webhook", "app.handler", "pipelinejobs-test-webhook")
    route = Route("GET", "/openapi.json", webhook)
    document = dispatch(Request("GET", "/openapi.json", [("host", "127.0.0.1:8787")]), [route])
    callback = Route("POST", "/jobs/{uuid}/events", webhook)
    refused = dispatch(Request("POST", "/jobs/not-a-uuid/events?token=nope&status=RUNNING", []), [callback])

    assert document.status == 200 and json.loads(document.body)["openapi"].startswith("3.")
    assert refused.status in (400, 401) and "error" in json.loads(refused.body)
