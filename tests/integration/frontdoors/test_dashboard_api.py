"""The dashboard's routes on the webhook (issue 13), on DynamoDB Local, through the conforming handler (every
JSON answer is held to the OpenAPI document): the page and its files with a strict CSP, the JSON read API behind a
viewer's or an admin's token in a header, and what each answer holds."""

from __future__ import annotations

import json
import re
import time
import uuid as uuidlib
from typing import Any

import pytest
from frontdoors import LambdaContext, sample

import pipelinejobs as pj
from pipelinejobs import fsm, tokens
from pipelinejobs.api import dashboard
from pipelinejobs.dashboard import views


def _get(webhook, path: str, route: str, token: str | None = None, query: dict[str, str] | None = None,
         headers: dict[str, str] | None = None, path_parameters: dict[str, str] | None = None) -> dict[str, Any]:
    request = sample("webhook", "get-job")
    request.update(routeKey=f"GET {route}", rawPath=f"/dev{path}", rawQueryString="&".join(
        f"{k}={v}" for k, v in (query or {}).items()), queryStringParameters=query or None,
        pathParameters=path_parameters or None)
    request["requestContext"].update(routeKey=f"GET {route}")
    request["requestContext"]["http"]["path"] = f"/dev{path}"
    request["headers"] = {**request["headers"], **({"authorization": f"Bearer {token}"} if token else {}),
                          **(headers or {})}
    return webhook(request, LambdaContext())


def _body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


@pytest.fixture
def viewer(tables) -> str:
    return tokens.viewer_token(tables.token_secret)


@pytest.fixture
def jobs(tables) -> list[pj.PipelineJob]:
    """Four jobs of one pipeline: CREATED, RUNNING, FINISHED and FAILED (the last with a refused event)."""
    pipeline = pj.register_pipeline("dash", components=["a"], task={"launcher": "local"})
    made = [pj.PipelineJob(pipeline.uuid, {"n": n, "case": uuidlib.uuid4().hex}).setup() for n in range(4)]
    made[1].run()
    made[2].run().finish()
    made[3].run().fail({"reason": "boom"})
    with pytest.raises(pj.errors.InvalidTransition):
        made[3].finish()
    return made


