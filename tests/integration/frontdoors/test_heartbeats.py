"""When a job went silent, on DynamoDB Local (docs/operations.md, "When a job went silent"): a webhook-only job
given ``heartbeat_seconds`` is failed as stale by the sweep once its runner goes quiet past its deadline, and not
while the runner keeps calling (events and repeated callbacks alike push the deadline in their own write); the
sweep reads only the jobs that are due; its fail is applied once and loses to a sign of life arriving as it is
written. The store's clock is injected (no sleeps): each test says what time it is."""

from __future__ import annotations

import json
from typing import Any

import pytest
from frontdoors import LambdaContext, callback_request, handler_module, sample

import pipelinejobs as pj
from pipelinejobs import deadline, heartbeats
from pipelinejobs.errors import InvalidEvent
from pipelinejobs.storage import base
from pipelinejobs.sweep import SECONDS_PER_JOB, sweep

import support

T0 = "2026-11-26T10:00:00.000Z"


def at(seconds: float) -> str:
    return heartbeats.later(T0, seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The store's clock: ``clock[0]`` is what every write reads as now (T0 until a test moves it)."""
    now = [T0]
    monkeypatch.setattr(base, "now_iso", lambda: now[0])
    return now


@pytest.fixture
def quiet_job(tables) -> pj.PipelineJob:
    """A webhook-only job (its pipeline has no task template) with a 60 s heartbeat."""
    pipeline = pj.register_pipeline("webhook-only")
    return pj.PipelineJob(pipeline.uuid, {"case": "quiet"}, heartbeat_seconds=60).setup()


def callback(webhook, job: pj.PipelineJob, status: str, body: dict[str, Any] | None = None) -> int:
    request = callback_request(job.uuid, {"token": job.token, "status": status}, json.dumps(body or {}))
    return webhook(request, LambdaContext())["statusCode"]


def test_a_webhook_only_job_whose_runner_goes_quiet_is_failed_as_stale(webhook, quiet_job, clock):
    assert quiet_job.record.due_at is None  # CREATED and never launched: nothing to watch yet
    assert callback(webhook, quiet_job, "RUNNING") == 200
    assert quiet_job.refresh().record.due_at == at(60)

    assert sweep(at(59)).failed == []
    report = sweep(at(61))

    assert report.failed == [quiet_job.uuid]
    record = quiet_job.refresh().record
    assert (record.state, record.due_at) == ("FAILED", None)
    fail = quiet_job.history[-1]
    assert (fail.name, fail.source, fail.data["failure"], fail.data["due_at"]) == ("fail", "sweep", "stale", at(60))
    assert fail.data["last_heartbeat"] == T0 and fail.data["heartbeat_seconds"] == 60


def test_a_job_whose_runner_keeps_calling_is_not_failed(webhook, quiet_job, clock):
    assert callback(webhook, quiet_job, "RUNNING") == 200
    for second, body in ((50, {"progress": 0.5}), (100, {"progress": 0.9})):
        clock[0] = at(second)
        assert callback(webhook, quiet_job, "RUNNING", body) == 200  # a RUNNING again: an applied self-loop
    clock[0] = at(150)
    assert callback(webhook, quiet_job, "RUNNING", {"progress": 0.9}) == 200  # repeated: only a heartbeat
    assert quiet_job.refresh().record.version == 4  # create, run, run, run: the repeat wrote no entry

    assert sweep(at(200)).due == 0
    assert quiet_job.refresh().record.due_at == at(210)
    assert (sweep(at(211)).failed, quiet_job.refresh().state) == ([quiet_job.uuid], "FAILED")


def test_a_refused_event_is_a_sign_of_life_too(webhook, quiet_job, clock):
    assert callback(webhook, quiet_job, "RUNNING") == 200
    clock[0] = at(40)
    with pytest.raises(pj.errors.InvalidTransition):
        quiet_job.validate()  # RUNNING refuses it, but the job was heard from
    assert quiet_job.refresh().record.due_at == at(100)


def test_an_ended_job_leaves_the_index_and_is_never_swept(webhook, quiet_job, clock):
    assert callback(webhook, quiet_job, "RUNNING") == 200
    assert callback(webhook, quiet_job, "FINISHED") == 200
    assert quiet_job.refresh().record.due_at is None
    assert sweep(at(3600)).due == 0


def test_the_sweeps_fail_is_applied_once(webhook, quiet_job, clock):
    assert callback(webhook, quiet_job, "RUNNING") == 200
    first, again = sweep(at(61)), sweep(at(61))
    assert (first.failed, again.failed) == ([quiet_job.uuid], [])
    assert [e.name for e in quiet_job.history] == ["create", "run", "fail"]


def test_the_sweeps_fail_loses_to_a_heartbeat_landing_after_its_read(webhook, quiet_job, clock, monkeypatch):
    """The sweep has read the job as due; a repeated callback moves the deadline before the fail is written."""
    assert callback(webhook, quiet_job, "RUNNING", {"n": 1}) == 200
    store = pj.service.get_store()
    load, landed = store.load, []

    def load_then_heartbeat(uuid: str, event_id: str | None = None):
        read = load(uuid, event_id)
        if not landed:
            landed.append(True)
            clock[0] = at(61)
            assert callback(webhook, quiet_job, "RUNNING", {"n": 1}) == 200  # a repeat: record_heartbeat
        return read

    monkeypatch.setattr(store, "load", load_then_heartbeat)
    report = sweep(at(61))

    assert (report.failed, report.skipped) == ([], 1)
    record = quiet_job.refresh().record
    assert (record.state, record.due_at) == ("RUNNING", at(121))


def test_the_sweep_reads_only_the_jobs_that_are_due(webhook, tables, clock):
    pipeline = pj.register_pipeline("many")
    jobs = [pj.PipelineJob(pipeline.uuid, {"n": n}, heartbeat_seconds=60).setup().run() for n in range(24)]
    pj.PipelineJob(pipeline.uuid, {"n": "no heartbeat"}).setup().run()
    clock[0] = at(30)
    for job in jobs[3:]:
        job.update({"alive": True})
    queried: list[dict[str, Any]] = []
    client = pj.service.get_store().models.job._get_connection().connection.client
    client.meta.events.register("after-call.dynamodb", lambda parsed, model, **_: queried.append(
        {"operation": model.name, **{k: parsed.get(k) for k in ("ScannedCount", "Count")}}))

    report = sweep(at(61))

    assert sorted(report.failed) == sorted(job.uuid for job in jobs[:3])
    queries = [call for call in queried if call["operation"] == "Query"]
    assert len(queries) == 8  # one per index shard, whatever the number of live jobs
    assert sum(call["ScannedCount"] for call in queries) == 3  # read: the due jobs and nothing else
    assert not [call for call in queried if call["operation"] == "Scan"]


def test_the_sweep_function_fails_the_due_jobs_on_its_scheduled_event(webhook, quiet_job, clock):
    clock[0] = "2026-01-01T00:00:00.000Z"  # long ago: the function's sweep reads the real clock
    assert callback(webhook, quiet_job, "RUNNING") == 200

    answer = handler_module("sweep").handler(sample("sweep", "scheduled"), LambdaContext())

    assert answer == {"due": 1, "failed": [quiet_job.uuid], "skipped": 0, "left": 0}
    assert quiet_job.refresh().state == "FAILED"


def test_a_run_out_of_time_leaves_the_rest_to_the_next(tables, clock):
    pipeline = pj.register_pipeline("late")
    jobs = [pj.PipelineJob(pipeline.uuid, {"n": n}, heartbeat_seconds=60).setup().run() for n in range(3)]
    with deadline.at_most(SECONDS_PER_JOB - 2):  # time to read the index, too little left for even one fail
        first = sweep(at(61))
    assert (first.due, first.failed, first.left) == (3, [], 3)
    assert sorted(sweep(at(61)).failed) == sorted(job.uuid for job in jobs)


def test_the_pipelines_task_template_gives_its_jobs_a_heartbeat(tables, clock):
    pipeline = pj.register_pipeline("external", task={"launcher": "external", "heartbeat_seconds": 300})
    assert pj.PipelineJob(pipeline.uuid, {"n": 1}).setup().record.heartbeat_seconds == 300
    assert pj.PipelineJob(pipeline.uuid, {"n": 2}, heartbeat_seconds=30).setup().record.heartbeat_seconds == 30
    assert pj.PipelineJob(pipeline.uuid, {"n": 3}, heartbeat_seconds=45.0).setup().record.heartbeat_seconds == 45


@pytest.mark.parametrize("seconds", [0, -5, 1.5, "60", True, 366 * 24 * 3600])
def test_a_bad_heartbeat_is_refused_naming_the_field_and_nothing_is_written(tables, seconds):
    pipeline = pj.register_pipeline("bad-heartbeat")
    before = support.table_items()
    with pytest.raises(InvalidEvent) as refused:
        pj.PipelineJob(pipeline.uuid, {"n": 1}, heartbeat_seconds=seconds).setup()
    assert refused.value.field == "heartbeat_seconds"
    assert support.table_items() == before
