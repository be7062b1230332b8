"""The webhook: an API Gateway HTTP API served by a Powertools event handler.

Routes (the contract is docs/webhook.md; the OpenAPI document is generated from
these declarations, committed as ``openapi.json`` and served at ``/openapi.json``):

* ``POST /jobs/{uuid}/events?token=&status=&event=``: a job runner's callback;
* ``POST /events``: a PipelineJobEvent as the JSON body;
* ``GET /jobs/{uuid}?token=``: the job, its last event and a page of history.

Every error is answered with its status code and caller-safe body; request
validation failures become 400s in the same ``{field, problem}`` shape the
event schema uses, and anything unexpected is a bare 500 with no trace.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from .. import callbacks, frontdoor, observability
from ..config import MAX_DATA_BYTES, Config
from ..errors import InvalidEvent
from ..events import parse_event
from ..records import Outcome
from ..service import authorize, get_store
from .models import ErrorBody, JobView

app = APIGatewayHttpResolver(enable_validation=True)

#: Longest history page one request may ask for.
MAX_PAGE = 500

_ERROR = {"application/json": {"model": ErrorBody}}
_AUTH = {401: {"description": "Missing, forged or expired token (the same whether or not the job "
                              "exists).", "content": _ERROR},
         403: {"description": "A job token used for an event only an admin may send.", "content": _ERROR}}
_NOT_FOUND = {404: {"description": "No such job (only said to an authorised caller).", "content": _ERROR}}
_EVENT_ANSWERS: dict[int, Any] = {
    200: {"description": "Applied, or a duplicate of an event already applied: the job's state after it."},
    400: {"description": "Not a valid event; ``errors`` names every field at fault. Nothing was written.",
          "content": _ERROR},
    **_AUTH,
    **_NOT_FOUND,
    409: {"description": "The event is not allowed in the job's state; the refusal is recorded in its history.",
          "content": _ERROR},
    413: {"description": f"The event's data is over {MAX_DATA_BYTES // 1024} KiB as compact JSON.",
          "content": _ERROR},
    503: {"description": "Too many concurrent events for this job, or DynamoDB throttled: nothing was written; "
                         "retry later.", "content": _ERROR},
}

Token = Annotated[str | None, Query(description="The job's token (16 hex), or an admin token (32 hex).")]


def _answer(exc: Exception) -> Response:
    status, body = frontdoor.error_answer(exc)
    headers = {"Retry-After": "1"} if status == frontdoor.RETRY_LATER else None
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response:
    # loc is ("query", "limit") for a parameter, ("body", ...) for the body (a JSON object, taken whole).
    problems = [{"field": "(body)" if error["loc"][0] == "body" else ".".join(str(p) for p in error["loc"][1:]),
                 "problem": error["msg"]} for error in exc.errors()]
    return _answer(InvalidEvent(problems))


@app.exception_handler([UnicodeDecodeError, RecursionError])
def _unreadable_body(exc: Exception) -> Response:
    """A body that is not UTF-8 (a binary upload, base64-encoded by API Gateway) or JSON nested deeper than
    Python's parser goes: the sender's fault, raised while the body is read (by Powertools for POST /events)."""
    problem = "is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "is nested too deeply"
    return _answer(InvalidEvent.single("(body)", problem))


@app.exception_handler(ServiceError)
def _no_such_route(exc: ServiceError) -> Response:
    """Powertools' own answers (no route for this path or method) keep their status, in our body shape."""
    return Response(status_code=exc.status_code, content_type=content_types.APPLICATION_JSON,
                    body={"error": type(exc).__name__, "message": exc.msg})


@app.exception_handler(Exception)
def _any_error(exc: Exception) -> Response:
    return _answer(exc)


@app.post("/jobs/<uuid>/events", summary="A job runner's callback", tags=["events"], responses=_EVENT_ANSWERS,
          description="``status`` (matched case-insensitively) is mapped to an event through the runner tables "
                      "(Agave, AWS Batch, ECS, Step Functions; unknown: update); an explicit ``event`` wins. "
                      "The body (JSON, a form, or nothing) becomes the event's data. The event id is derived "
                      "from the content, so a callback delivered twice is applied once.")
def post_callback(
    uuid: str,
    token: Token = None,
    status: Annotated[str | None, Query(description="The runner's own status word.")] = None,
    event: Annotated[str | None, Query(description="The PipelineJob event; wins over status.")] = None,
) -> Outcome:
    request = app.current_event
    data = callbacks.body_data(request.decoded_body, request.headers.get("content-type"))
    message = callbacks.callback_message(uuid, token=token, status=status, event=event, data=data)
    return frontdoor.apply(message, source="webhook").to_dict()


@app.post("/events", summary="Send a PipelineJobEvent", tags=["events"], responses=_EVENT_ANSWERS)
def post_event(
    message: Annotated[dict[str, Any], Body(description="A PipelineJobEvent: uuid, event (or name), data, token, "
                                                         "and an optional idempotency id.")],
) -> Outcome:
    return frontdoor.apply(message, source="webhook").to_dict()


@app.get("/jobs/<uuid>", summary="A job and a page of its history", tags=["jobs"],
         responses={200: {"description": "The job, its last event and one page of its history."},
                    400: {"description": "Malformed uuid, token or paging parameter.", "content": _ERROR},
                    **_AUTH, **_NOT_FOUND})
def get_job(
    uuid: str,
    token: Token = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="History entries per page.")] = 100,
    after: Annotated[int | None, Query(ge=0, description="The previous page's next_cursor.")] = None,
    order: Annotated[Literal["oldest", "newest"], Query(description="History order.")] = "oldest",
) -> JobView:
    # Reading a job takes what sending it a client event takes: its token or an admin's, checked before any read.
    config = Config.from_env()
    authorize(parse_event({"uuid": uuid, "event": "update", **({"token": token} if token else {})}), config)
    observability.correlate(uuid)
    store = get_store(config)
    job = store.get_job(uuid).to_dict()
    job.pop("callback_url")  # the receiver's URL may hold its own credentials: not the runner's to see
    page = store.history(uuid, after=after, limit=limit, newest_first=order == "newest")
    return {**job, "history": [entry.to_dict() for entry in page.entries], "next_cursor": page.next_cursor}


@app.get("/openapi.json", include_in_schema=False)
def openapi_document():  # no return annotation: validation would try to model Response
    document = resources.files(__package__).joinpath("openapi.json").read_text()
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=document)


@observability.lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
