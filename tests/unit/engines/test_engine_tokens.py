"""Every engine route refuses a forged, expired, other pipeline's or malformed ingest token, and writes nothing
(issue 12, Done when); the token in an engine's address never reaches a log line (item 4).

Requests go the way the local stack serves them: the webhook function behind the routes template.yaml gives it
(local/http.py's dispatch), so a route missing from the template or from the API is a 404 here, not a pass; every
answer is held to the OpenAPI document (frontdoors.conforming_webhook).
"""

from __future__ import annotations

import base64
import contextlib
import inspect
import io
import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from frontdoors import ROOT, LambdaContext, conforming_webhook, handler_module
from hostile import bad_pipeline_tokens
from moto import mock_aws

import pipelinejobs as pj
from pipelinejobs import observability, tokens
from pipelinejobs.local.http import ApiServer, Request, Route, dispatch
from pipelinejobs.service import BAD_TOKEN
from pipelinejobs.storage.tables import load_template

from support import table_items

RUN = "5f1c2a9e-7d4b-4c1e-9a3f-2b8d6e0c4a71"


@dataclass(frozen=True)
class EngineRoute:
    """One engine route, and a message on it that means something (so a valid token would have it written)."""

    name: str
    method: str
    #: The request's path and query for a pipeline's uuid and a token (None: the route takes them elsewhere).
    target: Callable[[str, str], str]
    body: bytes = b""
    content_type: str | None = None
    #: HTTP Basic credentials ``<pipeline_uuid>:<token>`` instead of the path (Nextflow's weblog.basicToken).
    basic: bool = False

    def request(self, pipeline_uuid: str, token: str, *, authorization: str | None = None) -> Request:
        headers = [("host", "127.0.0.1:8787")]
        if self.content_type:
            headers.append(("content-type", self.content_type))
        if self.basic:
            credential = base64.b64encode(f"{pipeline_uuid}:{token}".encode()).decode()
            headers.append(("authorization", authorization or f"Basic {credential}"))
        return Request(self.method, self.target(pipeline_uuid, token), headers, self.body)


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _panoptes(level: str, **fields: object) -> bytes:
    """A form-encoded update_workflow_status, as snakemake-logger-plugin-panoptes posts it (REFERENCE §7)."""
    return urlencode({"msg": json.dumps({"level": level, **fields}), "timestamp": "Wed Nov 25 19:57:13 2026",
                      "id": RUN}).encode()


NEXTFLOW_STARTED = _json({"runName": "tiny_turing", "runId": RUN, "event": "started",
                          "utcTime": "2026-11-26T04:00:00Z", "metadata": {"workflow": {"commandLine": "nextflow run"}}})
ROUTES = [
    EngineRoute("snakemake create_workflow", "GET",
                lambda p, t: f"/engines/snakemake/{p}/{t}/create_workflow?workflow_id=tokens"),
    EngineRoute("snakemake update_workflow_status", "POST",
                lambda p, t: f"/engines/snakemake/{p}/{t}/update_workflow_status",
                _panoptes("job_info", jobid=1, name="align", input=["a.txt"], output=["b.txt"], wildcards={},
                          threads=1, resources={}), "application/x-www-form-urlencoded"),
    EngineRoute("snakemake api/service-info", "GET", lambda p, t: f"/engines/snakemake/{p}/{t}/api/service-info"),
    EngineRoute("nextflow weblog", "POST", lambda p, t: f"/engines/nextflow/{p}/{t}", NEXTFLOW_STARTED,
                "application/json"),
    EngineRoute("nextflow weblog.basicToken", "POST", lambda p, t: "/engines/nextflow", NEXTFLOW_STARTED,
                "application/json", basic=True),
    EngineRoute("cromwell workflow callback", "POST", lambda p, t: f"/engines/cromwell/{p}/{t}",
                _json({"workflowId": RUN, "state": "Succeeded", "outputs": {"w.out": 5}}), "application/json"),
    EngineRoute("agave notification", "POST", lambda p, t: f"/engines/agave/{p}/{t}?status=FINISHED&job={RUN}",
                _json({"id": RUN, "name": "align", "status": "FINISHED"}), "application/json"),
]


def template_routes(handler: Callable) -> list[Route]:
    """The webhook's routes as template.yaml declares them (what API Gateway and the local stack serve), each
    invoking ``handler`` as Lambda does."""
    events = load_template(ROOT / "template.yaml")["Resources"]["WebhookFunction"]["Properties"]["Events"]
    return [Route(event["Properties"].get("Method", "ANY").upper(), event["Properties"].get("Path", "/{proxy+}"),
                  lambda request: handler(request, LambdaContext()))
            for event in events.values() if event["Type"] == "HttpApi"]


@dataclass
class Api:
    routes: list[Route]
    pipeline: str
    other: str
    secret: str

    def send(self, request: Request) -> tuple[int, dict]:
        answer = dispatch(request, self.routes)
        return answer.status, json.loads(answer.body or b"null")


