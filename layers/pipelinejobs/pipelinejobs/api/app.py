"""The webhook: an API Gateway HTTP API served by a Powertools event handler.

Routes (the contract is ``openapi.json`` beside this module, written by hand and
served at ``/openapi.json``; docs/webhook.md says it in prose):

* ``POST /jobs/{uuid}/events?token=&status=&event=``: a job runner's callback;
* ``POST /events``: a PipelineJobEvent as the JSON body;
* ``GET /jobs/{uuid}?token=&limit=&after=&order=``: the job, its last event and a page of history;
* ``POST /jobs``: get or create a job, for a caller holding a pipeline token (or an admin's);
* ``/engines/...``: engines' own protocols (api/engines.py).

A token may also come in the ``Authorization: Bearer`` header (``POST /jobs`` takes it only there):
a job's or an admin's stands in for a request with no token of its own; a pipeline token moves
its pipeline's jobs, checked once the job is read (``service.handle_event``).

Query parameters are checked against the document (:mod:`.contract`), and every
error is answered with its status code and caller-safe body, the same
``{field, problem}`` shape the event schema uses; anything unexpected is a bare
500 with no trace.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError

from .. import creation, deadline, events, frontdoor, observability, runner_status, tokens
from ..config import Config
from ..errors import InvalidEvent
from ..events import TOO_DEEP, parse_event
from ..service import authorize, get_store
from . import contract, dashboard, engines

app = APIGatewayHttpResolver()


def _answer(exc: Exception) -> Response:
    status, body = frontdoor.error_answer(exc)
    headers = {"Retry-After": "1"} if status == frontdoor.RETRY_LATER else None
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def _body_text() -> str | None:
    """The request's body as text (``frontdoor.body_text``)."""
    return frontdoor.body_text(app.current_event)


def _json_body(what: str = "a PipelineJobEvent") -> Any:
    """POST /events' (or POST /jobs') body, parsed."""
    body = _body_text()
    if not body or not body.strip():
        raise InvalidEvent.single("(body)", f"is required: {what} as a JSON object")
    try:
        return json.loads(body)
    except ValueError:
        raise InvalidEvent.single("(body)", "is not valid JSON") from None
    except RecursionError:  # deeper than Python's parser goes, far past the data depth limit
        raise InvalidEvent.single("(body)", TOO_DEEP) from None


