"""The webhook function, driven with API Gateway HTTP API v2 events (functions/webhook/events/)."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from frontdoors import LambdaContext, LoopbackServer, callback_request, sample

from pipelinejobs import PipelineJob, config, register_pipeline, tokens
from pipelinejobs.errors import Forbidden, InvalidTransition
from pipelinejobs.transports import WebhookTransport


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
    assert job.history[-1].data == ({"status": query["status"]} if "status" in query else {})


@pytest.mark.parametrize(("body", "content_type", "data"), [
    ('{"progress": 0.5}', "application/json", {"progress": 0.5}),
    ("step=align&files=a&files=b", "application/x-www-form-urlencoded", {"step": "align", "files": ["a", "b"]}),
    ("[1, 2]", "application/json", {"body": [1, 2]}),
    ("plain words", "text/plain", {"body": "plain words"}),
    ("", "application/json", {}),
])
def test_callback_body_becomes_the_event_data(webhook, job, body, content_type, data):
    status, _ = call(webhook, callback_request(job.uuid, {"token": job.token, "event": "update"}, body, content_type))
    assert status == 200
    assert job.history[-1].data == data


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
