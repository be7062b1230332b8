"""Each 4xx answer, through every door (callback, POST /events, direct invoke), and each one's
proof that nothing was written: the table is compared item by item before and after."""

from __future__ import annotations

import time
import uuid as uuidlib

import pytest

from pipelinejobs import config, tokens

NO_SUCH_JOB = "00000000-0000-5000-8000-000000000000"


def _secret() -> str:
    return tokens.secret(config.Config.from_env())


def test_400_unknown_event_names_the_field_and_writes_nothing(door, job, table_items):
    before = table_items()
    status, body = door(job.uuid, "explode", job.token, {})
    assert status == 400
    assert body["error"] == "InvalidEvent"
    assert [e["field"] for e in body["errors"]] == ["event"]
    assert table_items() == before


def test_401_missing_token_writes_nothing(door, job, table_items):
    before = table_items()
    status, body = door(job.uuid, "run", None, {})
    assert (status, body["error"]) == (401, "Unauthorized")
    assert table_items() == before


@pytest.mark.parametrize("kind", ["forged", "expired", "other_job"])
def test_401_bad_token_is_the_same_answer_whether_or_not_the_job_exists(door, job, table_items, kind):
    secret, other_job = _secret(), str(uuidlib.uuid4())

    def bad_token(uuid: str) -> str:
        return {
            "forged": "f" * 16,
            "expired": tokens.job_token(secret, uuid, at=time.time() - 73 * 3600),
            "other_job": tokens.job_token(secret, other_job),
        }[kind]

    before = table_items()
    existing = door(job.uuid, "run", bad_token(job.uuid), {})
    missing = door(NO_SUCH_JOB, "run", bad_token(NO_SUCH_JOB), {})
    assert existing[0] == missing[0] == 401
    assert existing[1] == missing[1]
    assert table_items() == before


def test_403_job_token_cannot_send_an_admin_event(door, job, table_items):
    before = table_items()
    status, body = door(job.uuid, "reset", job.token, {})
    assert (status, body["error"]) == (403, "Forbidden")
    assert table_items() == before


def test_404_only_to_an_authorised_caller(door, tables, table_items):
    before = table_items()
    admin = tokens.admin_token(_secret())
    status, body = door(NO_SUCH_JOB, "run", admin, {})
    assert (status, body["error"]) == (404, "JobNotFound")
    unauthorised = door(NO_SUCH_JOB, "run", "0" * 32, {})
    assert unauthorised[0] == 401
    assert table_items() == before


def test_409_records_one_rejected_entry_and_keeps_the_state(door, job, table_items):
    before = {(i["pk"]["S"], i["sk"]["S"]): i for i in table_items()}
    status, body = door(job.uuid, "finish", job.token, {"why": "too early"})
    assert status == 409
    assert body["error"] == "InvalidTransition"
    assert body["state"] == "CREATED"
    assert body["event"] == "finish"
    assert body["allowed"] == ["create", "fail", "reset", "resource", "run", "update"]  # as the FSM table says
    after = {(i["pk"]["S"], i["sk"]["S"]): i for i in table_items()}
    new_keys = set(after) - set(before)
    history = [key for key in new_keys if key[1].startswith("EV#")]
    assert len(history) == 1
    entry = after[history[0]]
    assert entry["applied"] == {"BOOL": False}
    assert entry["name"] == {"S": "finish"}
    assert "not allowed" in entry["reason"]["S"]
    assert all(key[1].startswith(("EV#", "RJ#")) for key in new_keys)
    job_key = (f"JOB#{job.uuid}", "JOB")
    assert after[job_key]["state"] == before[job_key]["state"] == {"S": "CREATED"}
    assert job.refresh().state == "CREATED"


def test_413_oversize_data_writes_nothing(door, job, table_items):
    before = table_items()
    status, body = door(job.uuid, "update", job.token, {"blob": "x" * (config.MAX_DATA_BYTES + 1)})
    assert (status, body["error"]) == (413, "PayloadTooLarge")
    assert body["errors"][0]["field"] == "data"
    assert table_items() == before
