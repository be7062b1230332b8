"""The Nextflow weblog adapter (engines/nextflow.py): one message in, run and task events out, no I/O."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from frontdoors import engine_sample

from pipelinejobs.engines import nextflow
from pipelinejobs.engines.model import RUN_FAILED, RUN_FINISHED, RUN_STARTED, RunEvent, TaskEvent
from pipelinejobs.errors import InvalidEvent

SUCCEEDED = engine_sample("nextflow", "succeeded-with-retry")
FAILED = engine_sample("nextflow", "failed")


def message(run: list[dict[str, Any]], event: str, task: str | None = None, attempt: int = 1) -> dict[str, Any]:
    """The sample run's ``event`` message (for ``task``'s ``attempt``), a copy the test may change."""
    found = next(m for m in run if m["event"] == event and (task is None or (
        m["trace"]["name"] == task and m["trace"]["attempt"] == attempt)))
    return copy.deepcopy(found)


def tasks(events: list[RunEvent | TaskEvent]) -> list[TaskEvent]:
    """The task events of a message's events, after the run's ``started`` every message implies."""
    assert isinstance(events[0], RunEvent) and events[0].kind == RUN_STARTED
    assert all(isinstance(e, TaskEvent) for e in events[1:])
    return events[1:]


def steps(events: list[RunEvent | TaskEvent]) -> list[str]:
    return [e.event for e in tasks(events)]


def test_started_announces_the_run_named_after_its_run_name_with_its_parameters():
    (event,) = nextflow.events(message(SUCCEEDED, "started"))
    assert isinstance(event, RunEvent)
    assert (event.engine, event.run, event.kind, event.name) == (
        "nextflow", "170aa09c-105f-49d0-99b4-8eb6a146e4a7", RUN_STARTED, "friendly_pesquet")
    assert event.data["parameters"]["genome"] == "GRCh38"
    assert event.data["workflow"]["commandLine"].startswith("nextflow run lab/rnaseq")
    assert "manifest" not in event.data["workflow"]  # only the fields worth keeping


def test_the_readme_s_params_is_read_as_parameters():
    sent = message(SUCCEEDED, "started")
    sent["metadata"]["params"] = sent["metadata"].pop("parameters")
    (event,) = nextflow.events(sent)
    assert event.data["parameters"]["genome"] == "GRCh38"


def test_a_task_is_a_job_named_after_its_process_and_tag_in_the_node_of_its_process():
    (submitted,) = tasks(nextflow.events(message(SUCCEEDED, "process_submitted", "QUANT (s1)")))
    assert (submitted.event, submitted.task, submitted.name) == ("update", "QUANT (s1)", "QUANT")
    assert submitted.attempt == submitted.data["submit"] and submitted.data["attempt"] == 1  # ordered by submission
    kept = submitted.data
    assert kept["native_id"].startswith("a3f1e2d4-") and kept["hash"] and kept["workdir"].startswith("/home/ana")
    assert (kept["cpus"], kept["memory"], kept["queue"]) == (2, 4294967296, "spot-queue")
    assert "script" not in kept and "env" not in kept  # large, and may hold secrets


def test_a_completion_repeats_the_run_before_it_with_its_own_key():
    submitted = tasks(nextflow.events(message(SUCCEEDED, "process_submitted", "QUANT (s1)")))
    started = tasks(nextflow.events(message(SUCCEEDED, "process_started", "QUANT (s1)")))
    completed = tasks(nextflow.events(message(SUCCEEDED, "process_completed", "QUANT (s1)")))
    assert [e.event for e in submitted] == ["update"]
    assert [e.event for e in started] == ["run"]
    assert [e.event for e in completed] == ["run", "finish"]
    assert started[0].key == completed[0].key
    assert len({submitted[0].key, *(e.key for e in completed)}) == 3
    finish = completed[-1]
    assert (finish.data["exit_code"], finish.data["duration"], finish.data["realtime"]) == (0, 65000, 60100)


def test_a_duplicate_has_the_same_keys():
    sent = message(SUCCEEDED, "process_completed", "FASTQC (s2)")
    assert [e.key for e in nextflow.events(sent)] == [e.key for e in nextflow.events(copy.deepcopy(sent))]


def test_a_retry_is_the_next_attempt_of_the_same_job():
    first = tasks(nextflow.events(message(SUCCEEDED, "process_completed", "QUANT (s2)", attempt=1)))
    second = tasks(nextflow.events(message(SUCCEEDED, "process_completed", "QUANT (s2)", attempt=2)))
    assert [e.event for e in first + second] == ["run", "fail", "run", "finish"]
    assert {e.task for e in first + second} == {"QUANT (s2)"}
    assert [e.data["attempt"] for e in first + second] == [1, 1, 2, 2]
    assert first[0].attempt == first[1].attempt < second[0].attempt == second[1].attempt  # the tracker's order
    assert not {e.key for e in first} & {e.key for e in second}
    assert first[-1].data["task_id"] != second[-1].data["task_id"]
    fail = first[-1].data
    assert fail["exit_code"] == 137 and fail["reason"] == "Nextflow task QUANT (s2) failed (exit 137)"


def test_an_aborted_task_failed_as_killed():
    (*_, aborted) = nextflow.events(message(FAILED, "process_completed", "QUANT (s2)"))
    assert aborted.event == "fail" and aborted.data["failure"] == "killed"


def test_a_completion_with_no_status_we_know_is_decided_by_its_exit_code():
    sent = message(SUCCEEDED, "process_completed", "QUANT (s1)")
    sent["trace"]["status"] = "SOMETHING_NEW"
    assert steps(nextflow.events(sent))[-1] == "finish"
    sent["trace"]["exit"] = 3
    assert steps(nextflow.events(sent))[-1] == "fail"


def test_a_failure_before_the_task_started_does_not_say_it_ran():
    sent = message(FAILED, "process_completed", "QUANT (s1)")
    sent["trace"]["start"] = None
    assert steps(nextflow.events(sent)) == ["fail"]


def test_an_error_with_a_trace_fails_that_task_as_its_completion_did():
    error = nextflow.events(message(FAILED, "error"))
    completed = nextflow.events(message(FAILED, "process_completed", "QUANT (s1)"))
    assert steps(error) == ["run", "fail"]
    assert [e.key for e in error] == [e.key for e in completed]


def test_an_error_without_a_trace_fails_the_run():
    sent = message(FAILED, "error")
    sent["trace"] = None
    (started, event) = nextflow.events(sent)
    assert started.kind == RUN_STARTED and event.kind == RUN_FAILED and event.reason


def test_every_message_says_the_run_started_as_started_itself_does():
    (started,) = nextflow.events(message(SUCCEEDED, "started"))
    for sent in SUCCEEDED:
        implied = nextflow.events(sent)[0]
        assert (implied.kind, implied.key, implied.name) == (RUN_STARTED, started.key, "friendly_pesquet")


def test_completed_settles_the_run_by_its_success():
    (_, finished) = nextflow.events(message(SUCCEEDED, "completed"))
    (_, failed) = nextflow.events(message(FAILED, "completed"))
    assert finished.kind == RUN_FINISHED and finished.reason is None
    assert finished.data["workflow"]["stats"]["succeededCount"] == 6
    assert failed.kind == RUN_FAILED
    assert failed.reason == "Process `QUANT (s1)` terminated with an error exit status (1)"
    (started,) = nextflow.events(message(FAILED, "started"))
    assert len({started.key, failed.key, nextflow.events(message(FAILED, "error"))[-1].key}) == 3


def test_the_readme_s_success_beside_workflow_is_read_too():
    sent = message(SUCCEEDED, "completed")
    sent["metadata"]["success"] = sent["metadata"]["workflow"].pop("success")
    assert nextflow.events(sent)[-1].kind == RUN_FINISHED


def test_a_resumed_launch_of_the_same_run_id_has_new_keys():
    sent = message(SUCCEEDED, "process_completed", "FASTQC (s1)")
    resumed = {**copy.deepcopy(sent), "runName": "happy_hopper"}
    assert not {e.key for e in nextflow.events(sent)} & {e.key for e in nextflow.events(resumed)}
    assert {e.run for e in nextflow.events(resumed)} == {sent["runId"]}


def test_a_task_without_a_name_is_named_after_its_process_and_tag():
    sent = message(SUCCEEDED, "process_submitted", "QUANT (s1)")
    del sent["trace"]["name"]
    assert tasks(nextflow.events(sent))[0].task == "QUANT (s1)"
    sent["trace"]["tag"] = None
    assert tasks(nextflow.events(sent))[0].task == "QUANT"


def test_unknown_fields_and_events_are_tolerated():
    sent = message(SUCCEEDED, "process_started", "QUANT (s1)")
    sent["somethingNew"] = {"x": 1}
    sent["trace"]["gpu_util"] = 99
    assert steps(nextflow.events(sent)) == ["run"]
    assert nextflow.events({**sent, "event": "process_cached"}) == []


def test_every_sample_message_maps():
    for sent in SUCCEEDED + FAILED:
        assert nextflow.events(sent)


@pytest.mark.parametrize(("change", "field"), [
    (lambda m: m.pop("runId"), "runId"),
    (lambda m: m.update(runId=7), "runId"),
    (lambda m: m.pop("event"), "event"),
    (lambda m: m.pop("trace"), "trace"),
    (lambda m: m.update(trace=["QUANT"]), "trace"),
    (lambda m: m["trace"].pop("process"), "trace.process"),
    (lambda m: m["trace"].update(attempt="two"), "trace.attempt"),
    (lambda m: m["trace"].update(exit=1.5), "trace.exit"),
])
def test_bad_input_is_refused_naming_the_field(change, field):
    sent = message(SUCCEEDED, "process_completed", "QUANT (s1)")
    change(sent)
    with pytest.raises(InvalidEvent) as refused:
        nextflow.events(sent)
    assert refused.value.field == field


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidEvent) as refused:
        nextflow.events(["started"])
    assert refused.value.field == "(body)"
