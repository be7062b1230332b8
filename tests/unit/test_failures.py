"""Why an attempt failed (pipelinejobs.failures), on moto: every sample end state in ``events/`` is classified
as its file name says, where each launcher reads it (its check, the events function); a job moved only by AWS
events has its attempts; a kill stops the task and the job's history says whether it did."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from frontdoors import ROOT, SAMPLE_UUID, LambdaContext, handler_module
from moto import mock_aws
from sfn_harness import moto_batch_queue

import pipelinejobs
from pipelinejobs import orchestration
from pipelinejobs.cli.app import cli
from pipelinejobs.errors import InvalidTaskSpec
from pipelinejobs.failures import Failure
from pipelinejobs.intake import aws_events
from pipelinejobs.launchers import LAUNCHERS, LaunchRequest, Phase
from pipelinejobs.launchers import batch as batch_module
from pipelinejobs.launchers import ecs as ecs_module
from pipelinejobs.orchestration.spec import TaskSpec

SAMPLES = ROOT / "events"


def samples(*launchers: str) -> list[Path]:
    return [path for launcher in launchers for path in sorted((SAMPLES / launcher).glob("*.json"))]


def expected(path: Path) -> str | None:
    """The class a sample's name says (``<class>[--variant].json``); None for ``succeeded``."""
    stem = path.stem.split("--")[0]
    return None if stem == "succeeded" else stem


def load(path: Path, uuid: str = SAMPLE_UUID) -> dict[str, Any]:
    return json.loads(path.read_text().replace(SAMPLE_UUID, uuid))


