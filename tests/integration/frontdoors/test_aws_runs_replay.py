"""Step Functions executions and HealthOmics runs a user started, replayed through the events function on DynamoDB
Local: each event delivered twice and out of order (the end before the start), the job ends once, with its
history and attempt; executions that name no job, or are our own state machine's, write nothing."""

from __future__ import annotations

import json
import uuid as uuidlib
from typing import Any

import pytest
from frontdoors import ROOT, SAMPLE_UUID, LambdaContext

from pipelinejobs import attempt_history

from support import applied

SAMPLES = ROOT / "events" / "engines"
OURS = "arn:aws:states:us-east-1:123456789012:stateMachine:pipelinejobs-dev-job"


def load(engine: str, name: str, uuid: str) -> dict[str, Any]:
    return json.loads((SAMPLES / engine / f"{name}.json").read_text().replace(SAMPLE_UUID, uuid))


def running(ended: dict[str, Any]) -> dict[str, Any]:
    """The RUNNING event of the execution or run ``ended`` is the end of, as the service sent it before."""
    detail = {key: value for key, value in ended["detail"].items() if key not in ("error", "cause", "output")}
    detail.update(status="RUNNING", **({"stopDate": None} if "stopDate" in detail else {}))
    return {**ended, "id": str(uuidlib.uuid4()), "detail": detail}


def replay(events_function, job, engine: str, *names: str) -> list[dict[str, Any]]:
    """The events named (``running``: the RUNNING of the last end named before it), in that order."""
    events: list[dict[str, Any]] = []
    for name in names:
        events.append(running(events[-1]) if name == "running" else load(engine, name, job.uuid))
    return [events_function(event, LambdaContext()) for event in events]


@pytest.mark.parametrize(("engine", "ended", "state", "failure"), [
    ("stepfunctions", "succeeded", "FINISHED", None),
    ("stepfunctions", "exit_nonzero", "FAILED", "exit_nonzero"),
    ("stepfunctions", "timeout", "FAILED", "timeout"),
    ("stepfunctions", "killed", "FAILED", "killed"),
    ("healthomics", "succeeded", "FINISHED", None),
    ("healthomics", "unknown", "FAILED", "unknown"),
    ("healthomics", "killed", "FAILED", "killed"),
])
def test_the_end_before_the_start_and_each_twice_moves_the_job_once(events_function, job, engine, ended, state,
                                                                   failure):
    answers = replay(events_function, job, engine, ended, "running", ended, "running")

    job.refresh()
    assert (job.state, answers[0]["statusCode"], answers[2]["body"]["duplicate"]) == (state, 200, True)
    [attempt] = attempt_history.fold(job.history)
    assert (attempt.launcher, attempt.failure, attempt.succeeded) == (engine, failure, state == "FINISHED")
    assert attempt.reason if failure else attempt.reason is None
    if engine == "stepfunctions" or state == "FINISHED":  # an end implies the run: the late RUNNING is a duplicate
        assert [a["statusCode"] for a in answers] == [200] * 4
        assert [a["body"]["duplicate"] for a in answers] == [False, True, True, True]
        assert applied(job) == ["create", "run", "finish" if state == "FINISHED" else "fail"]
    else:  # a HealthOmics run may fail before it runs: a late RUNNING is refused, and kept in its history
        assert [a["statusCode"] for a in answers] == [200, 409, 200, 409]
        assert applied(job) == ["create", "fail"]


def test_in_order_with_every_status_a_run_passes_through_and_again(events_function, job):
    answers = replay(events_function, job, "healthomics", "pending", "running", "succeeded")
    again = replay(events_function, job, "healthomics", "pending", "running", "succeeded")

    assert [a["statusCode"] for a in answers + again] == [200] * 6
    assert [a["body"]["duplicate"] for a in answers + again] == [False] * 3 + [True] * 3
    assert (job.refresh().state, applied(job)) == ("FINISHED", ["create", "resource", "run", "finish"])


def test_a_start_that_comes_after_its_end_is_refused_and_kept(events_function, job):
    """A late PENDING says nothing the end did not: the FSM refuses it, and the job's history keeps it."""
    answers = replay(events_function, job, "healthomics", "succeeded", "pending")

    assert [a["statusCode"] for a in answers] == [200, 409]
    assert (job.refresh().state, applied(job)) == ("FINISHED", ["create", "run", "finish"])
    assert (job.history[-1].name, job.history[-1].applied) == ("resource", False)


@pytest.mark.parametrize("engine", ["stepfunctions", "healthomics"])
def test_a_run_naming_no_job_or_an_unknown_one_is_acknowledged_and_writes_nothing(events_function, job, table_items,
                                                                                   engine):
    unnamed = load(engine, "succeeded", job.uuid)
    unnamed["detail"]["name" if engine == "stepfunctions" else "runName"] = str(uuidlib.uuid4())
    before = table_items()

    assert events_function(unnamed, LambdaContext())["statusCode"] == 204
    unknown = load(engine, "succeeded", str(uuidlib.uuid4()))
    assert events_function(unknown, LambdaContext())["statusCode"] == 404
    assert table_items() == before


def test_our_own_state_machines_executions_are_ignored(events_function, job, table_items, monkeypatch):
    monkeypatch.setenv("PIPELINEJOBS_STATE_MACHINE_ARN", OURS)
    ours = load("stepfunctions", "succeeded", job.uuid)
    ours["detail"]["stateMachineArn"] = OURS
    before = table_items()

    assert events_function(ours, LambdaContext())["statusCode"] == 204
    assert table_items() == before
