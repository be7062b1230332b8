"""The Agave/Tapis notification adapter (engines/agave.py): a notification in, the events of its workflow of
one job out, no I/O."""

from __future__ import annotations

import copy

import pytest
from frontdoors import engine_sample

from pipelinejobs.engines import agave
from pipelinejobs.engines.model import RUN_FAILED, RUN_FINISHED, RUN_KILLED, RUN_STARTED, RunEvent, TaskEvent
from pipelinejobs.errors import InvalidEvent

FINISHED = engine_sample("agave", "finished")
JOB = FINISHED[0]["body"]["id"]


def notified(status: str, query: dict | None = None, **body) -> list[RunEvent | TaskEvent]:
    sent = {**copy.deepcopy(FINISHED[0]["body"]), "status": status, **body}
    return agave.events(sent, query or {})


def task_steps(events) -> list[str]:
    return [e.event for e in events if isinstance(e, TaskEvent)]


def test_an_agave_job_is_a_workflow_of_one_job():
    events = notified("RUNNING")
    run, task = events
    assert isinstance(run, RunEvent) and (run.kind, run.run, run.name) == (RUN_STARTED, JOB, "quant-s1")
    assert isinstance(task, TaskEvent)
    assert (task.run, task.task, task.name, task.event) == (JOB, JOB, "job", "run")
    assert task.data["appId"] == "kallisto-quant-0.46.1u2"
    assert task.data["executionSystem"] == "hpc-stampede2" and task.data["status"] == "RUNNING"


@pytest.mark.parametrize(("status", "steps", "end"), [
    ("PENDING", ["update"], None), ("STAGING_INPUTS", ["update"], None), ("QUEUED", ["update"], None),
    ("RUNNING", ["run"], None), ("ARCHIVING", ["run", "update"], None),
    ("FINISHED", ["run", "finish"], RUN_FINISHED), ("FAILED", ["fail"], RUN_FAILED),
    ("ARCHIVING_FAILED", ["run", "fail"], RUN_FAILED), ("KILLED", ["fail"], RUN_KILLED),
    ("STOPPED", ["fail"], RUN_KILLED), ("finished", ["run", "finish"], RUN_FINISHED),
])
def test_statuses_map_through_the_table(status, steps, end):
    events = notified(status)
    assert task_steps(events) == steps
    ends = [e.kind for e in events if isinstance(e, RunEvent) and e.kind != RUN_STARTED]
    assert ends == ([end] if end else [])


def test_a_kill_fails_the_job_as_killed():
    fail = next(e for e in notified("STOPPED") if isinstance(e, TaskEvent))
    assert fail.data["failure"] == "killed" and fail.data["reason"] == "Agave says the job is STOPPED"


def test_each_step_has_one_key_whichever_status_said_it():
    running, archiving, finished = notified("RUNNING"), notified("ARCHIVING"), notified("FINISHED")
    assert running[1].key == archiving[1].key == finished[1].key  # the one run
    assert archiving[2].key not in {e.key for e in running + finished}  # a status noted for itself
    assert notified("QUEUED")[1].key != notified("PENDING")[1].key
    assert [e.key for e in notified("FINISHED")] == [e.key for e in finished]  # a duplicate


def test_the_body_s_status_and_id_come_first_then_the_url_s():
    events = notified("RUNNING", {"status": "FAILED", "job": "another"})
    assert task_steps(events) == ["run"] and {e.run for e in events} == {JOB}
    body = {"event": "STOPPED", "owner": "ana"}
    events = agave.events(body, {"status": "STOPPED", "job": JOB})
    assert task_steps(events) == ["fail"] and {e.run for e in events} == {JOB}
    assert events[1].name == "job"  # the same node, though this body names no app


def test_statuses_nobody_maps_mean_nothing():
    assert notified("HEARTBEAT") == []
    assert notified("PERMISSION_GRANT") == []


@pytest.mark.parametrize(("body", "query", "field"), [
    ({"status": "RUNNING"}, {}, "id"),
    ({"id": JOB}, {}, "status"),
    ({"id": JOB, "status": 3}, {"status": ""}, "status"),
    ({"id": JOB}, {"status": "${JOB_STATUS}"}, "status"),
    ({"status": "RUNNING"}, {"job": "$JOB_ID"}, "job"),
])
def test_bad_input_is_refused_naming_the_field(body, query, field):
    with pytest.raises(InvalidEvent) as refused:
        agave.events(body, query)
    assert refused.value.field == field


def test_every_sample_notification_maps():
    for sample in ("finished", "failed-staging", "stopped-status-in-url"):
        for sent in engine_sample("agave", sample):
            body = sent["body"] if isinstance(sent["body"], dict) else {}
            assert agave.events(body, sent["query"])