@pytest.fixture
def api(aws_env) -> Iterator[Api]:
    with mock_aws():
        pj.create_tables()
        pipeline = pj.register_pipeline("engine-tokens", components=["engines"])
        other = pj.register_pipeline("engine-tokens-other", components=["engines"])
        yield Api(template_routes(conforming_webhook()), pipeline.uuid, other.uuid, aws_env.token_secret)


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_a_bad_token_is_one_401_and_nothing_is_written(api: Api, route: EngineRoute):
    before = table_items()
    for what, token in bad_pipeline_tokens(api.secret, api.pipeline, api.other).items():
        status, body = api.send(route.request(api.pipeline, token))
        assert (status, body) == (401, {"error": "Unauthorized", "message": BAD_TOKEN}), what
    assert table_items() == before

    good = tokens.pipeline_token(api.secret, api.pipeline)
    status, body = api.send(route.request(api.pipeline, good))  # the same message, with its own token: accepted
    assert 200 <= status < 300, body


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
@pytest.mark.parametrize("pipeline", ["engine-tokens", "8A5C9BBB-C2A1-5A4D-8582-A405913C287F", "8a5c9bbb-c2a1"])
def test_a_pipeline_that_is_not_a_uuid_is_a_400_naming_it_and_nothing_is_written(api: Api, route: EngineRoute,
                                                                                   pipeline: str):
    """In an address, a malformed pipeline is a 400 naming it; as HTTP Basic's user it is a credential that is
    wrong, like a wrong password: a 401 (what the OpenAPI document, and schemathesis, expect of a credential)."""
    before = table_items()
    status, body = api.send(route.request(pipeline, tokens.pipeline_token(api.secret, pipeline)))
    if route.basic:
        assert (status, body) == (401, {"error": "Unauthorized", "message": BAD_TOKEN})
    else:
        assert status == 400, body
        assert [error["field"] for error in body["errors"]] == ["pipeline"]
    assert table_items() == before


@pytest.mark.parametrize("authorization", [None, "", "Basic", "Basic !!!", "Bearer {token}", "Basic {no_colon}"])
def test_nextflow_basic_auth_that_is_not_a_pipeline_and_its_token_is_a_401(api: Api, authorization: str | None):
    route = next(route for route in ROUTES if route.basic)
    good = tokens.pipeline_token(api.secret, api.pipeline)
    before = table_items()
    request = route.request(api.pipeline, good, authorization="placeholder")
    request.headers[:] = [(name, value) for name, value in request.headers if name != "authorization"]
    if authorization is not None:
        no_colon = base64.b64encode(f"{api.pipeline}{good}".encode()).decode()
        request.headers.append(("authorization", authorization.format(token=good, no_colon=no_colon)))
    status, body = api.send(request)
    assert (status, body) == (401, {"error": "Unauthorized", "message": BAD_TOKEN})
    assert table_items() == before


# ---- the token in the address never reaches a log line ------------------------------------------------------

@pytest.fixture
def logs(aws_env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[tuple[io.StringIO,
                                                                                                          Api]]:
    """The webhook decorated afresh with Powertools' event logging on (POWERTOOLS_LOGGER_LOG_EVENT is read when it
    decorates), its logger writing into a buffer, and the local stack's access log captured."""
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    caplog.set_level(logging.INFO, logger="pipelinejobs.local")
    buffer = io.StringIO()
    handler = observability.logger().registered_handler
    previous = handler.setStream(buffer)
    try:
        with mock_aws():
            pj.create_tables()
            pipeline = pj.register_pipeline("engine-logs", components=["engines"]).uuid
            webhook = observability.lambda_entry(inspect.unwrap(handler_module("webhook").handler))
            yield buffer, Api(template_routes(webhook), pipeline, pipeline, aws_env.token_secret)
    finally:
        handler.setStream(previous)


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_the_token_in_the_address_is_in_no_log_line(logs, caplog: pytest.LogCaptureFixture, route: EngineRoute):
    buffer, api = logs
    good = tokens.pipeline_token(api.secret, api.pipeline)
    forged = bad_pipeline_tokens(api.secret, api.pipeline, api.pipeline)["forged"]
    server = ApiServer(api.routes).start()  # over HTTP, for the access log line the local stack writes too
    try:
        for token in (good, forged):
            request = route.request(api.pipeline, token)
            sent = urllib.request.Request(server.url + request.target, data=request.body or None,
                                          headers=dict(request.headers), method=request.method)
            with contextlib.suppress(urllib.error.HTTPError):  # the forged one's 401
                urllib.request.urlopen(sent, timeout=30).close()
    finally:
        server.stop()
    # The function's lines as its handler writes them (caplog also gets Powertools' records raw, before the
    # formatter that redacts them: on Lambda, Powertools keeps them from the root logger's handlers), and the
    # local stack's own lines (its access log) as they are written.
    stack = [record.getMessage() for record in caplog.records if record.name.startswith("pipelinejobs.local")]
    logged = buffer.getvalue() + "\n".join(stack)

    assert logged.count('"rawPath"') == 2  # the function logged both requests (Powertools' event logging)
    assert len([line for line in stack if line.startswith(f"{route.method} /engines")]) == 2  # the access log too
    for token in (good, forged):
        assert token not in logged.lower()
    assert not re.search(r"(?<![0-9a-f])[0-9a-f]{48}(?![0-9a-f])", logged.lower())