def test_the_page_and_its_files_are_served_with_a_strict_csp_and_no_token(webhook):
    page = _get(webhook, "/ui", "/ui")
    assert page["statusCode"] == 200 and page["headers"]["Content-Type"].startswith("text/html")
    csp = page["headers"]["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert '<script src="ui/static/app.js"' in page["body"] and "<script>" not in page["body"]
    script = _get(webhook, "/ui/static/app.js", "/ui/static/{name}", path_parameters={"name": "app.js"})
    assert script["statusCode"] == 200 and script["headers"]["Content-Type"].startswith("text/javascript")
    # Job data reaches the page as text only: no HTML parsing of strings anywhere in the script.
    assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|eval\(", script["body"])
    missing = _get(webhook, "/ui/static/x.js", "/ui/static/{name}", path_parameters={"name": "x.js"})
    assert missing["statusCode"] == 404


@pytest.mark.parametrize("path", ["/ui/api/overview", "/ui/api/jobs", "/ui/api/fsm"])
def test_no_token_or_a_token_in_the_query_gets_401_and_nothing_else(webhook, jobs, viewer, path):
    assert _get(webhook, path, path)["statusCode"] == 401
    answer = _get(webhook, path, path, query={"token": viewer})  # not read from the URL, ever
    assert answer["statusCode"] == 401 and "Authorization: Bearer" in _body(answer)["message"]
    assert jobs[0].uuid not in answer["body"]


def test_a_job_token_a_pipeline_token_or_a_forged_one_is_refused(webhook, jobs, tables):
    secret = tables.token_secret
    for wrong in (tokens.job_token(secret, jobs[0].uuid), tokens.pipeline_token(secret, jobs[0].pipeline_uuid),
                  tokens.viewer_token("another secret"), "not a token"):
        answer = _get(webhook, "/ui/api/jobs", "/ui/api/jobs", token=wrong)
        assert answer["statusCode"] == 401, wrong
        assert jobs[0].uuid not in answer["body"]


def test_an_expired_viewer_token_is_told_so(webhook, jobs, tables):
    old = tokens.viewer_token(tables.token_secret, hours=1, at=time.time() - 3 * 3600)
    answer = _get(webhook, "/ui/api/overview", "/ui/api/overview", token=old)
    assert answer["statusCode"] == 401 and "expired" in _body(answer)["message"]


def test_the_overview_counts_jobs_by_state_in_total_and_per_pipeline(webhook, jobs, viewer):
    answer = _body(_get(webhook, "/ui/api/overview", "/ui/api/overview", token=viewer))
    assert answer["total"] == 4
    assert answer["states"] == {"CREATED": 1, "RUNNING": 1, "FAILED": 1, "FINISHED": 1}  # in the FSM's order
    assert list(answer["states"]) == ["CREATED", "RUNNING", "FAILED", "FINISHED"]
    [pipeline] = answer["pipelines"]
    assert pipeline["name"] == "dash" and pipeline["total"] == 4
    future = _body(_get(webhook, "/ui/api/overview", "/ui/api/overview", token=viewer,
                        query={"since": "2999-01-01"}))
    assert future["total"] == 0 and future["states"] == {}


def test_the_job_table_filters_and_pages_by_state_then_newest_first(webhook, jobs, viewer):
    def table(**query: str) -> dict[str, Any]:
        return _body(_get(webhook, "/ui/api/jobs", "/ui/api/jobs", token=viewer, query=query))

    everything = table()
    assert everything["total"] == 4 and everything["next"] is None
    in_index_order = sorted(jobs, key=lambda j: (j.state, j.record.created, j.uuid), reverse=True)
    assert [j["uuid"] for j in everything["jobs"]] == [j.uuid for j in in_index_order]  # by state, newest first
    assert [j["uuid"] for j in table(state="FAILED")["jobs"]] == [jobs[3].uuid]
    assert table(pipeline=jobs[0].pipeline_uuid, state="RUNNING")["total"] == 1
    first = table(limit="3")
    assert len(first["jobs"]) == 3 and first["next"]
    rest = table(limit="3", after=first["next"])
    assert [j["uuid"] for j in first["jobs"] + rest["jobs"]] == [j["uuid"] for j in everything["jobs"]]
    assert rest["next"] is None
    one_by_one, cursor = [], None
    while True:  # pages of one row, within a state (the cursor is in the key condition) and across states
        page = table(limit="1", **({"after": cursor} if cursor else {}))
        one_by_one += [j["uuid"] for j in page["jobs"]]
        if not (cursor := page["next"]):
            break
    assert one_by_one == [j["uuid"] for j in everything["jobs"]]
    more = [pj.PipelineJob(jobs[0].pipeline_uuid, {"more": n}).setup().run().finish() for n in range(2)]
    finished, cursor = [], None
    while True:  # within a state: the cursor bounds the key condition, which includes it
        page = table(state="FINISHED", limit="1", **({"after": cursor} if cursor else {}))
        finished += [j["uuid"] for j in page["jobs"]]
        if not (cursor := page["next"]):
            break
    assert finished == [j.uuid for j in sorted([jobs[2], *more], key=lambda j: (j.record.created, j.uuid),
                                               reverse=True)]
    assert _get(webhook, "/ui/api/jobs", "/ui/api/jobs", token=viewer, query={"state": "NOPE"})["statusCode"] == 400


def test_a_jobs_page_has_its_history_in_order_with_the_refusal_and_its_reason(webhook, jobs, viewer, tables):
    failed = jobs[3]
    route = "/ui/api/jobs/{uuid}"
    answer = _body(_get(webhook, f"/ui/api/jobs/{failed.uuid}", route, token=viewer,
                        path_parameters={"uuid": failed.uuid}))
    assert answer["job"]["state"] == "FAILED" and answer["job"]["data"]["n"] == 3
    assert [(e["name"], e["applied"]) for e in answer["history"]] == [
        ("create", True), ("run", True), ("fail", True), ("finish", False)]
    assert [e["seq"] for e in answer["history"]] == [1, 2, 3, 4]
    assert "not allowed from FAILED" in answer["history"][-1]["reason"]
    assert answer["role"] == "viewer" and answer["callback_url"] is None
    admin = _body(_get(webhook, f"/ui/api/jobs/{failed.uuid}", route, token=tokens.admin_token(tables.token_secret),
                       path_parameters={"uuid": failed.uuid}))
    assert admin["role"] == "admin"
    assert "token" not in json.dumps(admin["job"])  # no job token, no task token, whoever asks


def test_an_unknown_job_is_a_404_and_a_malformed_uuid_a_400(webhook, tables, viewer):
    unknown = str(uuidlib.uuid4())
    route = "/ui/api/jobs/{uuid}"
    answer = _get(webhook, f"/ui/api/jobs/{unknown}", route, token=viewer, path_parameters={"uuid": unknown})
    assert answer["statusCode"] == 404
    bad = _get(webhook, "/ui/api/jobs/x", route, token=viewer, path_parameters={"uuid": "x"})
    assert bad["statusCode"] == 400


def test_an_unchanged_answer_is_a_304_with_no_body(webhook, jobs, viewer):
    first = _get(webhook, "/ui/api/jobs", "/ui/api/jobs", token=viewer)
    etag = first["headers"]["ETag"]
    again = _get(webhook, "/ui/api/jobs", "/ui/api/jobs", token=viewer, headers={"if-none-match": etag})
    assert again["statusCode"] == 304 and not again["body"]
    jobs[0].run()
    changed = _get(webhook, "/ui/api/jobs", "/ui/api/jobs", token=viewer, headers={"if-none-match": etag})
    assert changed["statusCode"] == 200 and changed["headers"]["ETag"] != etag


def test_the_fsm_graph_is_the_tables_every_transition(webhook, viewer, tables):
    graph = _body(_get(webhook, "/ui/api/fsm", "/ui/api/fsm", token=viewer))
    drawn = {(e["source"], event, e["target"]) for e in graph["edges"] for event in e["events"]}
    drawn |= {(s["name"], event, s["name"]) for s in graph["states"] for event in s["keeps"]}
    drawn |= {(state, a["event"], a["target"]) for a in graph["from_any"] for state in fsm.STATES}
    assert drawn == set(fsm._edges())
    assert graph == views.fsm_graph()
    layers = {s["name"]: s["layer"] for s in graph["states"]}
    assert layers["RESET"] < layers["CREATED"] < layers["RUNNING"] < layers["FINISHED"]


def test_every_answer_carries_the_security_headers(webhook, viewer, tables):
    answer = _get(webhook, "/ui/api/fsm", "/ui/api/fsm", token=viewer)
    assert answer["headers"]["Content-Security-Policy"] == dashboard.CONTENT_SECURITY_POLICY
    assert answer["headers"]["X-Content-Type-Options"] == "nosniff"


def test_a_workflows_page_has_its_graph_counters_and_nodes(webhook, tables, viewer):
    from pipelinejobs import workflows

    pj.register_pipeline("wf-step", components=["a"], task={"launcher": "local", "params": {"command": "true"}})
    submitted = workflows.submit({"name": "dash-wf", "jobs": {"a": {"pipeline": "wf-step"},
                                                              "b": {"pipeline": "wf-step", "after": ["a"]}}})
    listed = _body(_get(webhook, "/ui/api/workflows", "/ui/api/workflows", token=viewer))
    assert [w["uuid"] for w in listed["workflows"]] == [submitted.uuid] and listed["states"] == {"RUNNING": 1}
    route = "/ui/api/workflows/{uuid}"
    page = _body(_get(webhook, f"/ui/api/workflows/{submitted.uuid}", route, token=viewer,
                      path_parameters={"uuid": submitted.uuid}))
    assert page["name"] == "dash-wf" and page["state"] == "RUNNING"
    nodes = [(n["name"], n["after"], n["state"]) for n in page["nodes"]]
    assert nodes == [("a", [], "waiting"), ("b", ["a"], "waiting")]
    unknown = str(uuidlib.uuid4())
    assert _get(webhook, f"/ui/api/workflows/{unknown}", route, token=viewer,
                path_parameters={"uuid": unknown})["statusCode"] == 404
    assert _get(webhook, f"/ui/api/workflows/{submitted.uuid}", route,
                path_parameters={"uuid": submitted.uuid})["statusCode"] == 401


@pytest.mark.parametrize("path", ["/ui/api/overview", "/ui/api/jobs"])
def test_a_throttled_or_reset_index_read_is_a_503_never_a_500(webhook, jobs, viewer, dynamodb_faults, path):
    from faults import operation

    dynamodb_faults.throttle(operation("Query"))
    answer = _get(webhook, path, path, token=viewer)
    assert answer["statusCode"] == 503 and answer["headers"]["Retry-After"] == "1"
    dynamodb_faults.clear()
    dynamodb_faults.reset(operation("Query"))
    assert _get(webhook, path, path, token=viewer)["statusCode"] == 503
