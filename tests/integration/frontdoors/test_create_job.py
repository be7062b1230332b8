"""``POST /jobs`` on DynamoDB Local, and pipeline tokens on the event routes (issue 10, item 14).

Every answer is held to the OpenAPI document by the ``webhook`` fixture (``frontdoors.conforming_webhook``).
"""

from __future__ import annotations

import json
import time
import uuid as uuidlib

import pytest
from frontdoors import LambdaContext, callback_request, sample

from pipelinejobs import get_job, identity, register_pipeline, tokens
from pipelinejobs.runner_status import STATUS_PLACEHOLDER

NOBODY = "00000000-0000-4000-8000-000000000000"


def create(webhook, body, token: str | None = None, raw: str | None = None) -> tuple[int, dict]:
    request = sample("webhook", "create-job")
    request["headers"].pop("authorization")
    if token is not None:
        request["headers"]["authorization"] = f"Bearer {token}"
    request["body"] = raw if raw is not None else json.dumps(body)
    response = webhook(request, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def post_event(webhook, message: dict, token: str) -> tuple[int, dict]:
    request = sample("webhook", "post-event")
    request["headers"]["authorization"] = f"Bearer {token}"
    request["body"] = json.dumps(message)
    response = webhook(request, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def pipeline(tables):
    return register_pipeline(f"outside-{uuidlib.uuid4().hex[:8]}", components=["align"])


@pytest.fixture
def pipeline_token(tables, pipeline) -> str:
    return tokens.pipeline_token(tables.token_secret, pipeline.uuid)


def test_created_then_found_with_the_sdks_uuid_by_name_or_uuid(webhook, tables, pipeline, pipeline_token):
    body = {"data": {"sample": "A2"}, "parents": [NOBODY]}
    expected = identity.job_uuid(pipeline.uuid, body["data"], body["parents"])

    first = create(webhook, {"pipeline": pipeline.name, **body}, pipeline_token)
    again = create(webhook, {"pipeline": pipeline.uuid, **body}, pipeline_token)

    assert (first[0], again[0]) == (201, 200)
    for _, answer in (first, again):
        assert (answer["uuid"], answer["pipeline_uuid"], answer["state"]) == (expected, pipeline.uuid, "CREATED")
        assert tokens.verify_job_token(tables.token_secret, expected, answer["token"])
        assert answer["callback"] == (f"{tables.api_url}/jobs/{expected}/events?token={answer['token']}"
                                      f"&status={STATUS_PLACEHOLDER}")


def test_without_an_api_url_setting_the_callback_is_on_the_url_the_request_came_to(webhook, pipeline, pipeline_token,
                                                                                 monkeypatch):
    monkeypatch.delenv("PIPELINEJOBS_API_URL")  # the template cannot give the webhook its own API's URL
    _, answer = create(webhook, {"pipeline": pipeline.uuid}, pipeline_token)
    assert answer["callback"].startswith(  # the sample's domain name and stage, and its X-Forwarded-Proto
        f"https://abc123xyz.execute-api.us-east-1.amazonaws.com/dev/jobs/{answer['uuid']}/events?token=")


def test_an_admin_token_creates_too_and_hears_404_for_an_unknown_or_inactive_pipeline(webhook, tables, pipeline,
                                                                                      table_items):
    admin = tokens.admin_token(tables.token_secret)
    assert create(webhook, {"pipeline": pipeline.name}, admin)[0] == 201
    register_pipeline("dormant", components=["x"], active=False)
    before = table_items()

    for name in ("no-such-pipeline", NOBODY, "dormant"):
        status, answer = create(webhook, {"pipeline": name}, admin)
        assert (status, answer["error"]) == (404, "PipelineNotFound")
    assert table_items() == before


def test_a_token_that_does_not_match_is_401_the_same_whether_or_not_the_pipeline_exists(webhook, tables, pipeline,
                                                                                       table_items):
    other = register_pipeline(f"other-{uuidlib.uuid4().hex[:8]}")
    secret = tables.token_secret
    wrong = {
        "other pipeline's": tokens.pipeline_token(secret, other.uuid),
        "expired": tokens.pipeline_token(secret, pipeline.uuid, hours=1, at=time.time() - 3 * 3600),
        "forged": tokens.pipeline_token("not-the-secret", pipeline.uuid),
        "job's": tokens.job_token(secret, pipeline.uuid),
        "malformed": "x" * 48,
        "missing": None,
    }
    refusal = (401, {"error": "Unauthorized", "message": "missing, invalid or expired token"})
    before = table_items()
    for kind, token in wrong.items():
        for name in (pipeline.name, pipeline.uuid, "no-such-pipeline", NOBODY):
            assert create(webhook, {"pipeline": name}, token) == refusal, (kind, name)
    assert table_items() == before


@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"pipeline"}),
    ({"pipeline": ""}, {"pipeline"}),
    ({"pipeline": 7, "data": [], "parents": "x"}, {"pipeline", "data", "parents"}),
    ({"pipeline": "p", "parents": ["not-a-uuid"]}, {"parents.0"}),
    ({"pipeline": "p", "colour": "red"}, {"colour"}),
    ({"pipeline": "p", "callback_url": "ftp://example.org/x"}, {"callback_url"}),
    ({"pipeline": "p", "callback_url": "http://user:pw@example.org/x"}, {"callback_url"}),
    ([], {"(body)"}),
])
def test_a_bad_body_is_400_naming_each_field_and_writes_nothing(webhook, pipeline_token, body, fields, table_items):
    before = table_items()
    status, answer = create(webhook, body, pipeline_token)
    assert (status, {e["field"] for e in answer["errors"]}) == (400, fields)
    assert table_items() == before


