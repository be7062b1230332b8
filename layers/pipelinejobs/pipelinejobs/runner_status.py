"""Callbacks from job runners: their status words, mapped to PipelineJob events.

A job runner knows its own vocabulary (Agave's QUEUED, AWS Batch's RUNNABLE,
ECS's PROVISIONING, Step Functions' TIMED_OUT), not ours, so the webhook takes
``?status=`` and maps it through these tables. They are data, one per runner,
merged into one lookup; where two runners use the same word for different
things, the earlier table in ``RUNNERS`` wins (a unit test lists the clashes).
ECS's STOPPED is in no table: "the task ended" says nothing about success, so
a webhook's STOPPED is Agave's failure, and the EventBridge path for ECS decides
from the containers' exit codes (``intake.aws_events``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs, unquote

from .errors import InvalidEvent
from .events import TOO_DEEP, check_data_size, content_id

#: What a status nobody knows becomes, as in the original: history is kept, the state is not moved.
UNKNOWN_STATUS_EVENT = "update"

#: Agave's job statuses, as the original PipelineJobs mapped them for its job runner (it also mapped UPDATED to
#: an event that does not exist, ``updated``: dropped here, so UPDATED is "update" as any unknown status is).
AGAVE: Mapping[str, tuple[str, ...]] = {
    "resource": ("CREATED", "PERMISSION_GRANT", "PERMISSION_REVOKE", "PENDING", "STAGING_INPUTS", "CLEANING_UP",
                 "ARCHIVING", "STAGING_JOB", "PAUSED", "QUEUED", "SUBMITTING", "STAGED", "PROCESSING_INPUTS",
                 "ARCHIVING_FINISHED"),
    "run": ("RUNNING",),
    "finish": ("FINISHED",),
    "fail": ("FAILED", "STOPPED", "ARCHIVING_FAILED", "DELETED"),
    "update": ("KILLED", "HEARTBEAT", "UPDATED"),
}

#: AWS Batch job statuses.
BATCH: Mapping[str, tuple[str, ...]] = {
    "resource": ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING"),
    "run": ("RUNNING",),
    "finish": ("SUCCEEDED",),
    "fail": ("FAILED",),
}

#: Step Functions execution statuses (PENDING_REDRIVE: a redrive was asked for, it is not running yet).
STEP_FUNCTIONS: Mapping[str, tuple[str, ...]] = {
    "resource": ("PENDING_REDRIVE",),
    "run": ("RUNNING",),
    "finish": ("SUCCEEDED",),
    "fail": ("FAILED", "TIMED_OUT", "ABORTED"),
}

#: ECS task lastStatus values but STOPPED (see above). The winding-down ones only note progress.
ECS: Mapping[str, tuple[str, ...]] = {
    "resource": ("PROVISIONING", "PENDING", "ACTIVATING"),
    "run": ("RUNNING",),
    "update": ("DEACTIVATING", "STOPPING", "DEPROVISIONING"),
    "fail": ("DELETED",),
}

#: Every runner's table, in precedence order.
RUNNERS: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {"agave": AGAVE, "batch": BATCH, "stepfunctions": STEP_FUNCTIONS, "ecs": ECS}
)


def _merged() -> Mapping[str, str]:
    lookup: dict[str, str] = {}
    for table in RUNNERS.values():
        for event, statuses in table.items():
            for status in statuses:
                lookup.setdefault(status, event)
    return MappingProxyType(lookup)


#: status (upper case) -> event, for every runner at once.
STATUS_EVENTS: Mapping[str, str] = _merged()


def event_for_status(status: str | None, table: Mapping[str, tuple[str, ...]] | None = None) -> str:
    """The event a runner's status means, matched case-insensitively; unknown (or none) -> update.

    ``table`` narrows the lookup to one runner's table (the EventBridge paths know their runner).
    """
    key = (status or "").strip().upper()
    if table is not None:
        return next((event for event, statuses in table.items() if key in statuses), UNKNOWN_STATUS_EVENT)
    return STATUS_EVENTS.get(key, UNKNOWN_STATUS_EVENT)


#: Placeholders a callback URL's status may still hold if the runner did not fill it in: ``job.callback``'s
#: ``__STATUS__`` (nothing in a shell, curl's URL globbing or Snakemake's formatting touches it), the
#: ``${STATUS}`` it offered before (which still works when filled in), and what curl's globbing leaves of that
#: (``{STATUS}`` is a one-item set to curl, so ``${STATUS}`` goes out as ``$STATUS``).
STATUS_PLACEHOLDER = "__STATUS__"
PLACEHOLDERS = frozenset({STATUS_PLACEHOLDER, "${STATUS}", "$STATUS"})


def _placeholder(value: str) -> str | None:
    """The placeholder ``value`` is, once any layers of URL-encoding are taken off, or None."""
    for _ in range(3):  # a URL may be encoded once by its template and once more by the client sending it
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    value = value.strip().upper()
    return value if value in PLACEHOLDERS else None


def callback_status(query_status: str | None, data: Mapping[str, Any]) -> str | None:
    """The runner's status for a callback: the URL's ``status`` if it says one, else the body's (a string).

    The URL is written for this API, so it wins; the body's ``status`` is for runners whose body says it and
    whose URL cannot, such as Agave's notifications (the original PipelineJobs read those two, the body's
    first). An explicit ``event`` wins over both (``callback_message``). A placeholder nobody filled in says
    nothing: the other place decides, and if neither says a status it is a 400 naming where the placeholder
    is, for the runner was set up wrong and guessing an ``update`` would leave the job waiting for ever.
    """
    unfilled: tuple[str, str] | None = None
    for field_name, value in (("status", query_status), ("data.status", data.get("status"))):
        if not isinstance(value, str) or not value:  # absent, empty (status=), or not a word
            continue
        placeholder = _placeholder(value)
        if placeholder is None:
            return value
        unfilled = unfilled or (field_name, placeholder)
    if unfilled is not None:
        field_name, placeholder = unfilled
        raise InvalidEvent.single(field_name, f"is the placeholder {placeholder}, not filled in: the runner must "
                                              "put its status there (e.g. RUNNING, FINISHED, FAILED)")
    return None


def _is_json_media_type(media_type: str) -> bool:
    """application/json, and any type with the structured-syntax suffix +json (RFC 6839)."""
    return media_type == "application/json" or media_type.endswith("+json")


class _NotJson(ValueError):
    """NaN, Infinity or -Infinity: Python's json reads them, but they are not JSON (RFC 8259)."""


