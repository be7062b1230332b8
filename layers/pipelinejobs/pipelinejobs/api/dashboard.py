"""The dashboard's routes on the webhook's HTTP API: the page at ``/ui``, its files, and the JSON it reads.

* ``GET /ui``: the page (no job data in it: it asks for a token, then reads the API below);
* ``GET /ui/static/{name}``: its script and style sheet, from the package (``pipelinejobs/dashboard/static``);
* ``GET /ui/api/overview?since=``: jobs counted by state, in total and per pipeline;
* ``GET /ui/api/jobs?pipeline=&state=&since=&after=&limit=``: a page of the job table (by state, newest first);
* ``GET /ui/api/jobs/{uuid}``: a job's page (record, history, attempts, logs' location);
* ``GET /ui/api/fsm``: the PipelineJob state machine as a graph;
* ``GET /ui/api/workflows?since=&state=``, ``GET /ui/api/workflows/{uuid}``: workflows, and one's graph.

Every ``/ui/api`` answer needs a viewer's or an admin's token in an ``Authorization: Bearer`` header (never in
the URL: a fragment fills the page's field, and the page sends the header). A viewer token only reads; the
completion callback URL a job's creator gave is shown to an admin's token only (it may hold a secret of the
receiver's). Answers carry an ETag and a ``304`` answers an ``If-None-Match`` that matches, so the page's polling
costs no transfer when nothing changed (the reads are made either way). Every answer carries a strict
Content-Security-Policy: scripts, styles and requests of the page's own origin only, nothing inline.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from .. import tokens
from ..config import Config
from ..dashboard import views
from ..errors import InvalidEvent, Unauthorized
from ..identity import UUID
from ..service import get_store
from . import contract

router = Router()

#: What the page may load and run: its own files and its own API, nothing inline, no frames, no forms.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_SECURITY_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff",
                     "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
#: The page's files, by name, with their media types: nothing else under static/ is served.
STATIC_FILES = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
                "app.css": "text/css; charset=utf-8"}


@cache
def _static(name: str) -> str:
    return resources.files("pipelinejobs.dashboard").joinpath("static", name).read_text()


def _file(name: str) -> Response:
    return Response(status_code=200, content_type=STATIC_FILES[name], body=_static(name),
                    headers={**_SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/ui")
def page() -> Response:
    """Operation ``dashboardPage``."""
    return _file("index.html")


@router.get("/ui/static/<name>")
def static_file(name: str) -> Response:
    """Operation ``dashboardFile``: one of the page's files, or 404."""
    if name == "index.html" or name not in STATIC_FILES:
        return Response(status_code=404, content_type=content_types.APPLICATION_JSON, headers=_SECURITY_HEADERS,
                        body={"error": "NotFound", "message": f"no such file of the dashboard: {name[:100]}"})
    return _file(name)


def _role(config: Config) -> str:
    """``viewer`` or ``admin``, by the request's bearer token; else Unauthorized, with what to do about it."""
    token = tokens.bearer(router.current_event.headers.get("authorization"))
    if not token:
        raise Unauthorized("the dashboard needs a viewer's or an admin's token in an Authorization: Bearer header "
                           "(an admin mints one: pipelinejobs token viewer)")
    secret = tokens.secret(config)
    if tokens.is_pipeline_token(token):  # a viewer token's form: its expiry is readable before its HMAC is checked
        if not tokens.pipeline_token_unexpired(token):
            raise Unauthorized("this viewer token has expired: ask an admin for a new one (pipelinejobs token viewer)")
        if tokens.verify_viewer_token(secret, token):
            return "viewer"
    elif tokens.verify_admin_token(secret, token):
        return "admin"
    raise Unauthorized("this is not a valid viewer or admin token (an admin token lives 1-2 hours: "
                       "pipelinejobs token viewer mints a longer-lived viewer token)")


def _json(body: dict[str, Any]) -> Response:
    """``body`` as JSON with its ETag; a 304 with no body when the request's If-None-Match names that ETag."""
    text = json.dumps(body, separators=(",", ":"))
    etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:24] + '"'
    headers = {**_SECURITY_HEADERS, "ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in (router.current_event.headers.get("if-none-match") or "").split(", "):
        return Response(status_code=304, headers=headers)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=text, headers=headers)


@router.get("/ui/api/overview")
def overview() -> Response:
    """Operation ``dashboardOverview``."""
    params = contract.query("dashboardOverview", router.current_event.query_string_parameters)
    config = Config.from_env()
    _role(config)
    return _json(views.overview(get_store(config), params["since"]))


@router.get("/ui/api/jobs")
def job_table() -> Response:
    """Operation ``dashboardJobs``."""
    params = contract.query("dashboardJobs", router.current_event.query_string_parameters)
    config = Config.from_env()
    _role(config)
    return _json(views.job_table(get_store(config), pipeline=params["pipeline"], state=params["state"],
                                 since=params["since"], after=params["after"], limit=params["limit"]))


@router.get("/ui/api/jobs/<uuid>")
def job_page(uuid: str) -> Response:
    """Operation ``dashboardJob``: the job's page, or 404 (said only to a token holder)."""
    if not UUID.fullmatch(uuid):  # a 400, as GET /jobs/{uuid} answers it
        raise InvalidEvent.single("uuid", "is not a job's uuid (lowercase, hyphenated)")
    config = Config.from_env()
    role = _role(config)
    found = views.job_page(get_store(config), uuid)
    job = found["job"]
    return _json({
        "job": contract.served("JobView", contract.servable(job).to_dict()) | {"attempt": job.attempt},
        "history": [contract.servable(entry).to_dict() for entry in found["history"]],
        "history_truncated": found["history_truncated"],
        "attempts": found["attempts"],
        "logs": found["logs"],
        "callback_url": job.callback_url if role == "admin" else None,
        "role": role,
    })


@router.get("/ui/api/fsm")
def fsm_graph() -> Response:
    """Operation ``dashboardFsm``."""
    _role(Config.from_env())
    return _json(views.fsm_graph())



@router.get("/ui/api/workflows")
def workflow_list() -> Response:
    """Operation ``dashboardWorkflows``."""
    params = contract.query("dashboardWorkflows", router.current_event.query_string_parameters)
    _role(Config.from_env())
    return _json(views.workflow_list(params["since"], params["state"]))


@router.get("/ui/api/workflows/<uuid>")
def workflow_page(uuid: str) -> Response:
    """Operation ``dashboardWorkflow``: the workflow's page, or 404 (said only to a token holder)."""
    if not UUID.fullmatch(uuid):
        raise InvalidEvent.single("uuid", "is not a workflow's uuid (lowercase, hyphenated)")
    _role(Config.from_env())
    return _json(views.workflow_page(uuid))
