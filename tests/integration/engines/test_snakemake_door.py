"""Snakemake's panoptes protocol through the webhook (api/engines.py), on DynamoDB Local with the release consumer:
the requests captured from real runs (events/engines/snakemake/), replayed twice and out of order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from faults import operation
from frontdoors import LambdaContext, conforming_webhook, sample

import pipelinejobs
from pipelinejobs import tokens, workflows
from pipelinejobs.config import Config
from pipelinejobs.engines import tracker

import support

SAMPLES = Path(__file__).resolve().parents[3] / "events" / "engines" / "snakemake"
ROUTE = "/engines/snakemake/{pipeline}/{token}/"


class Door:
    """The webhook's Snakemake routes for one pipeline and token."""

    def __init__(self, pipeline: str, token: str):
        self.pipeline, self.token = pipeline, token
        self.webhook = conforming_webhook()

    def __call__(self, method: str, name: str, *, query: dict[str, str] | None = None,
                 form: dict[str, str] | None = None, body: str | None = None) -> tuple[int, Any]:
        path = f"/engines/snakemake/{self.pipeline}/{self.token}/{name}"
        request = sample("webhook", "post-event")
        request |= {"routeKey": f"{method} {ROUTE}{name}", "rawPath": f"/dev{path}",
                    "rawQueryString": urlencode(query or {}), "queryStringParameters": query or None,
                    "pathParameters": {"pipeline": self.pipeline, "token": self.token},
                    "body": urlencode(form) if form is not None else body}
        request["requestContext"] = {**request["requestContext"], "routeKey": request["routeKey"],
                                     "http": {**request["requestContext"]["http"], "method": method,
                                              "path": f"/dev{path}"}}
        request["headers"] = {**request["headers"], "content-type": "application/x-www-form-urlencoded"}
        if request["body"] is None:
            request.pop("body")
        response = self.webhook(request, LambdaContext())
        return response["statusCode"], json.loads(response["body"])

    def replay(self, capture: str, workflow_id: str | None = None, twice: bool = True) -> str:
        """Run a captured run's requests: create_workflow (its answer's id replaces the captured one), then every
        update, each ``job_info`` before its ``job_started`` and, with ``twice``, each delivered twice (the
        second time after the run's end). The workflow's uuid."""
        requests = json.loads((SAMPLES / f"{capture}.json").read_text())["requests"]
        status, created = self("GET", "create_workflow", query={"workflow_id": workflow_id} if workflow_id else None)
        assert status == 200, created
        forms = [{**r["form"], "id": created["id"]} for r in requests if r["path"] == "update_workflow_status"]
        for i in range(len(forms) - 1):
            if json.loads(forms[i]["msg"])["level"] == "job_started":
                forms[i], forms[i + 1] = forms[i + 1], forms[i]
        for form in forms + (forms if twice else []):
            status, answer = self("POST", "update_workflow_status", form=form)
            assert status == 200, answer
        return tracker.workflow_uuid("snakemake", self.pipeline, created["name"])


@pytest.fixture
def door(consumer) -> Door:
    pipeline = pipelinejobs.register_pipeline("snakemake-runs").uuid
    return Door(pipeline, tokens.pipeline_token(tokens.secret(Config.from_env()), pipeline))


def history(uuid: str) -> list[str]:
    return [entry.name for entry in pipelinejobs.get_job(uuid).history if entry.applied]


def test_a_captured_run_delivered_twice_and_out_of_order_is_a_finished_workflow_of_its_rules(door, consumer):
    uuid = door.replay("success")
    wf = consumer(lambda: (w := workflows.get(uuid)).counts == {"FINISHED": 4} and w, what="4 jobs counted")
    assert (wf.state, wf.engine, wf.expected, wf.never_ran) == ("FINISHED", "snakemake", 4, 0)
    assert {n.name: (n.state, n.after) for n in wf.nodes} == {
        "a": ("finished", ()), "b": ("finished", ("a",)), "c": ("finished", ("b",)), "all": ("finished", ("c",))}
    jobs = {name: pipelinejobs.get_job(ids[0]).record for name, ids in wf.jobs.items()}
    assert [jobs[n].parents for n in ("a", "b", "c", "all")] == [[], [jobs["a"].uuid], [jobs["b"].uuid],
                                                                  [jobs["c"].uuid]]
    assert jobs["b"].data == {"rule": "b", "wildcards": {}, "threads": 1, "input": ["a.txt"], "output": ["b.txt"],
                              "log": [], "resources": {"tmpdir": "/tmp", "mem_mb": 10, "mem": "10 MB", "mem_mib": 10}}
    assert all(history(job.uuid) == ["create", "update", "run", "finish"] for job in jobs.values())