def _refuse_constant(name: str) -> Any:
    raise _NotJson(name)


def _strict_json(text: str) -> Any:
    """``text`` as JSON, strictly: raises ValueError (``_NotJson`` for NaN and Infinity) if it is not JSON, and
    refuses (400) JSON nested deeper than Python's parser goes, far past the data depth limit."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise InvalidEvent.single("(body)", TOO_DEEP) from None


def _as_data(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"body": value}


def body_data(body: str | None, content_type: str | None) -> dict[str, Any]:
    """A callback body as event data, by its media type (docs/webhook.md, "Callback bodies", has the table).

    Job runners post whatever they post (Agave sends its job record as JSON, a shell script a form, text or
    nothing), so every body is kept, and read as what its sender labelled it: JSON only where the media type
    says JSON (strictly: no NaN or Infinity), a form as its fields, text as text, ``{"body": text}``. Two
    labels are read more kindly, because common clients get them wrong: ``curl -d '{...}'`` labels JSON a
    form, so a form body that is one JSON object and nothing else is that object (a real form cannot be:
    its braces and quotes would be percent-encoded); and a body with no media type at all is JSON if it
    parses as JSON, else text.
    """
    if not body or not body.strip():
        return {}
    media_type = (content_type or "").split(";")[0].strip().lower()
    if _is_json_media_type(media_type):
        try:
            return _as_data(_strict_json(body))
        except _NotJson as exc:
            raise InvalidEvent.single("(body)", f"is not valid JSON: {exc} is not a JSON value") from None
        except ValueError:
            raise InvalidEvent.single("(body)", "is not valid JSON") from None
    if media_type == "application/x-www-form-urlencoded":
        single_object = _json_or_not(body)
        if isinstance(single_object, dict):
            return single_object
        fields = parse_qs(body, keep_blank_values=True)
        return {name: values[0] if len(values) == 1 else values for name, values in fields.items()}
    if not media_type:
        value = _json_or_not(body)
        return {"body": body} if value is _NOT_JSON else _as_data(value)
    return {"body": body}


_NOT_JSON = object()


def _json_or_not(text: str) -> Any:
    """``text`` as strict JSON, or ``_NOT_JSON``."""
    try:
        return _strict_json(text)
    except ValueError:
        return _NOT_JSON


def callback_message(uuid: str, *, token: str | None, status: str | None, event: str | None,
                     data: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """The PipelineJobEvent a callback stands for.

    An explicit ``event`` (a PipelineJob event, spelt exactly: only runners' status
    words vary) wins over ``status``. The runner's status is kept in
    ``data`` (unless the body already says one), so an ``update`` still shows
    what the runner reported. Without ``event_id`` (the runner's Idempotency-Key)
    the event id is derived from the content, so a runner that delivers the same
    callback twice has it applied once within an attempt (``events.content_id``).
    """
    name = event or event_for_status(status)
    if status and "status" not in data:
        data = {**data, "status": status}
    check_data_size(data)  # before the content id is computed on it: it must be JSON, and not too large
    message = {"uuid": uuid, "event": name, "data": data, "id": event_id or content_id(uuid, name, data)}
    if token is not None:
        message["token"] = token
    return message
