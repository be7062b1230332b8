"""The webhook function, driven with API Gateway HTTP API v2 events (functions/webhook/events/)."""

from __future__ import annotations

import json
from importlib import resources
from urllib.parse import parse_qs, urlsplit

import pytest
from frontdoors import LambdaContext, LoopbackServer, callback_request, sample
from hostile import nested

from pipelinejobs import PipelineJob, config, events, register_pipeline, tokens
from pipelinejobs.config import MAX_DATA_DEPTH
from pipelinejobs.errors import Forbidden, InvalidTransition
from pipelinejobs.sdk.transports import WebhookTransport


def call(webhook, request) -> tuple[int, dict]:
    response = webhook(request, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize("name", ["callback-json", "callback-form", "callback-empty", "post-event"])
def test_every_sample_event_moves_its_job(webhook, job, name):
    status, body = call(webhook, sample("webhook", name, job.uuid, job.token))
    assert status == 200
    assert body["uuid"] == job.uuid
    assert body["state"] == job.refresh().state


@pytest.mark.parametrize(("query", "event", "state"), [
    ({"status": "running"}, "run", "RUNNING"),            # case-insensitive
    ({"status": "QUEUED"}, "resource", "CREATED"),         # Agave
    ({"status": "Runnable"}, "resource", "CREATED"),       # AWS Batch
    ({"status": "PROVISIONING"}, "resource", "CREATED"),   # ECS
    ({"status": "TIMED_OUT"}, "fail", "FAILED"),           # Step Functions
    ({"status": "no-such-status"}, "update", "CREATED"),   # unknown -> update
    ({}, "update", "CREATED"),                             # no status at all
    ({"status": "FAILED", "event": "run"}, "run", "RUNNING"),  # explicit event wins
])
def test_callback_status_maps_to_an_event(webhook, job, query, event, state):
    status, body = call(webhook, callback_request(job.uuid, {"token": job.token, **query}, None))
    assert status == 200
    assert (body["event"], body["state"]) == (event, state)
    expected = {"status": query["status"]} if "status" in query else {}
    if event == "fail":  # every fail says why: a runner's status word names no class (pipelinejobs.failures)
        expected["failure"] = "unknown"
    assert job.history[-1].data == expected


@pytest.mark.parametrize(("body", "content_type", "data"), [
    ('{"progress": 0.5}', "application/json", {"progress": 0.5}),
    ("step=align&files=a&files=b", "application/x-www-form-urlencoded", {"step": "align", "files": ["a", "b"]}),
    ("[1, 2]", "application/json", {"body": [1, 2]}),
    ("plain words", "text/plain", {"body": "plain words"}),
    ("", "application/json", {}),
    # issue 10 item 3, as curl sends them: text is kept as text, and curl -d labels JSON a form
    ("NaN", "text/plain", {"body": "NaN"}),
    ("Infinity", "text/plain", {"body": "Infinity"}),
    ("-Infinity", "text/plain", {"body": "-Infinity"}),
    ("42", "text/plain", {"body": "42"}),
    ('{"progress":0.5}', "application/x-www-form-urlencoded", {"progress": 0.5}),
])
def test_callback_body_becomes_the_event_data(webhook, job, body, content_type, data):
    status, _ = call(webhook, callback_request(job.uuid, {"token": job.token, "event": "update"}, body, content_type))
    assert status == 200
    assert job.history[-1].data == data


@pytest.mark.parametrize(("body", "content_type"), [
    ('{"id": "job-7", "status": "RUNNING", "owner": "sd2e"}', "application/json"),  # Agave's notification
    ("status=RUNNING&host=node-3", "application/x-www-form-urlencoded"),              # curl -d status=RUNNING
])
def test_a_status_in_the_body_moves_the_job_when_the_url_has_none(webhook, job, body, content_type):
    """Issue 10 item 2: recorded as ``update`` before, so the job never moved."""
    status, answer = call(webhook, callback_request(job.uuid, {"token": job.token}, body, content_type))
    assert (status, answer["event"], answer["state"]) == (200, "run", "RUNNING")
    finished = body.replace("RUNNING", "FINISHED")
    status, answer = call(webhook, callback_request(job.uuid, {"token": job.token}, finished, content_type))
    assert (status, answer["event"], answer["state"]) == (200, "finish", "FINISHED")
    assert job.history[-1].data["status"] == "FINISHED"


def test_the_urls_status_wins_over_the_bodys(webhook, job):
    request = callback_request(job.uuid, {"token": job.token, "status": "RUNNING"}, '{"status": "FAILED"}')
    status, answer = call(webhook, request)
    assert (status, answer["event"], answer["state"]) == (200, "run", "RUNNING")
    assert job.history[-1].data == {"status": "FAILED"}  # the body is kept as it came


@pytest.mark.parametrize("status", [None, "${STATUS}", "%24%7BSTATUS%7D", "$STATUS"])
def test_an_unfilled_status_placeholder_is_a_400_and_writes_nothing(webhook, job, table_items, status):
    """Issue 10 item 2: the URL ``job.callback`` gives, sent as it is (``None``), or the old ``${STATUS}`` (here
    as API Gateway passes it on: decoded once, so the second is a client that encoded it twice)."""
    query = {name: values[0] for name, values in parse_qs(urlsplit(job.callback).query).items()}
    if status is not None:
        query["status"] = status
    before = table_items()
    answer_status, answer = call(webhook, callback_request(job.uuid, query, '{"host": "x"}'))
    assert (answer_status, [e["field"] for e in answer["errors"]]) == (400, ["status"])
    assert "not filled in" in answer["errors"][0]["problem"]
    assert table_items() == before


def test_data_at_the_depth_limit_is_stored_and_served_and_deeper_is_a_400(webhook, job, table_items):
    """Issue 10 item 4: 500 levels were accepted, and then every GET of the job answered a 400 blaming its
    (absent) body: serving a history entry copies its data recursively, past Python's recursion limit."""
    deepest = nested(MAX_DATA_DEPTH - 1)  # data itself is level 1
    status, _ = call(webhook, callback_request(job.uuid, {"token": job.token, "event": "update"}, json.dumps(deepest)))
    assert status == 200
    before = table_items()
    for too_deep in (nested(MAX_DATA_DEPTH), nested(500)):
        request = callback_request(job.uuid, {"token": job.token, "event": "update"}, json.dumps(too_deep))
        status, answer = call(webhook, request)
        assert (status, [e["field"] for e in answer["errors"]]) == (400, ["data"])
    assert table_items() == before
    status, view = call(webhook, sample("webhook", "get-job", job.uuid, job.token))
    assert status == 200 and view["history"][-1]["data"] == deepest


def test_data_stored_deeper_than_the_limit_before_it_held_is_served_summarised(webhook, job, monkeypatch):
    """A job poisoned before the limit held at intake stays readable: the limit holds on the way out too."""
    with monkeypatch.context() as before_the_limit:
        before_the_limit.setattr(events, "MAX_DATA_DEPTH", 1000)
        job.update({"deep": nested(500), "status": "x"})
    status, view = call(webhook, sample("webhook", "get-job", job.uuid, job.token))
    assert status == 200
    assert view["history"][-1]["data"] == {"truncated": True, "problem": events.TOO_DEEP, "keys": ["deep", "status"]}


def test_callback_with_broken_json_is_400(webhook, job, table_items):
    before = table_items()
    status, body = call(webhook, callback_request(job.uuid, {"token": job.token, "event": "update"}, "{oops"))
    assert (status, body["errors"][0]["field"]) == (400, "(body)")
    assert table_items() == before


def test_a_callback_delivered_twice_records_one_event(webhook, job):
    request = sample("webhook", "callback-json", job.uuid, job.token)
    first = call(webhook, request)
    second = call(webhook, request)
    assert first[0] == second[0] == 200
    assert (first[1]["duplicate"], second[1]["duplicate"]) == (False, True)
    assert first[1]["seq"] == second[1]["seq"]
    assert [entry.name for entry in job.history] == ["create", "run"]


def test_get_job_pages_through_the_history(webhook, job):
    for step in range(5):
        job.update({"step": step})
    request = sample("webhook", "get-job", job.uuid, job.token)
    request["queryStringParameters"] = {"token": job.token, "limit": "4"}
    status, first = call(webhook, request)
    assert status == 200
    assert (first["state"], first["last_event"], first["version"]) == ("CREATED", "update", 6)
    assert [entry["seq"] for entry in first["history"]] == [1, 2, 3, 4]
    assert "callback_url" not in first
    request["queryStringParameters"] = {"token": job.token, "limit": "4", "after": str(first["next_cursor"])}
    _, second = call(webhook, request)
    assert [entry["seq"] for entry in second["history"]] == [5, 6]
    assert second["next_cursor"] is None
    request["queryStringParameters"] = {"token": job.token, "limit": "2", "order": "newest"}
    _, newest = call(webhook, request)
    assert [entry["seq"] for entry in newest["history"]] == [6, 5]


@pytest.mark.parametrize(("after", "order", "seqs"), [
    ("1", "newest", []), ("2", "newest", [1]), ("0", "newest", [2, 1]), ("0", "oldest", [1, 2]),
    ("2", "oldest", []), ("999999999999", "oldest", []), ("999999999999", "newest", [2, 1]),
])
def test_get_job_pages_from_any_cursor_in_either_order(webhook, job, after, order, seqs):
    job.update({"step": 1})
    request = sample("webhook", "get-job", job.uuid, job.token)
    request["queryStringParameters"] = {"token": job.token, "after": after, "order": order}
    status, page = call(webhook, request)
    assert status == 200 and [entry["seq"] for entry in page["history"]] == seqs


def test_a_cursor_past_the_largest_sequence_number_is_a_400(webhook, job):
    request = sample("webhook", "get-job", job.uuid, job.token)
    request["queryStringParameters"] = {"token": job.token, "after": "1000000000000"}
    status, answer = call(webhook, request)
    assert status == 400 and answer["errors"] == [
        {"field": "after", "problem": "1000000000000 is greater than the maximum of 999999999999"}]


def test_get_job_needs_a_token_and_says_404_only_to_an_authorised_caller(webhook, tables):
    unknown = "00000000-0000-5000-8000-000000000001"
    request = sample("webhook", "get-job", unknown, "0" * 16)
    assert call(webhook, request)[0] == 401
    request["queryStringParameters"]["token"] = tokens.admin_token(tokens.secret(config.Config.from_env()))
    assert call(webhook, request)[0] == 404


def test_the_served_openapi_document_is_the_committed_one(webhook):
    request = sample("webhook", "get-job")
    request.update(rawPath="/dev/openapi.json", routeKey="GET /openapi.json", queryStringParameters={},
                   rawQueryString="")
    request.pop("pathParameters")
    request["requestContext"]["http"]["path"] = "/dev/openapi.json"
    status, document = call(webhook, request)
    committed = json.loads(resources.files("pipelinejobs.api").joinpath("openapi.json").read_text())
    assert status == 200
    assert document == committed


def test_a_job_with_a_callback_url_does_not_show_it_to_the_runner(webhook, tables):
    pipeline = register_pipeline("frontdoor-tests")
    job = PipelineJob(pipeline.uuid, {"hooked": True}, callback_url="https://example.org/h?key=s3cret").setup()
    _, view = call(webhook, sample("webhook", "get-job", job.uuid, job.token))
    assert "s3cret" not in json.dumps(view)


def test_the_sdk_moves_a_job_through_the_webhook(webhook, job):
    def api_gateway(path: str, headers: dict, body: bytes) -> tuple[int, bytes]:
        request = sample("webhook", "post-event")
        request["body"] = body.decode()
        response = webhook(request, LambdaContext())
        return response["statusCode"], response["body"].encode()

    with LoopbackServer(api_gateway) as api:
        remote = PipelineJob(job.pipeline_uuid, job.data, transport=WebhookTransport(api.url + "/dev"))
        remote.run()
        with pytest.raises(Forbidden):
            remote.reset()  # an admin's event: the job's token may not send it
        with pytest.raises(InvalidTransition) as refused:
            remote.validate()
    assert (refused.value.state, refused.value.event) == ("RUNNING", "validate")
    assert [path for path, _, _ in api.requests] == ["/dev/events"] * 3
    assert job.refresh().state == "RUNNING"
