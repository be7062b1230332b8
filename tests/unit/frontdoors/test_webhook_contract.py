"""The webhook's contract, without a table: the committed OpenAPI document is a valid one and says what the
code does (routes, parameters, limits, what a job view may hold), and no input, however bad, gets a 500 or a
stack trace. The fixture holds every answer to the document (``frontdoors.conforming_webhook``)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
import yaml
from frontdoors import ROOT, SAMPLE_UUID, LambdaContext, callback_request, conforming_webhook, sample
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from openapi_spec_validator import validate

from pipelinejobs import events, fsm
from pipelinejobs.api import contract
from pipelinejobs.api.app import app
from pipelinejobs.config import MAX_DATA_BYTES, MAX_DATA_DEPTH
from pipelinejobs.errors import InvalidEvent
from pipelinejobs.records import PRIVATE_FIELDS, JobRecord

DOCUMENT = contract.document()


def test_the_committed_document_is_valid_openapi_3_1():
    assert DOCUMENT["openapi"].startswith("3.1")
    validate(DOCUMENT)


def _template_routes() -> set[tuple[str, str]]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)  # CloudFormation tags: not needed here
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)
    events = template["Resources"]["WebhookFunction"]["Properties"]["Events"].values()
    return {(e["Properties"]["Method"].upper(), e["Properties"]["Path"]) for e in events if e["Type"] == "HttpApi"}


def test_the_document_the_app_and_the_template_have_the_same_routes():
    documented = {(method.upper(), path) for path, ops in DOCUMENT["paths"].items() for method in ops}
    served = {(route.method, route.path.replace("<", "{").replace(">", "}"))
              for route in app._static_routes + app._dynamic_routes}
    assert served == _template_routes() == documented | {("GET", "/openapi.json")}


def test_every_post_lists_every_answer_an_event_can_get():
    for path in ("/jobs/{uuid}/events", "/events"):
        answers = DOCUMENT["paths"][path]["post"]["responses"]
        assert set(answers) == {"200", "400", "401", "403", "404", "409", "413", "500", "503"}
        assert answers["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Outcome"}
    limit = f"{MAX_DATA_BYTES // 1024} KiB"
    assert limit in DOCUMENT["components"]["responses"]["PayloadTooLarge"]["description"]
    depth = f"{MAX_DATA_DEPTH} levels"
    assert depth in DOCUMENT["paths"]["/jobs/{uuid}/events"]["post"]["requestBody"]["description"]
    assert depth in events.schema()["properties"]["data"]["description"]


def test_the_documents_pipelinejobevent_is_the_event_schema():
    """The document carries the PipelineJobEvent schema (POST /events' body, the uuid, token and callback's event
    parameters refer to it), so that clients and schemathesis see the formats the webhook enforces. The schema
    file stays the one every door validates with; this holds the copy to it."""
    source = events.schema()
    expected = {k: v for k, v in source.items() if k not in ("$schema", "$id", "$defs", "title")}
    expected = json.loads(json.dumps(expected).replace('"#/$defs/event"', '"#/components/schemas/EventName"'))
    schemas = DOCUMENT["components"]["schemas"]
    assert schemas["PipelineJobEvent"] == expected
    assert schemas["EventName"] == source["$defs"]["event"]
    assert schemas["EventName"]["enum"] == list(fsm.EVENTS)


def test_the_cursor_limit_is_the_stores_last_sequence_number():
    from pipelinejobs.storage.dynamodb import _LAST_SEQ

    [after] = [p for p in DOCUMENT["paths"]["/jobs/{uuid}"]["get"]["parameters"] if p["name"] == "after"]
    assert after["schema"]["maximum"] == _LAST_SEQ


def test_query_parameters_are_read_from_the_document():
    assert contract.query("getJob", {"limit": "7", "order": "newest", "unknown": "x"}) == {
        "token": None, "limit": 7, "after": None, "order": "newest"}
    assert contract.query("postCallback", None) == {"token": None, "status": None, "event": None}
    with pytest.raises(InvalidEvent) as refused:
        contract.query("getJob", {"limit": "501", "after": "-1", "order": "sideways"})
    assert [(p["field"], p["problem"]) for p in refused.value.errors] == [
        ("after", "-1 is less than the minimum of 0"), ("limit", "501 is greater than the maximum of 500"),
        ("order", "'sideways' is not one of oldest, newest")]
    with pytest.raises(InvalidEvent) as refused:
        contract.query("getJob", {"limit": "ten", "after": "1e3"})
    assert [(p["field"], p["problem"]) for p in refused.value.errors] == [
        ("after", "must be an integer, not '1e3'"), ("limit", "must be an integer, not 'ten'")]
    with pytest.raises(InvalidEvent) as refused:  # through the document's references to the event schema
        contract.query("postCallback", {"token": "ABC", "event": "RUN"})
    assert refused.value.errors == [
        {"field": "event", "problem": f"'RUN' is not one of {', '.join(fsm.EVENTS)}"},
        {"field": "token", "problem": "must be 16 (job token) or 32 (admin token) lowercase hex characters"}]


def test_a_job_view_serves_only_what_the_document_lists():
    listed = set(DOCUMENT["components"]["schemas"]["JobView"]["properties"])
    assert not listed & (PRIVATE_FIELDS | {"callback_url"})
    record = JobRecord(uuid=SAMPLE_UUID, pipeline_uuid=SAMPLE_UUID, state="RUNNING", last_event="run", created="t",
                       updated="t", path="p", callback_url="https://x/", run_id="r", launch={"handle": "h"})
    served = contract.served("JobView", {**dataclasses.asdict(record), "task_token": "secret"})
    assert set(served) == listed - {"history", "next_cursor"}


@pytest.fixture(scope="module")
def webhook():
    return conforming_webhook()


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


@pytest.mark.parametrize("route", ["post-event", "callback-json"])
@pytest.mark.parametrize("body", ["not base64!", "abc", "{\"uuid\": 1}"])
def test_a_body_marked_base64_that_is_not_base64_is_a_400_on_the_body(webhook, offline, route, body):
    """Issue 10 item 10: it was a 500 (binascii.Error from Powertools' decoded_body)."""
    request = sample("webhook", route)
    request.update(body=body, isBase64Encoded=True)
    response = webhook(request, LambdaContext())
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["errors"] == [
        {"field": "(body)", "problem": "is marked isBase64Encoded but is not base64"}]


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
    ("pipelinejobs.api", ["pydantic"]),  # the webhook's cold import goal (docs/benchmarks.md)
])
def test_cold_paths_do_not_import_what_they_do_not_use(module, unwanted):
    code = f"import sys, {module}; print([m for m in {unwanted!r} if m in sys.modules])"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "[]"
