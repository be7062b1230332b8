"""Admin delete on DynamoDB Local (docs/operations.md, "Delete and retention"): a job that ran is deleted whatever
its state, leaving one tombstone (``deleted_at``, ``deleted_by``) and nothing else, in the table or its indexes;
the job then reads as deleted, and its inputs cannot bring it back; no door that takes a job token deletes."""

from __future__ import annotations

import contextlib
import json

import pytest
from frontdoors import LambdaContext, sample

import pipelinejobs as pj
from pipelinejobs.errors import InvalidTransition, JobDeleted, JobNotFound

import support


def partition(uuid: str) -> list[dict]:
    return [item for item in support.table_items() if item["pk"]["S"] == f"JOB#{uuid}"]


@pytest.fixture
def ran(job) -> pj.PipelineJob:
    """A job that ran and failed, with history entries, an id marker and a refusal marker."""
    job.run({"host": "node7"})
    pj.handle_event({"uuid": job.uuid, "event": "update", "id": "u-1"}, trusted=True)
    job.fail({"reason": "broken"})
    with contextlib.suppress(InvalidTransition):
        pj.handle_event({"uuid": job.uuid, "event": "finish", "id": "f-1"}, trusted=True)
    return job


@pytest.mark.parametrize("state", ["RUNNING", "FAILED"])
def test_an_admin_delete_leaves_only_its_tombstone(job, state):
    job.run({"host": "node7"})
    if state == "FAILED":
        job.fail()
    assert job.refresh().state == state
    uuid = job.uuid

    job.delete(by="alice@example.org")

    items = partition(uuid)
    assert [item["sk"]["S"] for item in items] == ["DELETING"]
    assert items[0]["deleted_by"]["S"] == "alice@example.org" and items[0]["deleted_at"]["S"]
    assert uuid not in {summary.uuid for summary in pj.list_jobs()}  # the indexes followed the job item
    with pytest.raises(JobDeleted, match=r"deleted by alice@example\.org"):
        pj.get_job(uuid)


def test_the_inputs_of_a_deleted_job_do_not_bring_it_back(ran):
    ran.delete(by="alice")
    with pytest.raises(JobDeleted):
        pj.PipelineJob(ran.pipeline_uuid, ran.data).setup()
    assert [item["sk"]["S"] for item in partition(ran.uuid)] == ["DELETING"]
    with pytest.raises(JobNotFound):
        pj.handle_event({"uuid": ran.uuid, "event": "update", "id": "late"}, trusted=True)


def test_an_interrupted_admin_delete_is_finished_by_a_second_one_keeping_who_and_when(ran, monkeypatch):
    store = pj.service.get_store()
    clear = store._clear
    monkeypatch.setattr(store, "_clear", lambda *args: (_ for _ in ()).throw(pj.errors.StorageUnavailable("cut")))
    with pytest.raises(pj.errors.StorageUnavailable):
        ran.delete(by="alice")
    first = next(item for item in partition(ran.uuid) if item["sk"]["S"] == "DELETING")
    assert len(partition(ran.uuid)) > 1 and "JOB" not in {item["sk"]["S"] for item in partition(ran.uuid)}
    monkeypatch.setattr(store, "_clear", clear)

    pj.PipelineJob(ran.pipeline_uuid, ran.data).delete(by="bob")

    assert partition(ran.uuid) == [first]  # the first delete's tombstone: alice's, at her time


def test_cancel_still_refuses_a_job_that_ran_and_deletes_one_that_did_not_without_a_tombstone(ran, tables):
    with pytest.raises(InvalidTransition):
        ran.cancel()
    fresh = pj.PipelineJob(ran.pipeline_uuid, {"never": "ran"}).setup()
    fresh.cancel()
    assert partition(fresh.uuid) == []


@pytest.mark.parametrize("event", ["delete", "cancel", "purge"])
def test_no_door_that_takes_a_job_token_deletes(door, ran, event):
    before = support.table_items()
    status, _ = door(ran.uuid, event, ran.token, {})
    assert status == 400
    assert support.table_items() == before


def test_the_webhook_has_no_delete_route(webhook, ran):
    request = sample("webhook", "get-job", ran.uuid, ran.token)
    request["requestContext"]["http"]["method"] = "DELETE"
    request["routeKey"] = "DELETE /jobs/{uuid}"
    before = support.table_items()
    response = webhook(request, LambdaContext())
    assert response["statusCode"] in (404, 405)
    assert json.loads(response["body"])  # an answer, never a stack trace
    assert support.table_items() == before


def test_reading_a_deleted_job_with_its_token_says_who_deleted_it(webhook, ran):
    token = ran.token
    ran.delete(by="alice")
    response = webhook(sample("webhook", "get-job", ran.uuid, token), LambdaContext())
    answer = json.loads(response["body"])
    assert response["statusCode"] == 404
    assert (answer["error"], answer["deleted_by"]) == ("JobDeleted", "alice") and answer["deleted_at"]
