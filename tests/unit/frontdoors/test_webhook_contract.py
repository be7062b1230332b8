"""The webhook's contract, without a table: the committed OpenAPI document is the generated one,
and no input, however bad, gets a 500 or a stack trace."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from frontdoors import SAMPLE_UUID, LambdaContext, callback_request, handler_module, sample
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from pipelinejobs.api import openapi


def test_the_committed_openapi_document_is_what_the_code_generates():
    assert openapi.DOCUMENT.read_text() == openapi.generate(), "run: python -m pipelinejobs.api.openapi"


def test_the_openapi_document_lists_every_route_and_answer():
    document = json.loads(openapi.DOCUMENT.read_text())
    assert sorted((path, method) for path, ops in document["paths"].items() for method in ops) == [
        ("/events", "post"), ("/jobs/{uuid}", "get"), ("/jobs/{uuid}/events", "post")]
    for path in ("/jobs/{uuid}/events", "/events"):
        answers = document["paths"][path]["post"]["responses"]
        assert set(answers) == {"200", "400", "401", "403", "404", "409", "413", "503"}
        assert answers["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Outcome"}
    parameters = {p["name"] for p in document["paths"]["/jobs/{uuid}/events"]["post"]["parameters"]}
    assert parameters == {"uuid", "token", "status", "event"}


@pytest.fixture(scope="module")
def webhook():
    return handler_module("webhook").handler


@pytest.fixture
def offline(aws_env):
    with mock_aws():  # should anything slip past validation and the token check, it meets an empty moto
        yield


def _assert_answered_safely(response: dict) -> None:
    assert response["statusCode"] < 500, response
    assert "Traceback" not in response["body"] and 'File "' not in response["body"]
    assert json.loads(response["body"])["error"]


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=4), max_leaves=10)
messages = st.dictionaries(st.sampled_from(["uuid", "event", "name", "data", "token", "id", "extra"]), json_values)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.text(max_size=200), messages.map(json.dumps), json_values.map(json.dumps)),
       base64=st.booleans())
def test_no_body_posted_to_events_gets_a_500(webhook, offline, body, base64):
    request = sample("webhook", "post-event")
    if base64:
        import base64 as b64

        body = b64.b64encode(body.encode()).decode()
    request.update(body=body, isBase64Encoded=base64)
    _assert_answered_safely(webhook(request, LambdaContext()))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(uuid=st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s),
       query=st.dictionaries(st.sampled_from(["token", "status", "event", "limit", "after", "order", "x"]),
                             st.text(max_size=30), max_size=4),
       body=st.one_of(st.none(), st.text(max_size=100)),
       content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""]),
       get=st.booleans())
def test_no_callback_or_job_read_gets_a_500(webhook, offline, uuid, query, body, content_type, get):
    request = callback_request(SAMPLE_UUID, query, body, content_type)
    request["pathParameters"] = {"uuid": uuid}
    request["rawPath"] = request["requestContext"]["http"]["path"] = f"/dev/jobs/{uuid}/events"
    if get:
        request["routeKey"] = "GET /jobs/{uuid}"
        request["requestContext"]["http"]["method"] = "GET"
        request["rawPath"] = request["requestContext"]["http"]["path"] = f"/dev/jobs/{uuid}"
    _assert_answered_safely(webhook(request, LambdaContext()))


def test_an_unexpected_failure_is_a_bare_500(webhook, monkeypatch, aws_env):
    from pipelinejobs import frontdoor

    def explode(*_, **__):
        raise RuntimeError("secret internals at /var/task/x.py")

    monkeypatch.setattr(frontdoor, "handle_event", explode)
    response = webhook(sample("webhook", "post-event"), LambdaContext())
    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == frontdoor.INTERNAL_ERROR


def test_retry_later_is_passed_on_with_retry_after(webhook, monkeypatch, aws_env):
    from pipelinejobs import frontdoor
    from pipelinejobs.errors import StorageUnavailable

    def throttled(*_, **__):
        raise StorageUnavailable("DynamoDB throttled the request")

    monkeypatch.setattr(frontdoor, "handle_event", throttled)
    response = webhook(sample("webhook", "post-event"), LambdaContext())
    assert (response["statusCode"], response["headers"]["Retry-After"]) == (503, "1")
    assert json.loads(response["body"])["error"] == "StorageUnavailable"


@pytest.mark.parametrize(("module", "unwanted"), [
    ("pipelinejobs.intake", ["pydantic", "aws_lambda_powertools.event_handler",
                             "aws_lambda_powertools.utilities.batch"]),
    ("pipelinejobs.notify", ["pydantic", "aws_lambda_powertools.event_handler"]),
])
def test_cold_paths_do_not_import_what_they_do_not_use(module, unwanted):
    code = f"import sys, {module}; print([m for m in {unwanted!r} if m in sys.modules])"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "[]"
