"""PipelineJobEvent validation: every fault is named by field, nothing slips through."""

from __future__ import annotations

import json

import pytest
from hostile import nested
from jsonschema import Draft202012Validator

from pipelinejobs.config import MAX_DATA_BYTES, MAX_DATA_DEPTH
from pipelinejobs.errors import InvalidEvent, PayloadTooLarge
from pipelinejobs.events import content_id, explicit_id, is_derived, parse_event, schema

UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
TOKEN = "0123456789abcdef"


def fields(exc: InvalidEvent) -> set[str]:
    return {e["field"] for e in exc.errors}


def test_schema_file_is_a_valid_2020_12_schema():
    Draft202012Validator.check_schema(schema())
    assert schema()["additionalProperties"] is False


def test_valid_event_is_normalised():
    event = parse_event({"uuid": UUID, "event": "run", "data": {"a": [1, 2]}, "token": TOKEN, "id": "cb-1"})
    assert (event.uuid, event.event, event.data, event.token, event.id) == (UUID, "run", {"a": [1, 2]}, TOKEN, "cb-1")


def test_name_is_an_alias_of_event_and_data_defaults_to_empty():
    event = parse_event({"uuid": UUID, "name": "update"})
    assert event.event == "update" and event.data == {} and event.id is None


@pytest.mark.parametrize(
    ("message", "field", "problem"),
    [
        ({"event": "run"}, "uuid", "is required"),
        ({"uuid": UUID}, "event", "is required"),
        ({"uuid": UUID, "event": "run", "name": "run"}, "event", "not both"),
        ({"uuid": UUID, "event": "explode"}, "event", "is not one of"),
        ({"uuid": UUID, "event": "run", "colour": "red"}, "colour", "not a PipelineJobEvent field"),
        ({"uuid": "../../etc/passwd", "event": "run"}, "uuid", "lowercase, hyphenated uuid"),
        ({"uuid": UUID.upper(), "event": "run"}, "uuid", "lowercase, hyphenated uuid"),
        ({"uuid": UUID, "event": "run", "token": "XYZ"}, "token", "lowercase hex"),
        ({"uuid": UUID, "event": "run", "data": [1, 2]}, "data", "must be an object, not an array"),
        ({"uuid": UUID, "event": "run", "id": "a b"}, "id", "1-128 characters"),
        ({"uuid": 7, "event": "run"}, "uuid", "must be a string, not an integer"),
    ],
)
def test_each_fault_names_its_field(message: dict, field: str, problem: str):
    with pytest.raises(InvalidEvent) as bad:
        parse_event(message)
    assert field in fields(bad.value)
    assert any(problem in e["problem"] for e in bad.value.errors if e["field"] == field), bad.value.errors
    assert bad.value.status_code == 400


def test_all_faults_are_reported_at_once():
    with pytest.raises(InvalidEvent) as bad:
        parse_event({"uuid": "nope", "event": "explode", "extra": 1})
    assert fields(bad.value) == {"uuid", "event", "extra"}


@pytest.mark.parametrize("message", [None, [], "run", 42])
def test_non_object_message_is_refused(message):
    with pytest.raises(InvalidEvent) as bad:
        parse_event(message)
    assert bad.value.field == "(message)"


def test_data_over_the_size_limit_is_413():
    data = {"blob": "x" * MAX_DATA_BYTES}
    with pytest.raises(PayloadTooLarge) as big:
        parse_event({"uuid": UUID, "event": "update", "data": data})
    assert big.value.field == "data" and big.value.status_code == 413
    assert str(MAX_DATA_BYTES) in big.value.errors[0]["problem"]


def test_data_at_the_size_limit_is_accepted():
    padding = MAX_DATA_BYTES - len(json.dumps({"blob": ""}, separators=(",", ":")))
    assert parse_event({"uuid": UUID, "event": "update", "data": {"blob": "x" * padding}}).data


def test_data_deeper_than_the_depth_limit_is_a_400_on_data():
    """Issue 10 item 4: 500 levels were accepted, then every read of the job failed. ``nested(n)`` is n + 1 levels
    deep (``data`` itself is level 1); arrays count as levels too."""
    assert parse_event({"uuid": UUID, "event": "update", "data": nested(MAX_DATA_DEPTH - 1)}).data
    arrays = {"a": [[[]]]}  # 4 levels
    for value in (nested(MAX_DATA_DEPTH), nested(500), {"a": [nested(MAX_DATA_DEPTH - 1)]}):
        with pytest.raises(InvalidEvent) as deep:
            parse_event({"uuid": UUID, "event": "update", "data": value})
        assert deep.value.errors == [{"field": "data", "problem": f"nests objects and arrays more than "
                                                                  f"{MAX_DATA_DEPTH} levels deep (the limit)"}]
    assert parse_event({"uuid": UUID, "event": "update", "data": {"x": nested(MAX_DATA_DEPTH - 6), **arrays}}).data


def test_content_id_is_stable_and_content_sensitive():
    assert content_id(UUID, "run", {"a": 1, "b": 2}) == content_id(UUID, "run", {"b": 2, "a": 1})
    assert content_id(UUID, "run", {"a": 1}) != content_id(UUID, "run", {"a": 2})
    assert content_id(UUID, "run", {}) != content_id(UUID, "finish", {})
    parse_event({"uuid": UUID, "event": "run", "id": content_id(UUID, "run", {})})  # ids fit the schema


def test_only_content_ids_are_derived():
    assert is_derived(content_id(UUID, "run", {}))
    assert not any(is_derived(i) for i in (None, "callback-42", "c-123", "c-" + "A" * 40, UUID))


@pytest.mark.parametrize("key", ["", "two words", "a" * 129, '"quoted"', "job#1", "line\n"])
def test_an_explicit_id_is_checked_by_the_id_rule_and_named(key):
    with pytest.raises(InvalidEvent) as refused:
        explicit_id(key, "Idempotency-Key")
    assert refused.value.errors == [{"field": "Idempotency-Key",
                                     "problem": "must be 1-128 characters from A-Z a-z 0-9 . _ : @ -"}]
    assert explicit_id(UUID, "Idempotency-Key") == UUID
