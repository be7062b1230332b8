"""Reading engines' messages: the checks and the event keys every adapter needs, written once.

An engine's message is data from outside: a field we rely on that is missing or of the wrong type is the
sender's fault, told as an :class:`~pipelinejobs.errors.InvalidEvent` naming the field (a 400, nothing
written); a field we do not rely on is kept or ignored, never checked, so a newer engine's extra fields pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidEvent
from ..events import compact_json


def event_key(engine: str, *parts: Any) -> str:
    """An event's key from what identifies it (the run, the task, the attempt, the phase): the same message
    delivered twice, or a later message implying the same step, gets the same key, so it is applied once."""
    return f"{engine}-{hashlib.sha256(compact_json([engine, *parts]).encode()).hexdigest()[:40]}"


def message_object(message: Any, what: str) -> Mapping[str, Any]:
    """The message itself, which must be a JSON object (``what`` says what it should have been)."""
    if not isinstance(message, Mapping):
        raise InvalidEvent.single("(body)", f"must be a JSON object: {what}")
    return message


def required_text(message: Mapping[str, Any], name: str, field: str | None = None) -> str:
    """``message[name]``, a non-empty string; ``field`` is how the error names it (``trace.process``)."""
    value = message.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidEvent.single(field or name, "is required: a non-empty string")
    return value


def optional_object(message: Mapping[str, Any], name: str, field: str | None = None) -> Mapping[str, Any]:
    """``message[name]`` if it is an object, ``{}`` if it is absent or null; anything else is refused."""
    value = message.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidEvent.single(field or name, "must be an object")
    return value


def optional_int(message: Mapping[str, Any], name: str, field: str | None = None) -> int | None:
    """``message[name]`` if it is an integer (a JSON number with no fraction), None if absent or null."""
    value = message.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InvalidEvent.single(field or name, "must be an integer")
    return int(value)


def kept(source: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The fields of ``source`` named in ``names`` that it has (a null one is left out: it says nothing)."""
    return {name: source[name] for name in names if source.get(name) is not None}
