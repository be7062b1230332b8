"""Event ids and deduplication through the webhook, on DynamoDB Local (docs/webhook.md, "Event ids and
deduplication"): a callback's derived id is one event per attempt of the job, a repeat within the attempt is a
heartbeat (``last_heartbeat``, no history entry), an Idempotency-Key is one event whatever the body, a sender's
own id is one event forever, and a duplicate answers the job's current state."""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from frontdoors import LambdaContext, callback_request, sample

import pipelinejobs as pj
from pipelinejobs.storage import base

import support


@pytest.fixture
def callback(webhook, job):
    """POST a runner's callback to the job: (status, JSON body, extra headers) -> (status code, answer)."""

    def post(status: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
             uuid: str = job.uuid) -> tuple[int, dict[str, Any]]:
        request = callback_request(uuid, {"token": job.token, "status": status}, json.dumps(body or {}))
        request["headers"].update(headers or {})
        response = webhook(request, LambdaContext())
        return response["statusCode"], json.loads(response["body"])

    return post


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The store's clock, one millisecond a reading, so heartbeats' times are known and always later."""
    ticks = (f"2026-11-25T10:00:{n // 1000:02d}.{n % 1000:03d}Z" for n in itertools.count(1))
    readings: list[str] = []

    def now() -> str:
        readings.append(next(ticks))
        return readings[-1]

    monkeypatch.setattr(base, "now_iso", now)
    return readings


def post_event(webhook, message: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = sample("webhook", "post-event")
    request["body"] = json.dumps(message)
    request["headers"].update(headers or {})
    response = webhook(request, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


def runs(job: pj.PipelineJob) -> list[tuple[str, str]]:
    """(event, state after) of every applied entry after create."""
    return [(entry.name, entry.state) for entry in job.history if entry.applied][1:]


def test_a_rerun_by_hand_applies_the_runners_identical_callbacks_again(callback, job):
    for status in ("RUNNING", "FINISHED"):
        assert callback(status)[0] == 200
    job.reset({"why": "rerun"}).ready()

    answers = [callback(status) for status in ("RUNNING", "FINISHED")]

    assert [(code, answer["duplicate"], answer["state"]) for code, answer in answers] == [
        (200, False, "RUNNING"), (200, False, "FINISHED")]
    assert job.refresh().state == "FINISHED"
    assert runs(job) == [("run", "RUNNING"), ("finish", "FINISHED"), ("reset", "RESET"), ("ready", "CREATED"),
                         ("run", "RUNNING"), ("finish", "FINISHED")]


def test_a_new_attempts_callbacks_count(callback, job):
    """Orchestration relaunches a task that stopped without failing the job (no reset): only the attempt moves."""
    assert callback("RUNNING")[0] == 200
    pj.handle_event({"uuid": job.uuid, "event": "update", "data": {"outcome": "retrying"}, "id": "r1.retry"},
                    trusted=True, source="stepfunctions", fields={"attempt": 2})

    code, answer = callback("RUNNING")

    assert (code, answer["duplicate"], answer["seq"]) == (200, False, 4)
    assert [name for name, _ in runs(job)] == ["run", "update", "run"]


def test_a_retried_delivery_applies_once_in_each_attempt(callback, job, table_items):
    first = [callback("RUNNING", {"host": "node7"}) for _ in range(3)]
    job.reset().ready()
    second = [callback("RUNNING", {"host": "node7"}) for _ in range(3)]

    assert [answer["duplicate"] for _, answer in first + second] == [False, True, True, False, True, True]
    assert {answer["seq"] for _, answer in first} == {2} and {answer["seq"] for _, answer in second} == {5}
    assert [name for name, _ in runs(job)] == ["run", "reset", "ready", "run"]


def test_concurrent_deliveries_of_one_callback_in_a_new_attempt_apply_once(callback, job):
    callback("RUNNING", {"host": "node7"})
    job.reset().ready()

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: callback("RUNNING", {"host": "node7"}), range(16)))

    assert {code for code, _ in answers} == {200}
    assert sum(not answer["duplicate"] for _, answer in answers) == 1
    assert {answer["seq"] for _, answer in answers} == {5}
    assert [name for name, _ in runs(job)] == ["run", "reset", "ready", "run"]


def test_repeated_heartbeats_refresh_last_heartbeat_and_add_no_history(callback, job, clock, webhook):
    callback("RUNNING")
    callback("HEARTBEAT", {"progress": 0.5})
    first = job.refresh().record
    assert first.last_heartbeat == clock[-1]  # an applied event sets it in its own write

    answers = [callback("HEARTBEAT", {"progress": 0.5}) for _ in range(3)]

    assert all(code == 200 and answer["duplicate"] for code, answer in answers)
    after = job.refresh().record
    assert after.last_heartbeat == clock[-1] > first.last_heartbeat
    assert (after.version, after.updated, len(job.history)) == (first.version, first.updated, 3)
    response = webhook(sample("webhook", "get-job", job.uuid, job.token), LambdaContext())
    assert json.loads(response["body"])["last_heartbeat"] == after.last_heartbeat


def test_an_idempotency_key_is_one_event_whatever_the_body(callback, job, webhook):
    key = {"Idempotency-Key": "6f1c0d52-2b4e-4a57-9d0e-1c3b5a7e9f21"}
    answers = [callback("HEARTBEAT", {"progress": n}, headers=key) for n in (0.1, 0.2, 0.3)]
    answers.append(post_event(webhook, {"uuid": job.uuid, "event": "update", "data": {"progress": 0.4},
                                        "token": job.token}, headers=key))

    assert [(code, answer["duplicate"], answer["seq"]) for code, answer in answers] == [
        (200, False, 2), (200, True, 2), (200, True, 2), (200, True, 2)]
    [entry] = job.history[1:]
    assert (entry.id, entry.data) == (key["Idempotency-Key"], {"progress": 0.1, "status": "HEARTBEAT"})

    job.reset().ready()  # a sender's own key is one event forever, whatever the attempt
    assert callback("HEARTBEAT", {"progress": 0.5}, headers=key)[1]["duplicate"] is True


@pytest.mark.parametrize("key", ["", "two words", "a" * 129, '"quoted"', "job#1", "k\u00e9y"])
def test_a_bad_idempotency_key_is_a_400_naming_it_and_writes_nothing(callback, job, webhook, table_items, key):
    before = table_items()
    header = {"Idempotency-Key": key}
    answers = [callback("RUNNING", headers=header),
               post_event(webhook, {"uuid": job.uuid, "event": "run", "token": job.token}, headers=header)]

    for code, answer in answers:
        assert code == 400 and [e["field"] for e in answer["errors"]] == ["Idempotency-Key"]
    assert table_items() == before


def test_an_idempotency_key_wins_over_the_bodys_id(job, webhook):
    message = {"uuid": job.uuid, "event": "run", "token": job.token, "id": "body-id"}

    answers = [post_event(webhook, message, headers={"Idempotency-Key": "header-id"}),
               post_event(webhook, {**message, "id": "other-body-id"}, headers={"Idempotency-Key": "header-id"})]

    assert [(code, answer["duplicate"]) for code, answer in answers] == [(200, False), (200, True)]
    assert [entry.id for entry in job.history[1:]] == ["header-id"]
    code, answer = post_event(webhook, {**message, "id": 7}, headers={"Idempotency-Key": "header-id"})
    assert code == 400 and [e["field"] for e in answer["errors"]] == ["id"]  # the body is checked as sent


def test_a_senders_own_id_is_one_event_forever(job):
    message = {"uuid": job.uuid, "event": "run", "id": "runner-run-1", "data": {}}
    pj.handle_event(message, trusted=True)
    job.reset().ready()

    again = pj.handle_event(message, trusted=True)

    assert (again.duplicate, again.seq, again.state) == (True, 2, "CREATED")


def test_a_duplicate_answers_the_first_outcome_in_the_current_state(callback, job):
    callback("RUNNING")
    callback("FINISHED")

    code, answer = callback("RUNNING")

    assert code == 200
    assert {k: answer[k] for k in ("event", "previous_state", "seq", "duplicate", "state")} == {
        "event": "run", "previous_state": "CREATED", "seq": 2, "duplicate": True, "state": "FINISHED"}


def test_a_refusal_is_recorded_again_in_a_new_attempt(callback, job):
    assert callback("FINISHED")[0] == 409  # finish before run
    assert callback("FINISHED")[0] == 409  # the same refusal again: recorded once
    job.reset().ready()

    assert callback("FINISHED")[0] == 409

    refused = [(entry.name, entry.state) for entry in job.history if not entry.applied]
    assert refused == [("finish", "CREATED"), ("finish", "CREATED")]
    assert job.refresh().record.rejections == 2
    assert support.applied(job) == ["create", "reset", "ready"]
