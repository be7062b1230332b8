"""Workflows on ``pipelinejobs local``, end to end, as a user drives them: ``pipelinejobs --local workflow ...``
with a YAML file, the stack's WorkflowsFunction releasing jobs from the table's stream, real local tasks
reporting outputs through ``$PIPELINEJOBS_OUTPUTS``, and kill through the CLI. (A fan-out and fan-in on the local
stack: the demo's test, in test_local_stack.py; rerun: tests/integration/workflows, on DynamoDB Local.)"""

from __future__ import annotations

import json
import sys
import time
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from localstack_process import Stack, running_stack

POLL = {"first": 1, "factor": 1, "cap": 1}


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


#: Writes ``{"n": <attempt>, "job": <its job uuid>}`` as its outputs; on attempt 1, sleeps first (``sleep-first``)
#: if asked.
OUTPUTS_TASK = python(
    "import json, os, sys, time\n"
    "attempt, outputs = int(os.environ['PIPELINEJOBS_ATTEMPT']), os.environ['PIPELINEJOBS_OUTPUTS']\n"
    "if 'sleep-first' in sys.argv and attempt == 1: time.sleep(600)\n"
    "json.dump({'n': attempt, 'job': os.environ['PIPELINEJOBS_JOB_UUID']}, open(outputs, 'w'))"
)


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack per test: a long-lived one on a loaded machine was seen to stall (a stream poller's GetRecords to
    moto's server never answered), which no test here is about."""
    with running_stack(tmp_path_factory.mktemp("local-workflows")) as running:
        yield running


def register(stack: Stack, name: str, *extra: str) -> str:
    """A pipeline of the outputs task (``extra``: its arguments); its name, unique to this test run."""
    name = f"{name}-{uuidlib.uuid4().hex[:6]}"
    task = {"launcher": "local", "params": {"command": [*OUTPUTS_TASK, *extra]}, "poll": POLL, "timeout_seconds": 300}
    stack.cli("pipelines", "register", name, "--task", json.dumps(task))
    return name


def submit(stack: Stack, tmp_path: Path, spec: str) -> str:
    path = tmp_path / "workflow.yaml"
    path.write_text(spec)
    return stack.cli("workflow", "submit", str(path))["uuid"]


def wait_for(stack: Stack, uuid: str, check: Any, what: str, timeout: float = 150) -> dict[str, Any]:
    """``workflow status --json`` once ``check`` holds for it."""
    deadline = time.monotonic() + timeout
    while True:
        status = stack.cli("workflow", "status", uuid)
        if check(status):
            return status
        assert time.monotonic() < deadline, f"{what}: not after {timeout} s: {json.dumps(status)[:3000]}"
        time.sleep(1)


def node(status: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in status["nodes"] if n["name"] == name)


def three_in_a_row(stack: Stack, tmp_path: Path, *slow_arguments: str) -> str:
    """first -> slow -> last, slow's task run with ``slow_arguments``; the workflow's uuid."""
    first, slow, last = (register(stack, "wf-first"), register(stack, "wf-slow", *slow_arguments),
                         register(stack, "wf-last"))
    return submit(stack, tmp_path, f"""\
name: it-{uuidlib.uuid4().hex[:6]}
jobs:
  first: {{pipeline: {first}}}
  slow: {{pipeline: {slow}, after: [first], data: {{from: "${{first.outputs.job}}"}}}}
  last: {{pipeline: {last}, after: [slow], data: {{n: "${{slow.outputs.n}}"}}}}
""")


def test_kill_mid_workflow_kills_the_running_job_and_marks_the_rest_never_run(stack: Stack, tmp_path: Path):
    uuid = three_in_a_row(stack, tmp_path, "sleep-first")
    wait_for(stack, uuid, lambda s: node(s, "slow")["counts"].get("RUNNING") == 1, "slow to run")

    killed = stack.cli("workflow", "kill", uuid)

    assert killed["state"] == "KILLED"
    status = wait_for(stack, uuid, lambda s: s["counts"].get("FAILED"), "the killed job to be counted")
    assert status["counts"] == {"FINISHED": 1, "FAILED": 1}
    [slow_job] = status["jobs"]["slow"]
    assert stack.cli("status", slow_job)["state"] == "FAILED"
    assert node(status, "last")["state"] == "never_run" and "killed" in node(status, "last")["never_run"]
    graph = stack.cli("workflow", "graph", uuid)["mermaid"]
    assert ":::never_run" in graph and ":::failed" in graph and graph.count(":::finished") == 1
    assert stack.cli("workflow", "kill", uuid)["state"] == "KILLED"  # again: harmless


def test_a_bad_spec_file_is_refused_naming_the_job_and_field_and_nothing_is_written(stack: Stack, tmp_path: Path):
    before = stack.cli("workflow", "list")
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\njobs:\n  a: {pipeline: no-such-pipeline-anywhere}\n  b: {pipeline: x, after: [c]}\n")

    done = stack.cli("workflow", "submit", str(path), expect=2)

    error = json.loads(done.stderr)
    assert error["error"] == "InvalidWorkflow" and "jobs.b.after: names no job 'c'" in error["message"]
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert stack.cli("workflow", "list") == before
