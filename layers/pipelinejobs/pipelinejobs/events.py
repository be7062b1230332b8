"""PipelineJobEvent: parse, validate and normalise an incoming message.

Validation is by the JSON Schema shipped in ``schemas/pipelinejob_event.json``;
this module turns its errors into ``InvalidEvent`` entries that name the field
at fault, and enforces what a schema cannot say (the byte size of ``data``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from .config import MAX_DATA_BYTES
from .errors import InvalidEvent, PayloadTooLarge


@dataclass(frozen=True)
class Event:
    uuid: str
    event: str
    data: dict[str, Any] = field(default_factory=dict)
    token: str | None = field(default=None, repr=False)
    id: str | None = None


@cache
def schema() -> dict:
    return json.loads(resources.files(__package__).joinpath("schemas/pipelinejob_event.json").read_text())


@cache
def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def compact_json(value: Any) -> str:
    """Canonical JSON: the form sizes and content ids are computed on.

    NaN and Infinity raise ValueError: Python's json reads and writes them, but they
    are not JSON, and EventBridge would refuse a change notification that held one."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)


def _unrepresentable(exc: Exception) -> str:
    if isinstance(exc, UnicodeEncodeError):
        return "holds text that is not valid Unicode (a lone surrogate)"
    if isinstance(exc, RecursionError):
        return "is nested too deeply"
    return "holds NaN or Infinity, which JSON does not allow" if isinstance(exc, ValueError) else "is not JSON"


def check_data_size(data: Any, field_name: str = "data") -> None:
    """Refuse data over the size limit (413), and data nothing downstream could store or send on (400):
    a sender's JSON may escape a lone surrogate or nest thousands deep, and Python's json accepts NaN."""
    try:
        size = len(compact_json(data).encode())
    except (ValueError, TypeError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
        raise InvalidEvent.single(field_name, _unrepresentable(exc)) from None
    if size > MAX_DATA_BYTES:
        raise PayloadTooLarge.single(field_name, f"is {size} bytes as JSON; the limit is {MAX_DATA_BYTES}")


#: How to say, in words, what each pattern-checked field must look like.
_FORMATS = {
    "uuid": "a lowercase, hyphenated uuid",
    "token": "16 (job token) or 32 (admin token) lowercase hex characters",
    "id": "1-128 characters from A-Z a-z 0-9 . _ : @ -",
}


def field_of(error) -> list[str]:
    """Name the field(s) a jsonschema error is about, as a sender would."""
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        return [error.message.split("'")[1]]
    if error.validator == "additionalProperties":
        extra = set(error.instance) - set(error.schema.get("properties", {}))
        return sorted(f"{path}.{name}" if path else name for name in extra)
    if error.validator == "oneOf" and not path:
        return ["event"]
    return [path or "(message)"]


def problem(error) -> str:
    """A jsonschema error about a PipelineJobEvent field, in words a sender can act on."""
    if error.validator == "oneOf" and not error.absolute_path:
        both = isinstance(error.instance, dict) and "event" in error.instance and "name" in error.instance
        return "give 'event' or its alias 'name', not both" if both else "is required"
    if error.validator == "additionalProperties":
        return "is not a PipelineJobEvent field"
    if error.validator == "required":
        return "is required"
    if error.validator == "pattern":
        return f"must be {_FORMATS.get(str(error.absolute_path[-1]), error.validator_value)}"
    if error.validator == "enum":
        return f"{error.instance!r} is not one of {', '.join(error.validator_value)}"
    return error.message


def parse_event(message: Any) -> Event:
    """Validate ``message`` against the schema and return it normalised."""
    if not isinstance(message, dict):
        raise InvalidEvent.single("(message)", f"must be a JSON object, not {type(message).__name__}")
    errors = sorted(_validator().iter_errors(message), key=lambda e: list(e.absolute_path))
    if errors:
        raise InvalidEvent([{"field": f, "problem": problem(e)} for e in errors for f in field_of(e)])
    data = message.get("data") or {}
    check_data_size(data)
    return Event(
        uuid=message["uuid"],
        event=message.get("event") or message["name"],
        data=data,
        token=message.get("token"),
        id=message.get("id"),
    )


def content_id(uuid: str, event: str, data: Any) -> str:
    """An event id derived from content, for callbacks that carry none.

    A job runner that delivers the same callback twice sends the same bytes,
    so the second delivery maps to the same id and is applied once.
    """
    digest = hashlib.sha256(compact_json([uuid, event, data]).encode()).hexdigest()
    return f"c-{digest[:40]}"