def _bearer() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (the scheme's case does not matter, RFC 7235)."""
    return tokens.bearer(app.current_event.headers.get("authorization"))


def _credentials(token: str | None) -> tuple[str | None, str | None]:
    """The token to check as the request's own (the one it carries, else the header's) and, apart, a pipeline
    token from the header, which is checked against the job's pipeline once the job is read."""
    bearer = _bearer()
    if tokens.is_pipeline_token(bearer):
        return token, bearer
    return token or bearer, None


def _api_url(config: Config) -> str:
    """The API's base URL, for callback URLs: ``PIPELINEJOBS_API_URL`` when set, else the one this request came
    to (its domain and stage; API Gateway sets ``X-Forwarded-Proto``)."""
    if config.api_url:
        return config.api_url
    request = app.current_event
    context = request.request_context
    stage = "" if context.stage in ("$default", None) else f"/{context.stage}"
    return f"{request.headers.get('x-forwarded-proto', 'https')}://{context.domain_name}{stage}"


@app.exception_handler(ServiceError)
def _no_such_route(exc: ServiceError) -> Response:
    """Powertools' own answers (no route for this path or method) keep their status, in our body shape."""
    return Response(status_code=exc.status_code, content_type=content_types.APPLICATION_JSON,
                    body={"error": type(exc).__name__, "message": exc.msg})


@app.exception_handler(Exception)
def _any_error(exc: Exception) -> Response:
    return _answer(exc)


@app.post("/jobs/<uuid>/events")
def post_callback(uuid: str) -> dict[str, Any]:
    """Operation ``postCallback``: the runner's status (the URL's, else the body's; or an explicit event) and its
    body as the event's data."""
    request = app.current_event
    params = contract.query("postCallback", request.query_string_parameters)
    token, pipeline_token = _credentials(params["token"])
    data = runner_status.body_data(_body_text(), request.headers.get("content-type"))
    status = runner_status.callback_status(params["status"], data)
    message = runner_status.callback_message(uuid, token=token, status=status, event=params["event"],
                                         data=data, event_id=_idempotency_key())
    return frontdoor.apply(message, source="webhook", pipeline_token=pipeline_token).to_dict()


@app.post("/events")
def post_event() -> dict[str, Any]:
    """Operation ``postEvent``. An Idempotency-Key header is the event's id: same key, one event, whatever the
    body (its ``id`` included)."""
    message, key = _json_body(), _idempotency_key()
    if key is not None and isinstance(message, dict):
        if "id" in message:
            parse_event(message)  # the body must be valid as sent: the key replaces a valid id, never a broken one
        message = {**message, "id": key}
    token, pipeline_token = _credentials(message.get("token") if isinstance(message, dict) else None)
    if token and isinstance(message, dict):
        message = {**message, "token": token}
    return frontdoor.apply(message, source="webhook", pipeline_token=pipeline_token).to_dict()


#: The request header a runner names its event with: same key, one event, whatever the body (docs/webhook.md).
IDEMPOTENCY_KEY = "Idempotency-Key"


def _idempotency_key() -> str | None:
    """The request's Idempotency-Key, checked as an event id (it becomes the event's id, unchanged), or None."""
    value = app.current_event.headers.get(IDEMPOTENCY_KEY)  # Powertools' headers ignore case
    return None if value is None else events.explicit_id(value, IDEMPOTENCY_KEY)


@app.post("/jobs")
def post_job() -> Response:
    """Operation ``createJob``: get or create a job; 201 if it was created now, 200 if it existed."""
    request = contract.body("createJob", _json_body("a job request"))
    config = Config.from_env()
    job, created = creation.create_job(request["pipeline"], request.get("data"), parents=request.get("parents"),
                                       callback_url=request.get("callback_url"), token=_bearer(),
                                       heartbeat_seconds=request.get("heartbeat_seconds"), config=config)
    observability.correlate(job.uuid)
    observability.logger().info("job created" if created else "job found", extra={
        "uuid": job.uuid, "pipeline_uuid": job.pipeline_uuid, "state": job.state})
    token = tokens.job_token(tokens.secret(config), job.uuid)
    answer = {**job.to_dict(), "token": token, "callback": creation.callback_url(_api_url(config), job.uuid, token)}
    return Response(status_code=201 if created else 200, content_type=content_types.APPLICATION_JSON,
                    body=contract.served("JobCreated", answer))


@app.get("/jobs/<uuid>")
def get_job(uuid: str) -> dict[str, Any]:
    """Operation ``getJob``. Reading a job takes what sending it a client event takes: its token or an admin's,
    checked before any read."""
    params = contract.query("getJob", app.current_event.query_string_parameters)
    token, _ = _credentials(params["token"])  # a pipeline token may create and move jobs, not read them
    config = Config.from_env()
    authorize(parse_event({"uuid": uuid, "event": "update", **({"token": token} if token else {})}), config)
    observability.correlate(uuid)
    store = get_store(config)
    job = contract.servable(store.get_job(uuid)).to_dict()
    page = store.history(uuid, after=params["after"], limit=params["limit"], newest_first=params["order"] == "newest")
    return contract.served("JobView", {**job, "history": [contract.servable(entry).to_dict() for entry in page.entries],
                                       "next_cursor": page.next_cursor})


@app.get("/openapi.json")
def openapi_document() -> Response:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=contract.document_text())


app.include_router(dashboard.router)  # /ui: the dashboard (api/dashboard.py)
app.include_router(engines.router)  # /engines: what Snakemake, Nextflow, Cromwell... send (api/engines.py)


@observability.lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with deadline.from_lambda(context):  # retries end before the function does: a 503, not a timeout
        return app.resolve(event, context)
