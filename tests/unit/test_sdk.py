"""The SDK on moto: pipelines, get-or-create jobs, chaining verbs, cancel, history, listing, wait."""

from __future__ import annotations

import threading
import time

import pytest
from moto import mock_aws

import pipelinejobs as pj
from pipelinejobs import tokens
from pipelinejobs.errors import InvalidTransition, JobNotFound, PipelineNotFound, WaitTimeout

from support import applied, new_job, table_items


@pytest.fixture(autouse=True)
def moto(aws_env):
    with mock_aws():
        pj.create_tables()
        yield aws_env


def test_create_tables_is_idempotent_and_follows_the_template(aws_env):
    import boto3

    assert pj.create_tables() == [aws_env.table]
    table = boto3.client("dynamodb").describe_table(TableName=aws_env.table)["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"pipeline-jobs", "catalog", "due"}
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_model_indexes_match_the_template():
    from pipelinejobs.storage.models import bind
    from pipelinejobs.storage.tables import table_definition

    declared = {i["IndexName"]: i for i in table_definition()["GlobalSecondaryIndexes"]}
    models = bind("t", None, None)
    for index in (models.job.by_pipeline, models.job.catalog, models.job.due, models.pipeline.catalog):
        schema = index._get_schema()
        # PynamoDB lists an index's keys by attribute name (due_at before due_shard); HASH comes first in both here.
        assert declared[schema["index_name"]]["KeySchema"] == sorted(schema["key_schema"], key=lambda k: k["KeyType"])
        assert declared[schema["index_name"]]["Projection"] == schema["projection"]


def test_register_pipeline_is_deterministic_and_harmless_twice():
    first = pj.register_pipeline("rnaseq", "v1", components=["align", "count"], task={"launcher": "local"})
    again = pj.register_pipeline("rnaseq", "v2", components=["align", "count"], task={"launcher": "batch"})
    assert first.uuid == again.uuid and again.created == first.created
    assert pj.get_pipeline(first.uuid).task == {"launcher": "batch"}
    assert [p.uuid for p in pj.list_pipelines()] == [first.uuid]


def test_setup_needs_a_known_active_pipeline():
    with pytest.raises(PipelineNotFound):
        pj.PipelineJob("8a5c9bbb-c2a1-5a4d-8582-a405913c287f").setup()
    inactive = pj.register_pipeline("old", active=False)
    with pytest.raises(PipelineNotFound, match="not active"):
        pj.PipelineJob(inactive.uuid).setup()
    assert not [i for i in table_items() if i["pk"]["S"].startswith("JOB#")]


def test_setup_is_get_or_create():
    job = new_job("demo", {"sample": 1})
    job.run()
    again = pj.PipelineJob(job.pipeline_uuid, {"sample": 1}).setup()
    assert again.uuid == job.uuid and again.state == "RUNNING"
    assert applied(again) == ["create", "run"]


def test_properties_of_a_new_job(aws_env):
    job = new_job()
    assert (job.state, job.status, job.last_event) == ("CREATED", "CREATED", "create")
    assert job.path.endswith(f"/{job.pipeline_uuid}/{job.uuid}")
    assert tokens.verify_job_token(aws_env.token_secret, job.uuid, job.token)
    assert job.callback == f"{aws_env.api_url}/jobs/{job.uuid}/events?token={job.token}&status=__STATUS__"
    record = pj.get_job(job.uuid).to_dict()
    assert record["created"] == record["updated"] and record["version"] == 1


def test_verbs_chain_and_keep_data_in_history():
    job = new_job().run({"key1": "value1"}).update(data={"roadrunner": "meep-meep!"}).resource().finish()
    assert job.state == "FINISHED"
    job.validate().validated().finalize().retire()
    assert pj.get_job(job.uuid).state == "RETIRED"
    history = job.history
    assert [h.name for h in history] == ["create", "run", "update", "resource", "finish", "validate",
                                         "validated", "finalize", "retire"]
    assert [h.seq for h in history] == list(range(1, 10))
    assert history[2].data == {"roadrunner": "meep-meep!"} and history[1].data == {"key1": "value1"}


def test_illegal_event_is_refused_recorded_and_state_kept():
    job = new_job()
    with pytest.raises(InvalidTransition) as refused:
        job.finish({"why": "too early"})
    assert refused.value.state == "CREATED" and "run" in refused.value.allowed
    record = pj.get_job(job.uuid)
    assert record.state == "CREATED" and record.to_dict()["rejections"] == 1
    last = job.history[-1]
    assert (last.name, last.applied, last.state, last.seq) == ("finish", False, "CREATED", 2)
    assert "not allowed from CREATED" in last.reason


def test_admin_verbs_reset_and_ready_bring_a_failed_job_back():
    job = new_job().run().fail({"reason": "oom"})
    assert job.reset().ready().state == "CREATED"
    assert applied(job)[-3:] == ["fail", "reset", "ready"]


def test_cancel_deletes_a_job_that_never_ran():
    job = new_job()
    job.cancel()
    with pytest.raises(JobNotFound):
        pj.get_job(job.uuid)
    assert not [i for i in table_items() if i["pk"]["S"] == f"JOB#{job.uuid}"]


def test_cancel_refuses_a_job_that_ran_and_points_to_fail():
    job = new_job().run()
    with pytest.raises(InvalidTransition, match="send 'fail'"):
        job.cancel()
    assert pj.get_job(job.uuid).state == "RUNNING"


def test_cancel_refuses_a_job_reset_after_running():
    job = new_job().run().reset().ready()
    assert job.state == "CREATED"
    with pytest.raises(InvalidTransition):
        job.cancel()


def test_history_pages_both_ways():
    job = new_job().run()
    for n in range(10):
        job.update({"n": n})
    store = pj.service.get_store()
    seen, cursor = [], None
    while True:
        page = store.history(job.uuid, after=cursor, limit=4)
        seen += [e.seq for e in page.entries]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == list(range(1, 13))
    newest = store.history(job.uuid, limit=3, newest_first=True)
    assert [e.seq for e in newest.entries] == [12, 11, 10]
    older = store.history(job.uuid, after=newest.next_cursor, limit=100, newest_first=True)
    assert [e.seq for e in older.entries] == list(range(9, 0, -1)) and older.next_cursor is None


def test_list_jobs_by_pipeline_state_and_since():
    a = pj.register_pipeline("a")
    b = pj.register_pipeline("b")
    a_jobs = [pj.PipelineJob(a.uuid, {"n": n}).setup() for n in range(12)]
    b_job = pj.PipelineJob(b.uuid, {"n": 0}).setup().run()
    for job in a_jobs[:5]:
        job.run()
    assert len(pj.list_jobs()) == 13
    assert {j.uuid for j in pj.list_jobs(pipeline_uuid=a.uuid)} == {j.uuid for j in a_jobs}
    assert {j.uuid for j in pj.list_jobs(state="RUNNING")} == {j.uuid for j in a_jobs[:5]} | {b_job.uuid}
    assert {j.uuid for j in pj.list_jobs(pipeline_uuid=a.uuid, state="CREATED")} == {j.uuid for j in a_jobs[5:]}
    newest = pj.list_jobs()
    assert [j.created for j in newest] == sorted((j.created for j in newest), reverse=True)
    cutoff = pj.get_job(b_job.uuid).record.created
    assert {j.uuid for j in pj.list_jobs(since=cutoff)} == {b_job.uuid}
    assert {j.uuid for j in pj.list_jobs(state="RUNNING", since=cutoff)} == {b_job.uuid}


def test_wait_returns_when_state_is_reached():
    job = new_job()
    threading.Timer(0.3, job.run).start()
    assert pj.wait(job.uuid, "RUNNING", timeout=10, poll=0.05).state == "RUNNING"


def test_wait_times_out():
    job = new_job()
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match="is CREATED"):
        pj.wait(job.uuid, {"FINISHED"}, timeout=0.3, poll=0.05)
    assert time.monotonic() - started < 2


def test_handle_event_with_admin_token_may_reset(aws_env):
    job = new_job().run()
    outcome = pj.handle_event({"uuid": job.uuid, "event": "reset", "token": tokens.admin_token(aws_env.token_secret)})
    assert (outcome.previous_state, outcome.state, outcome.applied) == ("RUNNING", "RESET", True)
