"""PipelineJobEvent validation under generated input (hypothesis): any JSON at all is either a valid
event, returned as sent, or refused with InvalidEvent naming the fields at fault; nothing else escapes.

The example-based cases are in test_event_schema.py; these add the inputs nobody writes by hand:
odd unicode everywhere, every wrong type in every field, sizes on the limit in multibyte text, and
data Python's json reads but nothing downstream could store or send.
"""

from __future__ import annotations

import re

import pytest
from hostile import (
    INJECTIONS,
    PATH_TRICKS,
    json_objects,
    json_values,
    nested,
    odd_text,
    past_the_depth_limit,
    too_deep,
    unrepresentable_data,
)
from hypothesis import given
from hypothesis import strategies as st

from pipelinejobs import fsm
from pipelinejobs.config import MAX_DATA_BYTES
from pipelinejobs.errors import InvalidEvent, PayloadTooLarge
from pipelinejobs.events import Event, parse_event, schema

FIELDS = set(schema()["properties"])

uuids = st.uuids().map(str)
valid_tokens = st.from_regex(r"[0-9a-f]{16}|[0-9a-f]{32}", fullmatch=True)
valid_ids = st.from_regex(r"[A-Za-z0-9._:@-]{1,128}", fullmatch=True)


@st.composite
def valid_messages(draw) -> dict:
    message = {"uuid": draw(uuids), draw(st.sampled_from(["event", "name"])): draw(st.sampled_from(fsm.EVENTS))}
    for key, values in (("data", json_objects), ("token", valid_tokens), ("id", valid_ids)):
        if draw(st.booleans()):
            message[key] = draw(values)
    return message


def not_matching(pattern: str) -> st.SearchStrategy:
    """Anything but a string matching ``pattern``: other JSON types, odd text, injections."""
    text = odd_text | st.sampled_from(INJECTIONS + PATH_TRICKS) | st.builds(str.upper, uuids)
    return (json_values.filter(lambda v: not isinstance(v, str))
            | text.filter(lambda s: not re.fullmatch(pattern, s)))


#: One fault per field: (field the error must name, the faulty value).
ONE_FAULT = {
    "uuid": not_matching(schema()["properties"]["uuid"]["pattern"]),
    "event": json_values.filter(lambda v: v not in fsm.EVENTS),
    "data": json_values.filter(lambda v: not isinstance(v, dict)),
    "token": not_matching(schema()["properties"]["token"]["pattern"]),
    "id": not_matching(schema()["properties"]["id"]["pattern"]),
}


@given(message=json_values | st.dictionaries(st.sampled_from(sorted(FIELDS)) | odd_text, json_values))
def test_any_json_is_refused_by_field_or_is_an_event(message):
    try:
        event = parse_event(message)
    except InvalidEvent as refused:
        present = set(message) if isinstance(message, dict) else set()
        assert refused.errors and all(e["problem"] for e in refused.errors)
        assert {e["field"] for e in refused.errors} <= FIELDS | present | {"(message)"}
    else:
        assert isinstance(event, Event) and event.uuid == message["uuid"]


@given(message=valid_messages())
def test_valid_events_with_odd_unicode_data_are_accepted_as_sent(message):
    event = parse_event(message)
    assert (event.uuid, event.event, event.data, event.token, event.id) == (
        message["uuid"], message.get("event") or message["name"], message.get("data", {}), message.get("token"),
        message.get("id"))


@given(message=valid_messages(), fault=st.sampled_from(sorted(ONE_FAULT)), data=st.data())
def test_one_faulty_field_is_named_alone(message, fault, data):
    if fault == "event":
        message.pop("name", None)
    message[fault] = data.draw(ONE_FAULT[fault])
    with pytest.raises(InvalidEvent) as refused:
        parse_event(message)
    assert type(refused.value) is InvalidEvent and refused.value.status_code == 400
    assert {e["field"] for e in refused.value.errors} == {fault}


@given(message=valid_messages(), extra=odd_text.filter(lambda k: k not in FIELDS), value=json_values)
def test_an_extra_field_is_named(message, extra, value):
    with pytest.raises(InvalidEvent) as refused:
        parse_event({**message, extra: value})
    assert {e["field"] for e in refused.value.errors} == {extra}


#: Bytes each character takes in compact JSON (NUL is written as the escape \u0000).
CHAR_BYTES = {"a": 1, "é": 2, "€": 3, "\u202e": 3, "\U0001f600": 4, "\x00": 6}
#: Bytes of {"blob":""} in compact JSON.
FRAME_BYTES = 11


@given(size=st.integers(MAX_DATA_BYTES - 8, MAX_DATA_BYTES + 8), char=st.sampled_from(sorted(CHAR_BYTES)),
       uuid=uuids)
def test_the_size_limit_counts_utf8_bytes_of_compact_json(size, char, uuid):
    count, rest = divmod(size - FRAME_BYTES, CHAR_BYTES[char])
    data = {"blob": char * count + "a" * rest}  # exactly `size` bytes as compact JSON
    message = {"uuid": uuid, "event": "update", "data": data}
    if size <= MAX_DATA_BYTES:
        assert parse_event(message).data == data
    else:
        with pytest.raises(PayloadTooLarge) as refused:
            parse_event(message)
        assert refused.value.field == "data" and str(size) in refused.value.errors[0]["problem"]


@given(uuid=uuids, data=unrepresentable_data | past_the_depth_limit | too_deep.map(nested))
def test_data_no_one_downstream_could_take_is_a_400_on_data(uuid, data):
    with pytest.raises(InvalidEvent) as refused:
        parse_event({"uuid": uuid, "event": "update", "data": data})
    assert type(refused.value) is InvalidEvent
    assert [e["field"] for e in refused.value.errors] == ["data"]
