"""Helpers of tests/integration/workflows (its conftest.py holds the fixture).

Workflows end to end: the table in DynamoDB Local (its real stream), the job state machine run by moto's
engine (tests/sfn_harness.py), and the release consumer fed by the local stack's stream poller with the
template's own filter, in this process.

Tasks are simulated (:class:`OutputsLauncher`): each runs ``duration`` simulated seconds, exits with
``exit_code`` (from its job's data, else its params) and reports ``{"data": <its job's data>, **params.outputs}``
as its outputs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sfn_harness import Harness, wait_until

import pipelinejobs
from pipelinejobs import workflows
from pipelinejobs.errors import JobNotFound
from pipelinejobs.launchers import Launched, Launcher, LaunchRequest, Phase, TaskStatus
from pipelinejobs.local.pollers import StreamPoller
from pipelinejobs.storage.tables import load_template

MAPPING = "WorkflowsFunctionTableStream"


class OutputsLauncher(Launcher):
    """A simulated task that reports outputs; it records how many of its tasks run at once."""

    def __init__(self, harness: Harness):
        self.clock = harness.clock
        self.launched: list[str] = []
        self.cancelled: list[str] = []
        #: Tasks launched and not yet seen ended by a check, and the most there ever were at once.
        self.running: set[str] = set()
        self.most_at_once = 0

    def launch(self, request: LaunchRequest) -> Launched:
        data, params = request.job.get("data") or {}, request.params
        self.launched.append(request.job_uuid)
        self.running.add(request.job_uuid)
        self.most_at_once = max(self.most_at_once, len(self.running))
        exit_code = data.get("exit_code", params.get("exit_code", 0))
        if isinstance(exit_code, list):  # one code per attempt
            exit_code = exit_code[min(request.attempt, len(exit_code)) - 1]
        return Launched(handle={"job": request.job_uuid, "started": self.clock.now(),
                                "duration": data.get("duration", params.get("duration", 0)),
                                "exit_code": exit_code, "outputs": {"data": data, **params.get("outputs", {})}})

    def check(self, handle: dict[str, Any]) -> TaskStatus:
        status = self._status(handle)
        if status.phase in (Phase.SUCCEEDED, Phase.FAILED):
            self.running.discard(handle["job"])
        return status

    def _status(self, handle: dict[str, Any]) -> TaskStatus:
        if handle["job"] in self.cancelled:
            return TaskStatus(Phase.FAILED, "CANCELLED", reason="cancelled")
        if self.clock.now() < handle["started"] + handle["duration"]:
            return TaskStatus(Phase.RUNNING, "RUNNING")
        if handle["exit_code"]:
            return TaskStatus(Phase.FAILED, "EXITED", exit_code=handle["exit_code"],
                              reason=f"exited with {handle['exit_code']}")
        return TaskStatus(Phase.SUCCEEDED, "EXITED", exit_code=0, outputs=handle["outputs"])

    def cancel(self, handle: dict[str, Any], reason: str) -> None:
        self.cancelled.append(handle["job"])
        self.running.discard(handle["job"])


@dataclass
class Stack:
    sfn: Harness
    launcher: OutputsLauncher
    poller: StreamPoller
    #: Every batch of stream records the consumer was handed, in order.
    batches: list[list[dict[str, Any]]] = field(default_factory=list)

    def pipeline(self, name: str, **task: Any) -> str:
        return pipelinejobs.register_pipeline(name, task={"launcher": "outputs", **task}).uuid

    def wait(self, uuid: str, states: tuple[str, ...] = ("FINISHED", "FAILED", "KILLED"),
             timeout: float = 90.0) -> workflows.Workflow:
        """The workflow once it is in one of ``states`` and no execution runs any more."""
        deadline = time.monotonic() + timeout
        while True:
            workflow = workflows.get(uuid)
            if workflow.state in states and not any(e["status"] == "RUNNING" for e in self.executions()):
                return workflow
            if time.monotonic() > deadline:
                raise AssertionError(f"workflow {uuid} still {workflow.state} after {timeout} s: {workflow.counts}")
            time.sleep(0.05)

    def until(self, predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
        return wait_until(predicate, timeout, what, interval=0.05)

    def executions(self) -> list[dict[str, Any]]:
        """Every execution of the job state machine, in one page of up to 1,000 (moto's paginated listing lost
        one of 102 at a page boundary in a CI run)."""
        page = self.sfn.sfn.list_executions(stateMachineArn=self.sfn.state_machine_arn, maxResults=1000)
        assert "nextToken" not in page, "more than 1,000 executions: page through them"
        return page["executions"]

    def starts(self) -> dict[str, int]:
        """StartExecution calls per job (an execution's name is ``<job>-<run>``): each job's starts."""
        found: dict[str, int] = {}
        for execution in self.executions():
            job = execution["name"][:36]
            found[job] = found.get(job, 0) + 1
        return found


def template_filters() -> list[str]:
    return [f["Pattern"] for f in load_template()["Resources"][MAPPING]["Properties"]["FilterCriteria"]["Filters"]]




def task_token_of(uuid: str) -> str | None:
    """The job's task token, None until it has one (or until the job exists: a slot names its job's uuid
    just before the job is created)."""
    try:
        return pipelinejobs.get_job(uuid).record.task_token
    except JobNotFound:
        return None


def outputs_of(uuid: str) -> dict[str, Any]:
    """The outputs a job's finish event recorded."""
    finish = [e for e in pipelinejobs.get_job(uuid).history if e.applied and e.name == "finish"][-1]
    return finish.data["outputs"]


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
