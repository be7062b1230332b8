"""Why an orchestrated attempt failed, through the real state machine: each sample end state in ``events/``
reaches the job's history, its attempts and its ``fail`` with its class; a template's ``retry_on`` decides
which classes are run again; a kill stops a local task and says so.

Batch and ECS are played by a fake client that answers each launch with the next sample (moto's Batch ends
every job at once and its ECS always exits 0: neither can say "out of memory"); Lambda's failures come as
its OnFailure destination event, through the events function; local tasks are real subprocesses.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from frontdoors import ROOT, SAMPLE_UUID, LambdaContext, handler_module
from sfn_harness import Harness, wait_until

import pipelinejobs
from pipelinejobs import orchestration
from pipelinejobs.launchers import batch as batch_module
from pipelinejobs.launchers import ecs as ecs_module

SAMPLES = ROOT / "events"
PARAMS = {"batch": {"jobQueue": "q", "jobDefinition": "d"}, "ecs": {"cluster": "pipelinejobs", "taskDefinition": "t"}}


def samples(*launchers: str) -> list[Path]:
    return [path for launcher in launchers for path in sorted((SAMPLES / launcher).glob("*.json"))]


def expected(path: Path) -> str | None:
    stem = path.stem.split("--")[0]
    return None if stem == "succeeded" else stem


def detail(launcher: str, name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / launcher / f"{name}.json").read_text())["detail"]


class Compute:
    """Batch and ECS as far as their launchers call them: the n-th task launched ends as ``ends[n]`` says."""

    def __init__(self, ends: list[dict[str, Any]]):
        self.ends = list(ends)
        self.tasks: dict[str, dict[str, Any]] = {}
        self.stopped: list[str] = []

    def _launch(self, key: str) -> str:
        self.tasks[key] = self.ends.pop(0)
        return key

    def submit_job(self, **_request: Any) -> dict:
        return {"jobId": self._launch(f"job-{len(self.tasks) + 1}")}

    def describe_jobs(self, jobs: list[str]) -> dict:
        return {"jobs": [{**self.tasks[jobs[0]], "jobId": jobs[0]}]}

    def terminate_job(self, jobId: str, reason: str) -> None:
        self.stopped.append(jobId)

    def describe_task_definition(self, taskDefinition: str) -> dict:
        return {"taskDefinition": {"containerDefinitions": [{"name": "worker"}]}}

    def run_task(self, **_request: Any) -> dict:
        return {"tasks": [{"taskArn": self._launch(f"arn:aws:ecs:us-east-1:123456789012:task/pj/{len(self.tasks)}")}]}

    def describe_tasks(self, cluster: str, tasks: list[str]) -> dict:
        return {"tasks": [{**self.tasks[tasks[0]], "taskArn": tasks[0]}]}

    def stop_task(self, cluster: str, task: str, reason: str) -> None:
        self.stopped.append(task)


def compute(monkeypatch: pytest.MonkeyPatch, *ends: dict[str, Any]) -> Compute:
    fake = Compute(list(ends))
    for module in (batch_module, ecs_module):
        monkeypatch.setattr(module, "client", lambda _service: fake)
    return fake


def pipeline(name: str, **task: Any) -> str:
    return pipelinejobs.register_pipeline(name, task=task).uuid


def gone(group: int) -> bool:
    """Whether no process of the task's group is left (its runner, our child, reaped first)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(group, os.WNOHANG)
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def fail_data(uuid: str) -> dict[str, Any]:
    return [e.data for e in pipelinejobs.get_job(uuid).history if e.name == "fail" and e.applied][-1]


