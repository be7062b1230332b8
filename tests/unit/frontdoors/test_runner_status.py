"""Runner status words -> PipelineJob events, and callback bodies -> event data."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelinejobs import fsm, runner_status
from pipelinejobs.errors import InvalidEvent


def test_batch_table_is_the_issues():
    assert dict(runner_status.BATCH) == {
        "resource": ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING"),
        "run": ("RUNNING",), "finish": ("SUCCEEDED",), "fail": ("FAILED",),
    }


def test_agave_table_is_the_originals():
    table = runner_status.AGAVE
    assert table["run"] == ("RUNNING",) and table["finish"] == ("FINISHED",)
    assert set(table["fail"]) == {"FAILED", "STOPPED", "ARCHIVING_FAILED", "DELETED"}
    assert {"KILLED", "HEARTBEAT"} <= set(table["update"])
    assert len(table["resource"]) == 14


def test_every_mapped_event_is_one_a_job_token_may_send():
    for table in runner_status.RUNNERS.values():
        assert set(table) <= fsm.CLIENT_EVENTS


def test_no_status_word_means_two_different_events_across_runners():
    meanings: dict[str, set[str]] = {}
    for table in runner_status.RUNNERS.values():
        for event, statuses in table.items():
            for status in statuses:
                meanings.setdefault(status, set()).add(event)
    assert {status: events for status, events in meanings.items() if len(events) > 1} == {}


@pytest.mark.parametrize(("status", "event"), [
    ("running", "run"), (" Succeeded ", "finish"), ("timed_out", "fail"), ("KILLED", "update"),
    ("PROVISIONING", "resource"), ("STOPPED", "fail"), ("who-knows", "update"), ("", "update"), (None, "update"),
])
def test_event_for_status_is_case_insensitive_and_defaults_to_update(status, event):
    assert runner_status.event_for_status(status) == event


def test_a_runner_table_narrows_the_lookup():
    assert runner_status.event_for_status("STOPPED", runner_status.ECS) == "update"  # not in ECS's table
    assert runner_status.event_for_status("queued", runner_status.BATCH) == "update"  # Agave's word, not Batch's


@pytest.mark.parametrize(("body", "content_type", "data"), [
    (None, None, {}),
    ("  ", "application/json", {}),
    ('{"a": 1}', "application/json; charset=utf-8", {"a": 1}),
    ('{"a": 1}', "Application/Problem+JSON", {"a": 1}),
    ('{"a": 1}', None, {"a": 1}),
    ("a=1&b=&c=2&c=3", "application/x-www-form-urlencoded", {"a": "1", "b": "", "c": ["2", "3"]}),
    ('"text"', "application/json", {"body": "text"}),
    ("not json", "text/plain", {"body": "not json"}),
    # issue 10 item 3: text is text, whatever it looks like
    ("NaN", "text/plain", {"body": "NaN"}),
    ("Infinity", "text/plain", {"body": "Infinity"}),
    ("-Infinity", "text/plain; charset=utf-8", {"body": "-Infinity"}),
    ("42", "text/plain", {"body": "42"}),
    ('{"a": 1}', "text/plain", {"body": '{"a": 1}'}),
    ("<job status='FINISHED'/>", "application/xml", {"body": "<job status='FINISHED'/>"}),
    # curl -d labels JSON a form: one JSON object and nothing else is that object; anything else is a form
    ('{"progress":0.5}', "application/x-www-form-urlencoded", {"progress": 0.5}),
    (' {"a": {"b": [1]}}\n', "application/x-www-form-urlencoded", {"a": {"b": [1]}}),
    ("[1, 2]", "application/x-www-form-urlencoded", {"[1, 2]": ""}),
    ('{"a": NaN}', "application/x-www-form-urlencoded", {'{"a": NaN}': ""}),
    ("%7B%22a%22%3A1%7D=", "application/x-www-form-urlencoded", {'{"a":1}': ""}),  # a real form's key
    # no media type: JSON if it is JSON (strictly), else text
    ("42", None, {"body": 42}),
    ("null", "", {"body": None}),
    ("NaN", None, {"body": "NaN"}),
    ("a=1", None, {"body": "a=1"}),
])
def test_body_data(body, content_type, data):
    assert runner_status.body_data(body, content_type) == data


@pytest.mark.parametrize(("body", "problem"), [
    ("{oops", "is not valid JSON"),
    ("NaN", "is not valid JSON: NaN is not a JSON value"),
    ('{"x": -Infinity}', "is not valid JSON: -Infinity is not a JSON value"),
    ('{"a":' * 5000 + "{}" + "}" * 5000, "nests objects and arrays more than 32 levels deep (the limit)"),
])
def test_a_body_labelled_json_that_is_not_json_is_refused(body, problem):
    with pytest.raises(InvalidEvent) as refused:
        runner_status.body_data(body, "application/vnd.api+json")
    assert refused.value.errors == [{"field": "(body)", "problem": problem}]


@pytest.mark.parametrize(("query", "data", "status"), [
    ("RUNNING", {}, "RUNNING"),
    (None, {"id": "job-1", "status": "FINISHED"}, "FINISHED"),  # issue 10 item 2: Agave's body, or a form field
    ("", {"status": "FINISHED"}, "FINISHED"),                   # status= says nothing
    ("FAILED", {"status": "FINISHED"}, "FAILED"),               # the URL, written for this API, wins
    (None, {"status": 0}, None),                                # not a status word: an exit status, say
    (None, {}, None),
    ("__STATUS__", {"status": "RUNNING"}, "RUNNING"),           # an unfilled placeholder decides nothing
    ("running", {"status": "${STATUS}"}, "running"),
])
def test_the_status_is_the_urls_else_the_bodys(query, data, status):
    assert runner_status.callback_status(query, data) == status


@pytest.mark.parametrize(("query", "data", "field", "placeholder"), [
    ("${STATUS}", {}, "status", "${STATUS}"),
    ("__STATUS__", {}, "status", "__STATUS__"),
    ("%24%7BSTATUS%7D", {}, "status", "${STATUS}"),                     # encoded once more than the URL needed
    ("%255F%255FSTATUS%255F%255F", {"status": ""}, "status", "__STATUS__"),  # ... or twice
    ("$STATUS", {}, "status", "$STATUS"),                               # what curl's globbing makes of ${STATUS}
    (" __status__ ", {}, "status", "__STATUS__"),
    (None, {"status": "__STATUS__"}, "data.status", "__STATUS__"),
    ("${STATUS}", {"status": "$%7BSTATUS%7D"}, "status", "${STATUS}"),
])
def test_an_unfilled_placeholder_is_a_400_saying_so(query, data, field, placeholder):
    with pytest.raises(InvalidEvent) as refused:
        runner_status.callback_status(query, data)
    assert refused.value.errors == [{"field": field, "problem": f"is the placeholder {placeholder}, not filled in: "
                                     "the runner must put its status there (e.g. RUNNING, FINISHED, FAILED)"}]



def test_callback_message_explicit_event_wins_and_status_is_kept():
    message = runner_status.callback_message("u", token="t", status="FAILED", event="run", data={"x": 1})
    assert (message["event"], message["data"], message["token"]) == ("run", {"x": 1, "status": "FAILED"}, "t")


def test_callback_message_keeps_a_status_the_body_already_has():
    message = runner_status.callback_message("u", token=None, status="RUNNING", event=None, data={"status": "mine"})
    assert message["data"] == {"status": "mine"} and "token" not in message


def test_callback_ids_are_derived_from_content():
    def make(status, data):
        return runner_status.callback_message("u", token="t", status=status, event=None, data=data)["id"]

    assert make("RUNNING", {"a": 1}) != make("running", {"a": 1})  # the runner's spelling is kept in data
    assert make("RUNNING", {"a": 1}) == make("RUNNING", {"a": 1})
    assert make("RUNNING", {"a": 1}) != make("RUNNING", {"a": 2})
    assert make("HEARTBEAT", {}) != make("KILLED", {})  # both "update", told apart by the status kept in data


def test_a_callbacks_own_id_wins_over_the_derived_one():
    message = runner_status.callback_message("u", token="t", status="RUNNING", event=None, data={}, event_id="key-1")
    assert message["id"] == "key-1"


def test_docs_webhook_md_lists_every_status_under_its_event():
    doc = (Path(__file__).resolve().parents[3] / "docs" / "webhook.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line for line in doc.splitlines() if line.startswith("| `")}
    for table in runner_status.RUNNERS.values():
        for event, statuses in table.items():
            assert all(f" {status} " in rows[event] or f" {status} |" in rows[event] for status in statuses), event