def named(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.fixture
def table(aws_env):
    with mock_aws():
        pipelinejobs.create_tables()
        yield aws_env


def new_job(task: dict | None = None) -> pipelinejobs.PipelineJob:
    pipeline = pipelinejobs.register_pipeline("failures", task=task or {"launcher": "external"})
    return pipelinejobs.PipelineJob(pipeline.uuid, {"sample": "A2"}).setup()


def apply(event: dict[str, Any]) -> dict[str, Any]:
    """The events function's answer to an EventBridge event."""
    return handler_module("events").handler(event, LambdaContext())


def fail_data(uuid: str) -> dict[str, Any]:
    return [e.data for e in pipelinejobs.get_job(uuid).history if e.name == "fail" and e.applied][-1]


# ---- the samples, classified ---------------------------------------------------------------------


def test_the_samples_cover_every_class_a_launcher_reports():
    """``stale`` is no launcher's word: it is a silence (a heartbeat missed), tested through the state machine."""
    assert {expected(path) for path in samples("batch", "ecs", "lambda", "local")} == {*Failure, None} - {"stale"}


@pytest.mark.parametrize("path", samples("batch", "ecs", "lambda"), ids=named)
def test_each_aws_end_state_is_classified_as_its_sample_says(path: Path):
    [message] = aws_events.state_change_messages(load(path))

    data = message["data"]
    assert data.get("failure") == expected(path)
    assert message["event"] == ("fail" if expected(path) else "finish")
    assert data["reason"] if expected(path) else True  # the launcher's own words, kept


@pytest.mark.parametrize("path", samples("batch", "ecs"), ids=named)
def test_each_batch_and_ecs_end_state_is_classified_where_the_launcher_checks_it(path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch):
    detail = load(path)["detail"]  # what DescribeJobs / DescribeTasks return: the same shape

    class Described:
        def describe_jobs(self, jobs: list[str]) -> dict:
            return {"jobs": [detail]}

        def describe_tasks(self, cluster: str, tasks: list[str]) -> dict:
            return {"tasks": [detail]}

    launcher = path.parent.name
    monkeypatch.setattr(batch_module if launcher == "batch" else ecs_module, "client", lambda _service: Described())

    status = LAUNCHERS[launcher].check({"job_id": "j", "cluster": "c", "task_arn": "t"})

    assert (status.phase, status.failure) == (Phase.FAILED if expected(path) else Phase.SUCCEEDED, expected(path))
    assert status.exit_code == aws_events.state_change_messages(load(path))[0]["data"].get("exit_code")


@pytest.mark.parametrize("path", samples("local"), ids=named)
def test_each_local_end_state_is_classified_where_the_launcher_checks_it(path: Path, tmp_path: Path):
    exit_code = load(path)["exit_code"]
    if exit_code is not None:  # what the runner writes; none when the runner itself was killed
        (tmp_path / "exit_code").write_text(str(exit_code))

    status = LAUNCHERS["local"].check({"pid": _ended_pid(), "directory": str(tmp_path)})

    assert status.failure == expected(path)
    assert status.reason if expected(path) else status.phase == Phase.SUCCEEDED


def _ended_pid() -> int:
    """The pid of a process that has ended (and been reaped): what a runner that died leaves behind."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


# ---- jobs moved only by AWS events have attempts -------------------------------------------------


def test_a_batch_job_moved_only_by_aws_events_has_one_attempt_per_batch_attempt(table):
    job = new_job()
    spot, oom = load(SAMPLES / "batch" / "spot_interruption.json", job.uuid), load(
        SAMPLES / "batch" / "out_of_memory.json", job.uuid)
    first_attempt, second_attempt = spot["detail"]["attempts"][0], oom["detail"]["attempts"][0]

    def event(n: int, status: str, attempts: list, base: dict = spot) -> dict:
        detail = {**base["detail"], "status": status, "attempts": attempts}
        if status != "FAILED":
            detail = {k: v for k, v in detail.items() if k not in ("statusReason", "stoppedAt")}
        return {**base, "id": f"batch-{n}", "detail": detail}

    for answer in [apply(event(1, "RUNNING", [])),
                   apply(event(2, "RUNNABLE", [first_attempt])),  # Batch retries it (its retryStrategy)
                   apply(event(3, "RUNNING", [first_attempt])),
                   apply(event(4, "FAILED", [first_attempt, second_attempt], base=oom))]:
        assert answer["statusCode"] == 200, answer

    found = orchestration.attempts(job.uuid)
    assert [(a.number, a.launcher, a.failure, a.exit_code) for a in found] == [
        (1, "batch", "spot_interruption", None), (2, "batch", "out_of_memory", 137)]
    assert found[0].reason == "Host EC2 (instance i-0f1e2d3c4b5a69788) terminated."
    assert "OutOfMemoryError: Container killed due to memory usage" in found[1].reason
    assert found[1].handle == {"job_id": oom["detail"]["jobId"]} and found[1].stopped
    assert fail_data(job.uuid)["failure"] == "out_of_memory"  # the fail that ended the job says why

    result = CliRunner().invoke(cli, ["attempts", job.uuid, "--json"])
    assert result.exit_code == 0, result.output
    assert [a["failure"] for a in json.loads(result.output)] == ["spot_interruption", "out_of_memory"]


def test_an_ecs_job_moved_only_by_aws_events_has_one_attempt_per_task(table):
    job = new_job()
    spot = load(SAMPLES / "ecs" / "spot_interruption.json", job.uuid)
    succeeded = load(SAMPLES / "ecs" / "succeeded.json", job.uuid)
    second_task = succeeded["detail"]["taskArn"].replace("b99d40b3", "c00e51c4")
    succeeded["detail"] = {**succeeded["detail"], "taskArn": second_task}
    running = {**succeeded, "id": "ecs-running",
               "detail": {**succeeded["detail"], "lastStatus": "RUNNING", "desiredStatus": "RUNNING"}}

    assert apply(spot)["statusCode"] == 200
    for event in ("reset", "ready"):  # the job's owner runs it again, outside pipelinejobs
        pipelinejobs.handle_event({"uuid": job.uuid, "event": event}, trusted=True)
    assert [apply(e)["statusCode"] for e in (running, succeeded)] == [200, 200]

    found = orchestration.attempts(job.uuid)
    assert [(a.number, a.failure, a.succeeded) for a in found] == [(1, "spot_interruption", False), (2, None, True)]
    assert found[0].reason == "SpotInterruption: Your Spot Task was interrupted."
    assert found[1].handle["task_arn"] == second_task
    assert pipelinejobs.get_job(job.uuid).state == "FINISHED"


def test_a_failed_lambda_invocation_fails_its_job_saying_why(table):
    job = new_job({"launcher": "lambda", "params": {"FunctionName": "pipelinejobs-rnaseq"}})
    job.run()
    failure = load(SAMPLES / "lambda" / "out_of_memory.json", job.uuid)

    assert apply(failure)["statusCode"] == 200

    assert pipelinejobs.get_job(job.uuid).state == "FAILED"
    data = fail_data(job.uuid)
    assert (data["failure"], data["attempt"], data["requestId"]) == (
        "out_of_memory", 1, "6f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b")
    assert data["reason"].startswith("Runtime.OutOfMemory: ")
    assert orchestration.attempts(job.uuid)[-1].failure == "out_of_memory"


def test_another_functions_failure_is_ignored(table):
    event = load(SAMPLES / "lambda" / "exit_nonzero.json")
    del event["detail"]["requestPayload"]["pipelinejobs"]

    assert apply(event)["statusCode"] == 204


@pytest.mark.parametrize(("data", "failure"), [
    ({"reason": "bad input"}, "unknown"),
    ({"exit_code": 2}, "exit_nonzero"),
    ({"reason": "worker ran out of memory", "exit_code": 1}, "out_of_memory"),
    ({"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 3.00 seconds"}, "timeout"),
    ({"failure": "out_of_memory", "rss_mb": 4100}, "out_of_memory"),
    ({"failure": "it broke"}, "unknown"),  # not a class: ``failure`` in a fail's data is the class
])
def test_a_fail_a_task_sends_itself_carries_its_class(table, data: dict, failure: str):
    job = new_job().run()

    job.fail(data)

    assert fail_data(job.uuid) == {**data, "failure": failure}


def test_retry_on_names_failure_classes_a_task_can_be_retried_for():
    template = {"launcher": "external", "retry_on": ["spot_interruption", "out_of_memory"]}
    assert TaskSpec.resolve(template).retry_on == ["spot_interruption", "out_of_memory"]
    assert "exit_nonzero" in TaskSpec.resolve({"launcher": "external"}).retry_on  # by default: every failure

    with pytest.raises(InvalidTaskSpec) as refused:
        TaskSpec.resolve({**template, "retry_on": ["spot_interruption", "killed"]})
    assert [p["field"] for p in refused.value.to_dict()["errors"]] == ["retry_on.1"]


# ---- kill reaches the compute, and says so -------------------------------------------------------


@pytest.fixture
def batch(aws_env):
    with mock_aws(config={"batch": {"use_docker": False}}):
        pipelinejobs.create_tables()
        role = boto3.client("iam").create_role(RoleName="batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        yield moto_batch_queue(role)


def launched(job: pipelinejobs.PipelineJob, launcher: str, params: dict) -> dict:
    """Launch the job's first attempt as orchestration's launch step does, recording it on the job."""
    done = LAUNCHERS[launcher].launch(LaunchRequest(job.uuid, 1, params, {}, f"pj-{job.uuid}-1"))
    launch = {"attempt": 1, "launcher": launcher, **done.to_dict()}
    pipelinejobs.handle_event({"uuid": job.uuid, "event": "resource", "data": {"status": "LAUNCHED", **launch}},
                              trusted=True, fields={"attempt": 1, "launch": launch})
    return done.handle


def test_kill_terminates_the_batch_job_and_records_that_it_stopped(batch):
    job = new_job({"launcher": "batch", "params": batch}).run()
    handle = launched(job, "batch", batch)

    run = orchestration.kill(job.uuid)

    [submitted] = boto3.client("batch").describe_jobs(jobs=[handle["job_id"]])["jobs"]
    assert submitted["statusReason"] == "killed"  # moto records the TerminateJob
    assert run.task_stopped is True
    data = fail_data(job.uuid)
    assert (data["failure"], data["task_stopped"], data["reason"]) == ("killed", True, "killed")
    assert orchestration.attempts(job.uuid)[-1].failure == "killed"


def test_kill_of_a_task_that_cannot_be_cancelled_says_so(table):
    job = new_job({"launcher": "lambda", "params": {"FunctionName": "f"}}).run()
    launch = {"attempt": 1, "launcher": "lambda", "handle": {"function": "f", "request_id": "r-1"}}
    pipelinejobs.handle_event({"uuid": job.uuid, "event": "resource", "data": launch}, trusted=True,
                              fields={"attempt": 1, "launch": launch})

    result = CliRunner().invoke(cli, ["kill", job.uuid, "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["task_stopped"] == "uncancellable"
    assert fail_data(job.uuid)["task_stopped"] == "uncancellable"


def test_kill_of_a_job_with_no_task_fails_it_without_claiming_a_stop(table):
    job = new_job().run()

    run = orchestration.kill(job.uuid)

    assert run.task_stopped is None
    assert "task_stopped" not in fail_data(job.uuid) and fail_data(job.uuid)["failure"] == "killed"


def test_kill_of_a_task_not_yet_seen_ended_says_false(batch, monkeypatch: pytest.MonkeyPatch):
    job = new_job({"launcher": "batch", "params": batch}).run()
    launched(job, "batch", batch)
    monkeypatch.setattr(type(LAUNCHERS["batch"]), "check", lambda *_: LAUNCHERS["external"].check({}))

    run = orchestration.kill(job.uuid, confirm_seconds=0)

    assert run.task_stopped is False
    assert fail_data(job.uuid)["task_stopped"] is False


def test_status_and_attempts_say_why_a_job_failed(table):
    job = new_job().run()
    job.fail({"exit_code": 2, "attempt": 1})

    status = CliRunner().invoke(cli, ["status", job.uuid, "--json"])
    table_of_attempts = CliRunner().invoke(cli, ["attempts", job.uuid])

    assert status.exit_code == 0 and json.loads(status.output)["failure"] == "exit_nonzero"
    assert table_of_attempts.exit_code == 0 and "exit_nonzero" in table_of_attempts.output