@pytest.mark.parametrize("path", samples("batch", "ecs"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_batch_and_ecs_end_is_on_the_attempt_and_the_fail(sfn: Harness, monkeypatch: pytest.MonkeyPatch,
                                                               path: Path):
    launcher = path.parent.name
    compute(monkeypatch, json.loads(path.read_text())["detail"])
    run = orchestration.start(pipeline(f"{launcher}-{path.stem}", launcher=launcher, params=PARAMS[launcher]))

    assert sfn.finish(run.execution_arn)["status"] == ("FAILED" if expected(path) else "SUCCEEDED")
    [attempt] = orchestration.attempts(run.uuid)
    assert (attempt.launcher, attempt.failure, attempt.succeeded) == (launcher, expected(path), not expected(path))
    if expected(path):
        fail = fail_data(run.uuid)
        assert (fail["failure"], fail.get("exit_code")) == (expected(path), attempt.exit_code)
        assert fail["reason"] == attempt.reason and attempt.reason


def test_a_spot_interruption_is_retried_when_the_template_says_so(sfn: Harness, monkeypatch: pytest.MonkeyPatch):
    compute(monkeypatch, detail("batch", "spot_interruption"), detail("batch", "succeeded"))
    run = orchestration.start(pipeline("spot", launcher="batch", params=PARAMS["batch"], max_attempts=3,
                                       retry_on=["spot_interruption"]))

    assert sfn.finish(run.execution_arn)["status"] == "SUCCEEDED"
    assert [(a.number, a.failure) for a in orchestration.attempts(run.uuid)] == [(1, "spot_interruption"), (2, None)]


def test_a_class_the_template_does_not_retry_fails_the_job_at_once(sfn: Harness, monkeypatch: pytest.MonkeyPatch):
    fake = compute(monkeypatch, detail("ecs", "out_of_memory"), detail("ecs", "succeeded"))
    run = orchestration.start(pipeline("oom", launcher="ecs", params=PARAMS["ecs"], max_attempts=3,
                                       retry_on=["spot_interruption"]))

    assert sfn.finish(run.execution_arn)["status"] == "FAILED"
    assert [(a.number, a.failure) for a in orchestration.attempts(run.uuid)] == [(1, "out_of_memory")]
    assert fail_data(run.uuid)["failure"] == "out_of_memory"
    assert len(fake.ends) == 1  # no second task was launched


@pytest.mark.parametrize("path", samples("lambda"), ids=lambda p: p.stem)
def test_a_lambda_tasks_failure_reaches_its_job_through_the_events_function(sfn: Harness, path: Path):
    def function(event: dict) -> None:  # fails; Lambda sends its OnFailure destination this record
        job = event["pipelinejobs"]
        record = json.loads(path.read_text().replace(SAMPLE_UUID, job["uuid"]))
        record["detail"]["requestPayload"]["pipelinejobs"]["attempt"] = job["attempt"]
        assert handler_module("events").handler(record, LambdaContext())["statusCode"] == 200

    sfn.add_function("pipelinejobs-task-fails", function)
    run = orchestration.start(pipeline(f"lambda-{path.stem}", launcher="lambda",
                                       params={"FunctionName": "pipelinejobs-task-fails"}))

    assert sfn.finish(run.execution_arn)["status"] == "FAILED"
    assert pipelinejobs.get_job(run.uuid).state == "FAILED"
    assert fail_data(run.uuid)["failure"] == expected(path)
    assert [(a.number, a.failure) for a in orchestration.attempts(run.uuid)] == [(1, expected(path))]


@pytest.mark.parametrize(("command", "failure"), [
    ("echo boom >&2; exit 3", "exit_nonzero"),
    ("kill -KILL $$", "killed"),
    ("no-such-command-pipelinejobs", "launch_failed"),
])
def test_a_local_tasks_end_is_classified(sfn: Harness, command: str, failure: str):
    run = orchestration.start(pipeline(f"local-{failure}", launcher="local", params={"command": command}))

    assert sfn.finish(run.execution_arn)["status"] == "FAILED"
    assert fail_data(run.uuid)["failure"] == failure
    assert orchestration.attempts(run.uuid)[0].failure == failure


def test_a_killed_local_task_is_gone_and_the_kill_says_so(sfn: Harness):
    sfn.real_wait = 0.05
    run = orchestration.start(pipeline("sleeper", launcher="local", params={"command": "sleep 60"}))
    wait_until(lambda: pipelinejobs.get_job(run.uuid).state == "RUNNING", what="the job to run")

    killed = orchestration.kill(run.uuid)

    assert killed.task_stopped is True
    handle = pipelinejobs.get_job(run.uuid).record.launch["handle"]
    assert (Path(handle["directory"]) / "exit_code").read_text() == "-15"  # recorded before kill answered
    wait_until(lambda: gone(handle["pid"]), what="the runner and its command to be gone")
    fail = fail_data(run.uuid)
    assert (fail["failure"], fail["task_stopped"]) == ("killed", True)
    assert orchestration.attempts(run.uuid)[-1].failure == "killed"
    sfn.finish(run.execution_arn)
