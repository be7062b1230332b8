"""Run the real job state machine under moto's Step Functions engine, with our handlers in-process.

moto 5.2.1's gaps are worked around by ``pipelinejobs.local.moto_patches`` (the local stack uses
the same module; its docstring says why each change exists, and ``test_sfn_harness.py`` checks
each still takes effect). What this harness adds, for tests only:

* Wait states advance a simulated clock by their nominal seconds (recorded in ``Harness.waits``) and
  really sleep only ``real_wait`` seconds; Retry intervals do not sleep. Orchestration reads time
  from ``pipelinejobs.orchestration.clock.now``, which is pointed at the same simulated clock, so a
  10-hour job runs in seconds with its deadlines and backoff intact.
* A simulated launcher whose task runs for simulated seconds.

Callback waits (TimeoutSeconds, HeartbeatSeconds) stay real: tests keep them to a second or two.
"""

from __future__ import annotations

import json
import threading
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

import pipelinejobs
from pipelinejobs.launchers import LAUNCHERS, Launched, Launcher, LaunchRequest, Phase, TaskStatus
from pipelinejobs.local import moto_patches
from pipelinejobs.local.lambda_runtime import InProcessFunction
from pipelinejobs.local.template import substitute
from pipelinejobs.orchestration import clock

ROOT = Path(__file__).resolve().parents[1]
ASL_PATH = ROOT / "statemachines" / "pipelinejob.asl.json"
ORCHESTRATOR_DIR = ROOT / "functions" / "orchestrator"
ORCHESTRATOR = "pipelinejobs-orchestrator"
STATE_MACHINE = "pipelinejobs-test-job"
END_STATUSES = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}

Handler = Callable[[dict[str, Any]], Any]


class SimClock:
    """Simulated epoch seconds; starts at the real time so timestamps look sane."""

    def __init__(self) -> None:
        self._now = time.time()
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class SimulatedLauncher(Launcher):
    """A task that runs ``params.duration`` simulated seconds, then exits with ``params.exit_code``."""

    required_params = ("duration",)

    def __init__(self, sim_clock: SimClock):
        self.clock = sim_clock
        self.cancelled: list[dict[str, Any]] = []

    def launch(self, request: LaunchRequest) -> Launched:
        return Launched(handle={"started": self.clock.now(), "duration": request.params["duration"],
                                "exit_code": request.params.get("exit_code", 0)})

    def check(self, handle: dict[str, Any]) -> TaskStatus:
        if self.clock.now() < handle["started"] + handle["duration"]:
            return TaskStatus(Phase.RUNNING, "RUNNING")
        code = handle["exit_code"]
        return TaskStatus(Phase.SUCCEEDED if code == 0 else Phase.FAILED, "EXITED", exit_code=code)

    def cancel(self, handle: dict[str, Any], reason: str) -> None:
        self.cancelled.append(handle)