def test_a_failed_run_then_its_re_run_with_the_same_workflow_id(door, consumer):
    uuid = door.replay("failure", "flow2")
    wf = consumer(lambda: (w := workflows.get(uuid)).node("c").state == "failed" and w, what="c counted")
    assert (wf.state, wf.expected, wf.never_ran, wf.counts) == ("FAILED", 4, 1, {"FINISHED": 2, "FAILED": 1})
    assert wf.stopped == "RuleException"
    [c] = wf.jobs["c"]
    assert history(c) == ["create", "update", "run", "fail"]

    assert door.replay("rerun", "flow2") == uuid  # the same workflow: c's next attempt, and all's first
    wf = consumer(lambda: (w := workflows.get(uuid)).counts == {"FINISHED": 4} and w, what="4 jobs counted")
    assert (wf.state, wf.expected, wf.never_ran, wf.stopped, wf.jobs["c"]) == ("FINISHED", 2, 0, None, [c])
    assert history(c) == ["create", "update", "run", "fail", "reset", "ready", "update", "run", "finish"]
    assert [w.uuid for w in workflows.list()] == [uuid]


def test_without_a_workflow_id_each_run_is_a_workflow_of_its_own(door):
    assert door.replay("success", twice=False) != door.replay("success", twice=False)


def test_answers_an_engine_can_live_with(door):
    before = support.table_items()
    bad = Door(door.pipeline, tokens.pipeline_token(tokens.secret(Config.from_env()),
                                                    "00000000-0000-5000-8000-000000000000"))
    assert bad("GET", "create_workflow")[0] == 401
    assert bad("POST", "update_workflow_status", form={"msg": '{"level": "progress"}', "id": "x~1"})[0] == 401
    assert bad("GET", "api/service-info")[0] == 401
    assert door("GET", "api/service-info") == (200, {"status": "running"})
    for form, field in (({"id": "x~1"}, "msg"), ({"msg": "{", "id": "x~1"}, "msg"),
                        ({"msg": "[1]", "id": "x~1"}, "msg"),
                        ({"msg": '{"level": "info"}'}, "id"),
                        ({"msg": '{"level": "job_started", "jobs": 3}', "id": "x~1"}, "msg.jobs"),
                        ({"msg": '{"level": "job_info", "jobid": 1}', "id": "x~1"}, "msg.name")):
        status, answer = door("POST", "update_workflow_status", form=form)
        assert (status, [e["field"] for e in answer["errors"]]) == (400, [field]), answer
    assert support.table_items() == before  # nothing written by any of these
    for level in ("info", "shellcmd", "something_new"):  # valid, meaningless to us: acknowledged
        assert door("POST", "update_workflow_status", form={"msg": json.dumps({"level": level}), "id": "x~1"}) == (
            200, {"workflow": None, "events": 0, "applied": 0, "parked": 0, "ignored": 0})
    assert support.table_items() == before


def test_throttling_is_a_503_and_sending_again_finishes_the_work(dynamodb_faults):
    pipeline = pipelinejobs.register_pipeline("snakemake-throttled").uuid
    door = Door(pipeline, tokens.pipeline_token(tokens.secret(Config.from_env()), pipeline))
    status, created = door("GET", "create_workflow")
    info = {"level": "job_info", "jobid": 1, "name": "a", "input": [], "output": ["a.txt"], "wildcards": {}}
    form = {"msg": json.dumps(info), "id": created["id"]}
    dynamodb_faults.throttle(operation("TransactWriteItems"))
    status, answer = door("POST", "update_workflow_status", form=form)
    assert status == 503, answer
    dynamodb_faults.clear()
    assert door("POST", "update_workflow_status", form=form)[0] == 200
    wf = workflows.get(tracker.workflow_uuid("snakemake", pipeline, created["name"]))
    assert history(wf.jobs["a"][0]) == ["create", "update"]


def test_a_fan_in_of_thousands_of_files_is_tracked_its_data_keeping_the_first_of_them(door):
    """A merge of 2,000 files: its job_info's input list (~36 KB as JSON) is over an event's data limit, and was
    refused with a 413 (the task never tracked). The job keeps the first files that fit and the count."""
    status, created = door("GET", "create_workflow")
    shards = [f"work/{n:06d}.txt" for n in range(2000)]
    info = {"level": "job_info", "jobid": 0, "name": "merge", "input": shards, "output": ["merged.txt"],
            "wildcards": {}, "threads": 1}
    status, answer = door("POST", "update_workflow_status", form={"msg": json.dumps(info), "id": created["id"]})
    assert status == 200, answer
    wf = workflows.get(tracker.workflow_uuid("snakemake", door.pipeline, created["name"]))
    data = pipelinejobs.get_job(wf.jobs["merge"][0]).data
    assert data["input_total"] == 2000 and 0 < len(data["input"]) < 2000
    assert data["input"] == shards[:len(data["input"])] and data["output"] == ["merged.txt"]
    assert "output_total" not in data
