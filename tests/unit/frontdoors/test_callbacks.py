"""Runner status words -> PipelineJob events, and callback bodies -> event data."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelinejobs import callbacks, fsm
from pipelinejobs.errors import InvalidEvent


def test_batch_table_is_the_issues():
    assert dict(callbacks.BATCH) == {
        "resource": ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING"),
        "run": ("RUNNING",), "finish": ("SUCCEEDED",), "fail": ("FAILED",),
    }


def test_agave_table_is_the_originals():
    table = callbacks.AGAVE
    assert table["run"] == ("RUNNING",) and table["finish"] == ("FINISHED",)
    assert set(table["fail"]) == {"FAILED", "STOPPED", "ARCHIVING_FAILED", "DELETED"}
    assert {"KILLED", "HEARTBEAT"} <= set(table["update"])
    assert len(table["resource"]) == 14


def test_every_mapped_event_is_one_a_job_token_may_send():
    for table in callbacks.RUNNERS.values():
        assert set(table) <= fsm.CLIENT_EVENTS


def test_no_status_word_means_two_different_events_across_runners():
    meanings: dict[str, set[str]] = {}
    for table in callbacks.RUNNERS.values():
        for event, statuses in table.items():
            for status in statuses:
                meanings.setdefault(status, set()).add(event)
    assert {status: events for status, events in meanings.items() if len(events) > 1} == {}


@pytest.mark.parametrize(("status", "event"), [
    ("running", "run"), (" Succeeded ", "finish"), ("timed_out", "fail"), ("KILLED", "update"),
    ("PROVISIONING", "resource"), ("STOPPED", "fail"), ("who-knows", "update"), ("", "update"), (None, "update"),
])
def test_event_for_status_is_case_insensitive_and_defaults_to_update(status, event):
    assert callbacks.event_for_status(status) == event


def test_a_runner_table_narrows_the_lookup():
    assert callbacks.event_for_status("STOPPED", callbacks.ECS) == "update"  # not in ECS's table
    assert callbacks.event_for_status("queued", callbacks.BATCH) == "update"  # Agave's word, not Batch's


@pytest.mark.parametrize(("body", "content_type", "data"), [
    (None, None, {}),
    ("  ", "application/json", {}),
    ('{"a": 1}', "application/json; charset=utf-8", {"a": 1}),
    ('{"a": 1}', None, {"a": 1}),
    ("a=1&b=&c=2&c=3", "application/x-www-form-urlencoded", {"a": "1", "b": "", "c": ["2", "3"]}),
    ('"text"', "application/json", {"body": "text"}),
    ("not json", "text/plain", {"body": "not json"}),
])
def test_body_data(body, content_type, data):
    assert callbacks.body_data(body, content_type) == data


def test_broken_json_declared_as_json_is_refused():
    with pytest.raises(InvalidEvent) as refused:
        callbacks.body_data("{oops", "application/vnd.api+json")
    assert refused.value.field == "(body)"


def test_callback_message_explicit_event_wins_and_status_is_kept():
    message = callbacks.callback_message("u", token="t", status="FAILED", event="run", data={"x": 1})
    assert (message["event"], message["data"], message["token"]) == ("run", {"x": 1, "status": "FAILED"}, "t")


def test_callback_message_keeps_a_status_the_body_already_has():
    message = callbacks.callback_message("u", token=None, status="RUNNING", event=None, data={"status": "mine"})
    assert message["data"] == {"status": "mine"} and "token" not in message


def test_callback_ids_are_derived_from_content():
    def make(status, data):
        return callbacks.callback_message("u", token="t", status=status, event=None, data=data)["id"]

    assert make("RUNNING", {"a": 1}) != make("running", {"a": 1})  # the runner's spelling is kept in data
    assert make("RUNNING", {"a": 1}) == make("RUNNING", {"a": 1})
    assert make("RUNNING", {"a": 1}) != make("RUNNING", {"a": 2})
    assert make("HEARTBEAT", {}) != make("KILLED", {})  # both "update", told apart by the status kept in data


def test_a_callbacks_own_id_wins_over_the_derived_one():
    message = callbacks.callback_message("u", token="t", status="RUNNING", event=None, data={}, event_id="key-1")
    assert message["id"] == "key-1"


def test_docs_webhook_md_lists_every_status_under_its_event():
    doc = (Path(__file__).resolve().parents[3] / "docs" / "webhook.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line for line in doc.splitlines() if line.startswith("| `")}
    for table in callbacks.RUNNERS.values():
        for event, statuses in table.items():
            assert all(f" {status} " in rows[event] or f" {status} |" in rows[event] for status in statuses), event