@dataclass
class Harness:
    sfn: Any
    state_machine_arn: str
    clock: SimClock
    functions: dict[str, Handler]
    role_arn: str
    #: Nominal seconds of every Wait state entered, in order.
    waits: list[int] = field(default_factory=list)
    #: Real seconds each Wait state sleeps (keeps loops around real subprocesses from spinning).
    real_wait: float = 0.005

    def add_function(self, name: str, handler: Handler) -> str:
        """A Lambda function in moto whose invocations call ``handler(event)`` in-process."""
        self.functions[name] = handler
        return boto3.client("lambda").create_function(
            FunctionName=name, Runtime="python3.12", Role=self.role_arn, Handler="app.handler",
            Code={"ZipFile": moto_patches.placeholder_code()},
        )["FunctionArn"]

    def finish(self, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for an execution to end; its DescribeExecution."""
        deadline = time.monotonic() + timeout
        while True:
            described = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] in END_STATUSES:
                return described
            if time.monotonic() > deadline:
                raise AssertionError(f"{execution_arn} still {described['status']} after {timeout} s")
            time.sleep(0.02)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        events, token = [], None
        while True:
            page = self.sfn.get_execution_history(executionArn=execution_arn, **({"nextToken": token} if token else {}))
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return events

    def executions(self) -> list[dict[str, Any]]:
        """Every execution of the job state machine, oldest first."""
        listed = self.sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]
        return sorted(listed, key=lambda e: e["startDate"])

    def finish_all(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Wait until no execution runs (continuations included); all of them, oldest first."""
        deadline = time.monotonic() + timeout
        while any(e["status"] == "RUNNING" for e in self.executions()):
            if time.monotonic() > deadline:
                raise AssertionError(f"executions still running after {timeout} s")
            time.sleep(0.02)
        return self.executions()

    def use_simulated_launcher(self, monkeypatch: pytest.MonkeyPatch) -> SimulatedLauncher:
        launcher = SimulatedLauncher(self.clock)
        monkeypatch.setitem(LAUNCHERS, "simulated", launcher)
        return launcher


def moto_batch_queue(role_arn: str) -> dict[str, str]:
    """A Batch job queue and job definition in moto: the launcher params that reach them."""
    batch = boto3.client("batch")
    environment = batch.create_compute_environment(computeEnvironmentName="pipelinejobs-ce", type="UNMANAGED",
                                                   state="ENABLED", serviceRole=role_arn)["computeEnvironmentArn"]
    batch.create_job_queue(jobQueueName="pipelinejobs-queue", state="ENABLED", priority=1,
                           computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}])
    batch.register_job_definition(jobDefinitionName="pipelinejobs-align", type="container",
                                  containerProperties={"image": "busybox", "vcpus": 1, "memory": 128})
    return {"jobQueue": "pipelinejobs-queue", "jobDefinition": "pipelinejobs-align"}


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition",
               interval: float = 0.01) -> Any:
    """``predicate``'s value once it is true, checked every ``interval`` s; AssertionError naming ``what`` after
    ``timeout`` s. The one wait of the tests: work done by threads or processes of their own is awaited so."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
    return value


def state_transitions(events: list[dict[str, Any]]) -> int:
    """Billed state transitions: one per state entered, plus one per retry of a Task."""
    entered = sum(1 for e in events if e["type"].endswith("StateEntered"))
    scheduled = sum(1 for e in events if e["type"] in ("TaskScheduled", "LambdaFunctionScheduled"))
    tasks = sum(1 for e in events if e["type"] == "TaskStateEntered")
    return entered + max(0, scheduled - tasks)


def orchestrator_handler() -> Handler:
    """functions/orchestrator/app.py's handler, loaded from its file as Lambda would."""
    return InProcessFunction.load(ORCHESTRATOR_DIR, "app.handler", ORCHESTRATOR)


@contextmanager
def running(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> Iterator[Harness]:
    """moto with the job state machine deployed; needs the environment ``aws_env`` sets."""
    sim = SimClock()
    functions: dict[str, Handler] = {}
    harness_box: list[Harness] = []

    def simulated_wait(self: WaitFunction, env: Any, wait_seconds: int) -> None:
        harness_box[0].waits.append(wait_seconds)
        sim.advance(wait_seconds)
        env.program_state_event.wait(harness_box[0].real_wait)

    monkeypatch.setattr(WaitFunction, "_wait_interval", simulated_wait)
    monkeypatch.setattr(retrier_decl, "time", types.SimpleNamespace(sleep=lambda seconds: None))
    monkeypatch.setattr(clock, "now", sim.now)
    monkeypatch.setenv("PIPELINEJOBS_LOCAL_DIR", str(workdir / "local-tasks"))

    patches = moto_patches.apply(functions)
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "batch": {"use_docker": False}}):
            pipelinejobs.create_tables()
            role_arn = boto3.client("iam").create_role(
                RoleName="pipelinejobs-test", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}),
            )["Role"]["Arn"]
            sfn = boto3.client("stepfunctions")
            harness = Harness(sfn=sfn, state_machine_arn="", clock=sim, functions=functions, role_arn=role_arn)
            harness_box.append(harness)
            orchestrator_arn = harness.add_function(ORCHESTRATOR, orchestrator_handler())
            harness.state_machine_arn = sfn.create_state_machine(
                name=STATE_MACHINE, roleArn=role_arn,
                definition=substitute(ASL_PATH.read_text(), {"OrchestratorFunctionArn": orchestrator_arn}),
            )["stateMachineArn"]
            monkeypatch.setenv("PIPELINEJOBS_STATE_MACHINE_ARN", harness.state_machine_arn)
            yield harness
            # Let executions still running end before moto's backends are torn down under them.
            for execution in harness.executions():
                if execution["status"] == "RUNNING":
                    sfn.stop_execution(executionArn=execution["executionArn"], error="TestEnded")
    finally:
        patches.undo()
