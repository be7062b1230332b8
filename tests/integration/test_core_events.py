"""The core against Amazon DynamoDB Local: concurrency, idempotency, order, tokens.

These are the issue's acceptance checks, run on the real engine (transactions,
condition checks and conflicts behave as in AWS, which moto only approximates).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import pipelinejobs as pj
from pipelinejobs import tokens
from pipelinejobs.errors import InvalidTransition, JobNotFound, Unauthorized

from support import applied, new_job, table_items


@pytest.fixture(autouse=True)
def _tables(ddb_env):
    pj.create_tables()
    return ddb_env


def test_concurrent_updates_from_8_threads_lose_nothing():
    job = new_job("load").run()
    total, threads = 200, 8

    def fire(n: int) -> int:
        return pj.handle_event({"uuid": job.uuid, "event": "update", "data": {"n": n}}, trusted=True).seq

    with ThreadPoolExecutor(max_workers=threads) as pool:
        seqs = list(pool.map(fire, range(total)))

    history = job.history
    updates = [h for h in history if h.name == "update"]
    assert len(history) == total + 2  # create + run + the updates
    assert [h.seq for h in history] == list(range(1, total + 3))  # unique and gapless
    assert sorted(h.data["n"] for h in updates) == list(range(total))  # each update exactly once
    assert sorted(seqs) == list(range(3, total + 3))  # every caller got its own committed seq
    record = pj.get_job(job.uuid).record
    assert (record.state, record.last_event, record.version) == ("RUNNING", "update", total + 2)


def test_replaying_one_event_id_ten_times_records_one_entry(ddb_env):
    job = new_job()
    message = {"uuid": job.uuid, "event": "run", "id": "callback-42", "data": {"host": "node7"},
               "token": job.token}
    outcomes = [pj.handle_event(message) for _ in range(10)]
    assert applied(job) == ["create", "run"]
    assert len([i for i in table_items() if i["sk"]["S"].startswith("EV#")]) == 2
    first = outcomes[0]
    assert not first.duplicate and all(o.duplicate for o in outcomes[1:])
    assert {(o.state, o.seq, o.previous_state) for o in outcomes} == {("RUNNING", 2, "CREATED")}


def test_concurrent_replays_of_one_id_apply_once():
    job = new_job()
    message = {"uuid": job.uuid, "event": "update", "id": "same-callback", "data": {}}
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda _: pj.handle_event(message, trusted=True), range(16)))
    assert applied(job) == ["create", "update"]
    assert sum(not o.duplicate for o in outcomes) == 1 and {o.seq for o in outcomes} == {2}


def test_finish_before_run_three_times_each_ends_finished():
    job = new_job()
    run = {"uuid": job.uuid, "event": "run", "id": "cb-run", "data": {"status": "RUNNING"}}
    finish = {"uuid": job.uuid, "event": "finish", "id": "cb-finish", "data": {"status": "FINISHED"}}
    for message in (finish, run, finish, run, finish, run):
        try:
            pj.handle_event(message, trusted=True)
        except InvalidTransition as refused:
            assert refused.event == "finish" and refused.state == "CREATED"
    assert pj.get_job(job.uuid).state == "FINISHED"
    assert applied(job) == ["create", "run", "finish"]
    refused = [h for h in job.history if not h.applied]
    # The early finish is recorded once (same id refused in the same state is not recorded again).
    assert [(h.name, h.state) for h in refused] == [("finish", "CREATED")]


def test_a_refused_event_does_not_use_up_its_id():
    job = new_job()
    finish = {"uuid": job.uuid, "event": "finish", "id": "early-finish"}
    with pytest.raises(InvalidTransition):
        pj.handle_event(finish, trusted=True)
    pj.handle_event({"uuid": job.uuid, "event": "run"}, trusted=True)
    outcome = pj.handle_event(finish, trusted=True)
    assert outcome.applied and not outcome.duplicate and outcome.state == "FINISHED"


@pytest.mark.parametrize("kind", ["forged", "expired", "other-job", "missing", "admin-event"])
def test_bad_tokens_are_refused_and_nothing_is_written(ddb_env, kind: str):
    job = new_job()
    other = pj.PipelineJob(job.pipeline_uuid, {"another": True}).setup()
    token = {
        "forged": "deadbeefdeadbeef",
        "expired": tokens.job_token(ddb_env.token_secret, job.uuid, at=time.time() - 73 * 3600),
        "other-job": other.token,
        "missing": None,
        "admin-event": job.token,
    }[kind]
    event = "reset" if kind == "admin-event" else "run"
    message = {"uuid": job.uuid, "event": event, **({"token": token} if token else {})}
    before = table_items()
    with pytest.raises(Unauthorized) as refused:
        pj.handle_event(message)
    assert refused.value.status_code == (403 if kind == "admin-event" else 401)
    assert table_items() == before


def test_unknown_job_is_401_without_token_and_404_with_one(ddb_env):
    pj.create_tables()
    ghost = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    with pytest.raises(Unauthorized):
        pj.handle_event({"uuid": ghost, "event": "run", "token": "0123456789abcdef"})
    with pytest.raises(JobNotFound):
        pj.handle_event({"uuid": ghost, "event": "run", "token": tokens.job_token(ddb_env.token_secret, ghost)})
    assert table_items() == []
