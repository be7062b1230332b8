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
from urllib.parse import parse_qs

from .errors import InvalidEvent
from .events import check_data_size, content_id

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


def body_data(body: str | None, content_type: str | None) -> dict[str, Any]:
    """A callback body as event data: a JSON object as it is, a form as its fields, nothing as ``{}``.

    Job runners post whatever they post (Agave sends its job record as JSON, a
    shell script may send a form or nothing), so every body is kept; a JSON
    value that is not an object is wrapped as ``{"body": value}``.
    """
    if not body or not body.strip():
        return {}
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        fields = parse_qs(body, keep_blank_values=True)
        return {name: values[0] if len(values) == 1 else values for name, values in fields.items()}
    try:
        value = json.loads(body)
    except ValueError:
        if media_type.endswith("json"):
            raise InvalidEvent.single("(body)", "is not valid JSON") from None
        return {"body": body}
    return value if isinstance(value, dict) else {"body": value}


def callback_message(uuid: str, *, token: str | None, status: str | None, event: str | None,
                     data: dict[str, Any]) -> dict[str, Any]:
    """The PipelineJobEvent a callback stands for.

    An explicit ``event`` (a PipelineJob event, spelt exactly: only runners' status
    words vary) wins over ``status``. The runner's status is kept in
    ``data`` (unless the body already says one), so an ``update`` still shows
    what the runner reported. The event id is derived from the content, so a
    runner that delivers the same callback twice has it applied once.
    """
    name = event or event_for_status(status)
    if status and "status" not in data:
        data = {**data, "status": status}
    check_data_size(data)  # before the content id is computed on it: it must be JSON, and not too large
    message = {"uuid": uuid, "event": name, "data": data, "id": content_id(uuid, name, data)}
    if token is not None:
        message["token"] = token
    return message
