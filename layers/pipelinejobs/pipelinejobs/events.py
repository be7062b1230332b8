"""PipelineJobEvent: parse, validate and normalise an incoming message.

Validation is by the JSON Schema shipped in ``schemas/pipelinejob_event.json``;
this module turns its errors into ``InvalidEvent`` entries that name the field
at fault, and enforces what a schema cannot say (the byte size and depth of ``data``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from .config import MAX_DATA_BYTES, MAX_DATA_DEPTH
from .errors import InvalidEvent, PayloadTooLarge
from .redaction import redact


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


@cache
def _id_validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema()["properties"]["id"])


def compact_json(value: Any) -> str:
    """Canonical JSON: the form sizes and content ids are computed on.

    NaN and Infinity raise ValueError: Python's json reads and writes them, but they
    are not JSON, and EventBridge would refuse a change notification that held one."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)


def _unrepresentable(exc: Exception) -> str:
    if isinstance(exc, UnicodeEncodeError):
        return "holds text that is not valid Unicode (a lone surrogate)"
    return "holds NaN or Infinity, which JSON does not allow" if isinstance(exc, ValueError) else "is not JSON"


#: What a value nested deeper than the limit is told (a body Python's parser gives up on, too: it is deeper still).
TOO_DEEP = f"nests objects and arrays more than {MAX_DATA_DEPTH} levels deep (the limit)"


def nested_too_deeply(value: Any) -> bool:
    """Whether ``value`` nests objects and arrays more than MAX_DATA_DEPTH levels deep (``value`` is level 1).

    A loop, not recursion: it must answer for any depth a parser let through, and a value that passes can
    then be copied, stored, read and served by recursive code without meeting Python's recursion limit.
    Only containers are queued (about as fast as ``compact_json`` on a 32 KiB body)."""
    pending = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        node, level = pending.pop()
        if level > MAX_DATA_DEPTH:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                pending.append((child, level + 1))
    return False


def check_data_size(data: Any, field_name: str = "data") -> None:
    """Refuse data too deep (400) or over the size limit (413), and data nothing downstream could store or send
    on (400): a sender's JSON may nest hundreds deep or escape a lone surrogate, and Python's json accepts NaN.

    Every door checks here (``parse_event``, and callbacks before their content id), so the limits that hold at
    intake are the ones everything on the way out can rely on."""
    if nested_too_deeply(data):
        raise InvalidEvent.single(field_name, TOO_DEEP)
    try:
        size = len(compact_json(data).encode())
    except (ValueError, TypeError) as exc:  # UnicodeEncodeError is a ValueError
        raise InvalidEvent.single(field_name, _unrepresentable(exc)) from None
    if size > MAX_DATA_BYTES:
        raise PayloadTooLarge.single(field_name, f"is {size} bytes as JSON; the limit is {MAX_DATA_BYTES}")


#: How to say, in words, what each pattern-checked field must look like.
_FORMATS = {
    "uuid": "a lowercase, hyphenated uuid",
    "token": "16 (job token) or 32 (admin token) lowercase hex characters",
    "id": "1-128 characters from A-Z a-z 0-9 . _ : @ -",
}


#: JSON's types, as a problem names them.
_JSON_TYPES = {"string": "a string", "object": "an object", "array": "an array", "integer": "an integer",
               "number": "a number", "boolean": "true or false", "null": "null"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {str: "string", dict: "object", list: "array", int: "integer", float: "number"}.get(type(value), "object")


def shown(value: Any) -> str:
    """A sender's value as an error message may quote it: a string or number (redacted if it is shaped like a
    token: messages are logged, and a token sent in the wrong field is still a secret), anything else only by
    its JSON type, which is all a sender needs to fix it (and keeps a token sent in a list out of it)."""
    if _json_type(value) in ("string", "integer", "number"):
        return repr(redact(value))
    return _JSON_TYPES[_json_type(value)]


def field_of(error) -> list[str]:
    """Name the field(s) a jsonschema error is about, as a sender would."""
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        return [error.message.split("'")[1]]
    if error.validator == "additionalProperties":
        extra = map(redact, set(error.instance) - set(error.schema.get("properties", {})))  # a key may be a token
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
    if error.validator == "type":
        expected = [error.validator_value] if isinstance(error.validator_value, str) else error.validator_value
        wanted = " or ".join(_JSON_TYPES[t] for t in expected)
        return f"must be {wanted}, not {_JSON_TYPES[_json_type(error.instance)]}"
    if error.validator == "enum":
        return f"{shown(error.instance)} is not one of {', '.join(map(str, error.validator_value))}"
    return error.message.replace(repr(error.instance), shown(error.instance))  # jsonschema's words, our quoting


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


#: A derived id: ``c-`` and 40 hex digits of SHA-256 (content_id). Ids of this form are deduplicated per scope.
_CONTENT_ID = re.compile(r"c-[0-9a-f]{40}")


def content_id(uuid: str, event: str, data: Any) -> str:
    """An event id derived from content, for callbacks that carry none.

    A job runner that delivers the same callback twice sends the same bytes, so
    the second delivery maps to the same id and is applied once. The same bytes
    also come from a new attempt of the job (a rerun, a retry, a periodic
    heartbeat), so a derived id is one event only within the job's scope (its
    attempt and generation, ``JobRecord.scope``): the store remembers the scope
    each derived id was applied in (see ``is_derived``).
    """
    digest = hashlib.sha256(compact_json([uuid, event, data]).encode()).hexdigest()
    return f"c-{digest[:40]}"


def is_derived(event_id: str | None) -> bool:
    """Whether ``event_id`` is one ``content_id`` made (scoped to the job's attempt), rather than a sender's own
    choice (an ``id`` in the message, an Idempotency-Key), which is one event forever."""
    return event_id is not None and _CONTENT_ID.fullmatch(event_id) is not None


def explicit_id(value: str, field_name: str) -> str:
    """A sender's own event id (an ``Idempotency-Key`` header), checked by the PipelineJobEvent schema's ``id``
    rule and returned as it is: it *is* the event's id. A bad one is an InvalidEvent naming ``field_name``."""
    if next(_id_validator().iter_errors(value), None) is not None:
        raise InvalidEvent.single(field_name, f"must be {_FORMATS['id']}")
    return value