@pytest.mark.parametrize("raw", ["", "{not json", '{"pipeline": "p", "data": {"a": NaN}}'])
def test_a_body_that_is_not_json_is_400(webhook, pipeline_token, raw, table_items):
    before = table_items()
    status, answer = create(webhook, None, pipeline_token, raw=raw)
    assert status == 400 and answer["errors"][0]["field"] in ("(body)", "data")
    assert table_items() == before


def test_data_over_the_limit_is_413(webhook, pipeline, pipeline_token, table_items):
    before = table_items()
    status, answer = create(webhook, {"pipeline": pipeline.uuid, "data": {"x": "y" * 40_000}}, pipeline_token)
    assert (status, answer["errors"][0]["field"]) == (413, "data")
    assert table_items() == before


def test_a_pipeline_token_moves_its_pipelines_jobs_through_both_event_routes(webhook, pipeline, pipeline_token):
    _, job = create(webhook, {"pipeline": pipeline.uuid, "data": {"n": 1}}, pipeline_token)

    status, outcome = post_event(webhook, {"uuid": job["uuid"], "event": "run"}, pipeline_token)
    assert (status, outcome["state"]) == (200, "RUNNING")
    request = callback_request(job["uuid"], {"status": "FINISHED"}, "{}")
    request["headers"]["authorization"] = f"Bearer {pipeline_token}"
    answer = webhook(request, LambdaContext())
    assert (answer["statusCode"], json.loads(answer["body"])["state"]) == (200, "FINISHED")


def test_a_pipeline_token_is_refused_on_another_pipelines_job_or_none_alike_and_may_not_send_admin_events(
        webhook, tables, pipeline, pipeline_token, table_items):
    other = register_pipeline(f"other-{uuidlib.uuid4().hex[:8]}")
    _, theirs = create(webhook, {"pipeline": other.uuid}, tokens.pipeline_token(tables.token_secret, other.uuid))
    _, mine = create(webhook, {"pipeline": pipeline.uuid}, pipeline_token)
    before = table_items()

    refused = [post_event(webhook, {"uuid": uuid, "event": "run"}, pipeline_token) for uuid in (theirs["uuid"], NOBODY)]
    assert refused[0] == refused[1] and refused[0][0] == 401
    assert post_event(webhook, {"uuid": mine["uuid"], "event": "reset"}, pipeline_token)[0] == 403
    assert table_items() == before


def test_a_job_token_in_the_header_reads_the_job_and_a_pipeline_token_does_not(webhook, pipeline, pipeline_token):
    _, job = create(webhook, {"pipeline": pipeline.uuid}, pipeline_token)
    request = sample("webhook", "get-job", job["uuid"])
    request["queryStringParameters"].pop("token", None)
    request["rawQueryString"] = ""
    for token, status in ((job["token"], 200), (pipeline_token, 401)):
        request["headers"]["authorization"] = f"Bearer {token}"
        assert webhook(request, LambdaContext())["statusCode"] == status


def test_a_job_created_with_a_heartbeat_keeps_it_and_a_bad_one_is_a_400_naming_it(webhook, tables, pipeline,
                                                                                   pipeline_token):
    status, answer = create(webhook, {"pipeline": pipeline.uuid, "data": {"n": 1}, "heartbeat_seconds": 90},
                            pipeline_token)
    assert status == 201
    assert get_job(answer["uuid"]).record.heartbeat_seconds == 90
    status, answer = create(webhook, {"pipeline": pipeline.uuid, "data": {"n": 2}, "heartbeat_seconds": "soon"},
                            pipeline_token)
    assert status == 400 and [e["field"] for e in answer["errors"]] == ["heartbeat_seconds"]
