"""Every path of statemachines/pipelinejob.asl.json, executed as written by moto's engine.

The handlers are the real ones (functions/orchestrator/app.py); tasks are real local
subprocesses, moto's Batch, moto's Lambda, an outside runner played by the test, or a
simulated task driven by the simulated clock. Waits are shortened (tests/sfn_harness.py).
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
from frontdoors import LambdaContext, callback_request, conforming_webhook
from sfn_harness import ORCHESTRATOR, Harness, moto_batch_queue, state_transitions, wait_until

import pipelinejobs
from pipelinejobs import orchestration
from pipelinejobs.errors import ConcurrencyConflict, InvalidTransition
from pipelinejobs.launchers import LAUNCHERS
from pipelinejobs.orchestration.handlers import TIMEOUT_ERRORS
from pipelinejobs.orchestration.spec import TaskSpec
from pipelinejobs.orchestration.state import RunState
from pipelinejobs.sdk import runs as operations


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


#: A task that runs until stopped.
SLEEPER = python("import time; time.sleep(60)")


def pipeline(name: str, **task) -> str:
    return pipelinejobs.register_pipeline(name, task=task).uuid


def job(uuid: str) -> pipelinejobs.JobRecord:
    return pipelinejobs.get_job(uuid).record


def applied(uuid: str) -> list[tuple[str, str]]:
    """(event, state) of every applied history entry, oldest first."""
    return [(e.name, e.state) for e in pipelinejobs.get_job(uuid).history if e.applied]


def last_data(uuid: str, event: str) -> dict:
    return [e.data for e in pipelinejobs.get_job(uuid).history if e.applied and e.name == event][-1]


def step_names(harness: Harness, execution_arn: str) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in harness.history(execution_arn)
            if e["type"].endswith("StateEntered")]


def superseded(harness: Harness, execution_arn: str) -> dict:
    """Assert the execution ended quietly, in the Succeed state Superseded; why, from its output."""
    described = harness.finish(execution_arn)
    assert described["status"] == "SUCCEEDED"
    assert step_names(harness, execution_arn)[-1] == "Superseded"
    return json.loads(described["output"])["superseded"]


class SlowKill:
    """``orchestration.kill`` on a thread of its own, whose StopExecution waits until released: the
    window between kill's write and its StopExecution, held open so that steps of the run fall in it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.release = threading.Event()
        self.errors: list[BaseException] = []
        self.thread: threading.Thread | None = None
        real_client = operations.client

        def held(service: str):
            real = real_client(service)
            if service != "stepfunctions":
                return real

            class Held:
                def __getattr__(_, name: str):
                    return getattr(real, name)

                def stop_execution(_, **kwargs):
                    self.release.wait(30)
                    return real.stop_execution(**kwargs)

            return Held()

        monkeypatch.setattr(operations, "client", held)

    def land(self, uuid: str) -> None:
        """Start the kill and return once its write has landed (its StopExecution still held)."""
        def kill() -> None:
            try:
                orchestration.kill(uuid)
            except BaseException as exc:  # reported by finish
                self.errors.append(exc)

        self.thread = threading.Thread(target=kill, daemon=True)
        self.thread.start()
        wait_until(lambda: job(uuid).run_id is None, what="the kill's write")

    def finish(self) -> None:
        """Let the StopExecution go (the execution has ended by now); kill must not mind."""
        self.release.set()
        assert self.thread is not None
        self.thread.join(30)
        assert not self.thread.is_alive() and not self.errors, self.errors


@contextmanager
def hooked(monkeypatch: pytest.MonkeyPatch, target: object, name: str,
           before: Callable[[], None]) -> Iterator[list[int]]:
    """Call ``before`` once, the first time ``target.name`` is called; yields how many calls it saw."""
    real = getattr(target, name)
    calls: list[int] = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            before()
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)
    yield calls


# ---- polling ------------------------------------------------------------------------------


def test_success_records_every_step_and_keeps_the_output(sfn: Harness):
    run = orchestration.start(pipeline("echo", launcher="local", params={"command": python("print('hello')")}),
                              {"sample": 1})

    assert sfn.finish(run.execution_arn)["status"] == "SUCCEEDED"
    assert job(run.uuid).state == "FINISHED"
    assert [name for name, _ in applied(run.uuid)] == ["create", "update", "resource", "resource", "run", "finish"]
    assert last_data(run.uuid, "finish")["exit_code"] == 0
    names = step_names(sfn, run.execution_arn)
    polls = (len(names) - 3) // 3
    assert names == ["Dispatch", "Launch", *["Wait", "Check", "Dispatch"] * polls, "Finished"]
    assert sfn.waits == [10 * 2**n for n in range(polls)]  # the first check comes soon, then backs off
    [log] = orchestration.logs(run.uuid)
    assert log.output == {"stdout": "hello\n", "stderr": ""}


def test_a_local_tasks_outputs_file_becomes_its_finish_events_outputs(sfn: Harness):
    """The outputs a workflow's ``${job.outputs.x}`` reads: the ``outputs`` of the job's ``finish`` data."""
    writes = python("import json, os; "
                    "json.dump({'sha256': 'ab12', 'n': 3}, open(os.environ['PIPELINEJOBS_OUTPUTS'], 'w'))")
    run = orchestration.start(pipeline("outputs", launcher="local", params={"command": writes}))

    assert sfn.finish(run.execution_arn)["status"] == "SUCCEEDED"
    assert last_data(run.uuid, "finish")["outputs"] == {"sha256": "ab12", "n": 3}


def test_outputs_a_task_reports_itself_are_kept_in_polling_mode_too(sfn: Harness, tmp_path: Path):
    """A task whose launcher cannot read outputs back (Batch, ECS) sends ``finish`` with them itself (here the
    test plays it, while the task waits); the next check finds the job FINISHED and sends no ``finish`` of its own."""
    go = tmp_path / "go"
    waits = python(f"import os, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.05)")
    run = orchestration.start(pipeline("self-reporting", launcher="local", params={"command": waits}))
    wait_until(lambda: (job(run.uuid).launch or {}).get("handle"), what="the task to be launched")

    pipelinejobs.get_job(run.uuid).run().finish({"outputs": {"bam": "s3://b/x.bam"}})
    go.touch()

    assert sfn.finish(run.execution_arn)["status"] == "SUCCEEDED"
    assert [name for name, _ in applied(run.uuid)].count("finish") == 1
    assert last_data(run.uuid, "finish") == {"outputs": {"bam": "s3://b/x.bam"}}


def test_failed_attempts_are_relaunched_until_one_succeeds(sfn: Harness):
    flaky = python("import os, sys; n = int(os.environ['PIPELINEJOBS_ATTEMPT']); "
                   "print('attempt', n, file=sys.stderr); sys.exit(0 if n >= 3 else 1)")
    run = orchestration.start(pipeline("flaky", launcher="local", params={"command": flaky}, max_attempts=3))

    assert sfn.finish(run.execution_arn)["status"] == "SUCCEEDED"
    record = job(run.uuid)
    assert (record.state, record.attempt) == ("FINISHED", 3)
    attempts = orchestration.attempts(run.uuid)
    assert [(a.number, a.exit_code, a.succeeded) for a in attempts] == [(1, 1, False), (2, 1, False), (3, 0, True)]
    assert all(a.handle and a.started and a.stopped for a in attempts)
    assert [log.output["stderr"] for log in orchestration.logs(run.uuid)] == [f"attempt {n}\n" for n in (1, 2, 3)]
    # The job stayed RUNNING between attempts: each failure is an update, not a fail.
    assert [d["outcome"] for n, d in ((e.name, e.data) for e in pipelinejobs.get_job(run.uuid).history)
            if n == "update" and "outcome" in d] == ["retrying", "retrying"]


def test_an_attempt_that_failed_between_two_checks_ran_so_the_job_is_running_while_retried(
        sfn: Harness, monkeypatch: pytest.MonkeyPatch):
    """A task that exits before the first check never looked RUNNING to a check; it ran all the same (it has an
    exit code), so its job is RUNNING while the next attempt runs, as with a task seen running (the demo's flaky
    job showed CREATED throughout its two attempts)."""
    sfn.use_simulated_launcher(monkeypatch)
    run = orchestration.start(pipeline("quick-failure", launcher="simulated", params={"duration": 0, "exit_code": 3},
                                       max_attempts=2))

    assert sfn.finish(run.execution_arn)["status"] == "FAILED"
    assert applied(run.uuid) == [("create", "CREATED"), ("update", "CREATED"),
                                 ("resource", "CREATED"), ("resource", "CREATED"), ("run", "RUNNING"),
                                 ("update", "RUNNING"), ("resource", "RUNNING"), ("resource", "RUNNING"),
                                 ("fail", "FAILED")]
    assert [a.exit_code for a in orchestration.attempts(run.uuid)] == [3, 3]


def test_exhausted_attempts_fail_the_job_with_the_last_reason(sfn: Harness):
    failing = python("import sys; print('boom', file=sys.stderr); sys.exit(3)")
    run = orchestration.start(pipeline("failing", launcher="local", params={"command": failing}, max_attempts=2))

    described = sfn.finish(run.execution_arn)
    assert (described["status"], described["error"]) == ("FAILED", "JobFailed")
    assert job(run.uuid).state == "FAILED"
    fail = last_data(run.uuid, "fail")
    assert (fail["attempt"], fail["exit_code"], fail["reason"]) == (2, 3, "exited with 3")
    assert [log.output["stderr"] for log in orchestration.logs(run.uuid)] == ["boom\n", "boom\n"]


def test_timeout_stops_the_task_and_fails_the_job(sfn: Harness):
    run = orchestration.start(pipeline("slow", launcher="local", params={"command": SLEEPER},
                                       timeout_seconds=45, max_attempts=3))

    assert sfn.finish(run.execution_arn)["status"] == "FAILED"
    assert job(run.uuid).state == "FAILED"
    assert (last_data(run.uuid, "fail")["reason"], last_data(run.uuid, "fail")["failure"]) == ("timeout", "timeout")
    assert sfn.waits == [10, 20, 15]  # the last wait ends at the deadline, not at the next backoff step
    exit_code = Path(orchestration.attempts(run.uuid)[0].handle["directory"]) / "exit_code"
    assert wait_until(lambda: exit_code.is_file() and exit_code.read_text(), what="the cancelled task's exit") == "-15"
    assert len(orchestration.attempts(run.uuid)) == 1  # a timeout is not retried


def test_kill_mid_run_stops_task_and_execution(sfn: Harness):
    sfn.real_wait = 0.05
    run = orchestration.start(pipeline("long", launcher="local", params={"command": SLEEPER}))
    wait_until(lambda: job(run.uuid).state == "RUNNING", what="the job to run")

    orchestration.kill(run.uuid)

    ended = sfn.finish(run.execution_arn)
    # Stopped, or, if a check ran between kill's write and its StopExecution, ended quietly by that
    # check on finding the job no longer its run's (docs/orchestration.md, "Ownership"); never FAILED.
    assert ended["status"] == "ABORTED" or superseded(sfn, run.execution_arn)["reason"] == "released"
    record = job(run.uuid)
    assert (record.state, record.run_id) == ("FAILED", None)
    assert last_data(run.uuid, "fail")["reason"] == "killed"
    exit_code = Path(record.launch["handle"]["directory"]) / "exit_code"
    assert wait_until(lambda: exit_code.is_file() and exit_code.read_text(), what="the killed task's exit") == "-15"


def test_an_unexpected_error_fails_the_job_with_error_and_cause(sfn: Harness):
    run = orchestration.start(pipeline("nowhere", launcher="batch",
                                       params={"jobQueue": "no-such-queue", "jobDefinition": "no-such-definition"}))

    assert sfn.finish(run.execution_arn)["status"] == "FAILED"
    assert job(run.uuid).state == "FAILED"
    fail = last_data(run.uuid, "fail")
    assert fail["reason"] == "error"
    assert fail["error"] == "ClientException"
    assert "does not exist" in fail["cause"]
    assert "Recover" in step_names(sfn, run.execution_arn)


def test_batch_job_runs_to_the_end(sfn: Harness):
    run = orchestration.start(pipeline("align", launcher="batch", params=moto_batch_queue(sfn.role_arn)))

    assert sfn.finish(run.execution_arn)["status"] == "SUCCEEDED"
    assert job(run.uuid).state == "FINISHED"
    [attempt] = orchestration.attempts(run.uuid)
    assert attempt.log["cloudwatch"]["group"] == "/aws/batch/job"
    submitted = boto3.client("batch").describe_jobs(jobs=[attempt.handle["job_id"]])["jobs"][0]
    assert submitted["jobName"] == f"pj-{run.uuid}-1"


def test_a_launch_step_dying_after_submitjob_submits_no_second_batch_job(sfn: Harness,
                                                                      monkeypatch: pytest.MonkeyPatch):
    """SubmitJob takes no client token: the retried launch step finds the job by its name instead."""
    batch = LAUNCHERS["batch"]
    real_launch = batch.launch
    requests = []

    def dies_after_the_first_submit(request):
        requests.append(request)
        launched = real_launch(request)
        if len(requests) == 1:  # submitted, but the step dies before recording it; the Task retries it
            raise ConcurrencyConflict("injected between SubmitJob and recording the job")
        return launched

    monkeypatch.setattr(batch, "launch", dies_after_the_first_submit)
    run = orchestration.start(pipeline("align-retried", launcher="batch", params=moto_batch_queue(sfn.role_arn)))

    assert sfn.finish(run.execution_arn)["status"] == "SUCCEEDED"
    assert [r.retried for r in requests] == [False, True]
    listed = boto3.client("batch").list_jobs(jobQueue="pipelinejobs-queue",
                                             filters=[{"name": "JOB_NAME", "values": [f"pj-{run.uuid}-1"]}])
    [submitted] = listed["jobSummaryList"]
    [attempt] = orchestration.attempts(run.uuid)
    assert attempt.handle == {"job_id": submitted["jobId"]}
    assert job(run.uuid).state == "FINISHED"


def test_long_job_continues_as_new_execution(sfn: Harness, monkeypatch: pytest.MonkeyPatch):
    sfn.use_simulated_launcher(monkeypatch)
    run = orchestration.start(pipeline("long-sim", launcher="simulated", params={"duration": 600},
                                       poll={"first": 10, "cap": 60, "max_iterations": 4}))

    executions = sfn.finish_all()
    assert [e["status"] for e in executions] == ["SUCCEEDED"] * len(executions)
    assert len(executions) >= 3
    assert job(run.uuid).state == "FINISHED"
    assert job(run.uuid).execution_arn == executions[-1]["executionArn"]
    continued = [e.data for e in pipelinejobs.get_job(run.uuid).history if e.name == "update" and "segment" in e.data]
    assert [c["segment"] for c in continued] == list(range(1, len(executions)))
    assert step_names(sfn, executions[0]["executionArn"])[-2:] == ["ContinueAsNew", "Continued"]
    # Backoff carried over: every wait after the first four is at the cap.
    assert sfn.waits[:4] == [10, 20, 40, 60] and set(sfn.waits[4:]) == {60}


def test_a_job_reset_by_someone_else_is_left_alone(sfn: Harness, monkeypatch: pytest.MonkeyPatch):
    launcher = sfn.use_simulated_launcher(monkeypatch)
    sfn.real_wait = 0.05
    run = orchestration.start(pipeline("reset-sim", launcher="simulated", params={"duration": 10**6}))
    wait_until(lambda: job(run.uuid).state == "RUNNING", what="the job to run")

    pipelinejobs.get_job(run.uuid).reset({"reason": "admin"})

    why = superseded(sfn, run.execution_arn)
    assert (why["reason"], why["job_state"]) == ("moved", "RESET")
    assert job(run.uuid).state == "RESET"
    assert len(launcher.cancelled) == 1


# ---- a kill racing a step of the run: the execution ends quietly, not FAILED -------------------------


def test_a_kill_landing_after_launch_before_the_check_ends_the_execution_superseded(
        sfn: Harness, monkeypatch: pytest.MonkeyPatch):
    launcher = sfn.use_simulated_launcher(monkeypatch)
    uuid = pipeline("race-before-check", launcher="simulated", params={"duration": 10**6})
    kill = SlowKill(monkeypatch)
    orchestrator = sfn.functions[ORCHESTRATOR]
    runs: list[orchestration.Run] = []

    def killed_before_the_first_check(event: dict) -> dict:
        if event["action"] == "check" and not kill.thread:
            kill.land(runs[0].uuid)
        return orchestrator(event)

    sfn.functions[ORCHESTRATOR] = killed_before_the_first_check
    runs.append(orchestration.start(uuid))
    [run] = runs

    why = superseded(sfn, run.execution_arn)
    kill.finish()

    # released by the kill, which fails the job only once its task is stopped (the step saw it in between)
    assert (why["reason"], why["job_state"], why["run_id"]) == ("released", "CREATED", run.run_id)
    assert step_names(sfn, run.execution_arn) == ["Dispatch", "Launch", "Wait", "Check", "Dispatch", "Superseded"]
    assert sfn.finish(run.execution_arn)["status"] == "SUCCEEDED"  # the late StopExecution changed nothing
    record = job(run.uuid)
    assert (record.state, record.run_id) == ("FAILED", None)
    assert last_data(run.uuid, "fail")["reason"] == "killed"
    assert len(launcher.cancelled) == 1  # by the kill


@pytest.mark.parametrize("duration", [10**6, 0], ids=["task-running", "task-ended"])
def test_a_kill_landing_while_a_check_is_in_flight_ends_the_execution_superseded(
        sfn: Harness, monkeypatch: pytest.MonkeyPatch, duration: int):
    """The check has read the job as its run's and asks the launcher; the kill lands; the check's write
    (``run``, or ``finish`` of a task that ended) is refused. Before: FAILED JobSuperseded, via Recover."""
    launcher = sfn.use_simulated_launcher(monkeypatch)
    kill = SlowKill(monkeypatch)
    runs: list[orchestration.Run] = []
    with hooked(monkeypatch, launcher, "check", lambda: kill.land(runs[0].uuid)):
        runs.append(orchestration.start(pipeline("race-check", launcher="simulated", params={"duration": duration})))
        [run] = runs

        why = superseded(sfn, run.execution_arn)
    kill.finish()

    assert (why["reason"], why["job_state"]) == ("released", "CREATED")  # the kill fails it once the task stopped
    assert step_names(sfn, run.execution_arn) == ["Dispatch", "Launch", "Wait", "Check", "Dispatch", "Superseded"]
    record = job(run.uuid)
    assert (record.state, record.run_id) == ("FAILED", None)
    assert last_data(run.uuid, "fail")["reason"] == "killed"
    assert [name for name, _ in applied(run.uuid)][-1] == "fail"  # the check wrote nothing after it


@pytest.mark.parametrize("launcher_name", ["simulated", "external"], ids=["polling", "callback"])
def test_a_kill_landing_while_a_launch_is_in_flight_ends_the_execution_superseded(
        sfn: Harness, monkeypatch: pytest.MonkeyPatch, launcher_name: str):
    """The launch step raises (a callback Task ignores its result); Recover routes it to Superseded."""
    if launcher_name == "simulated":
        sfn.use_simulated_launcher(monkeypatch)
    kill = SlowKill(monkeypatch)
    runs: list[orchestration.Run] = []
    params = {"duration": 10**6} if launcher_name == "simulated" else {}
    with hooked(monkeypatch, LAUNCHERS[launcher_name], "launch", lambda: kill.land(runs[0].uuid)):
        runs.append(orchestration.start(pipeline(f"race-launch-{launcher_name}", launcher=launcher_name,
                                                 params=params)))
        [run] = runs

        why = superseded(sfn, run.execution_arn)
    kill.finish()

    assert (why["reason"], why["job_state"]) == ("released", "CREATED")  # the kill fails it once the task stopped
    assert step_names(sfn, run.execution_arn)[-3:] == ["Recover", "Dispatch", "Superseded"]
    record = job(run.uuid)
    assert (record.state, record.run_id) == ("FAILED", None)
    assert last_data(run.uuid, "fail")["reason"] == "killed"


def test_a_task_that_fails_still_fails_the_execution(sfn: Harness, monkeypatch: pytest.MonkeyPatch):
    """The counterpart of the races above, through the same simulated task: a real failure is FAILED."""
    sfn.use_simulated_launcher(monkeypatch)
    run = orchestration.start(pipeline("sim-fails", launcher="simulated", params={"duration": 5, "exit_code": 3}))

    described = sfn.finish(run.execution_arn)
    assert (described["status"], described["error"]) == ("FAILED", "JobFailed")
    assert step_names(sfn, run.execution_arn)[-1] == "Failed"
    assert job(run.uuid).state == "FAILED"
    assert last_data(run.uuid, "fail")["reason"] == "EXITED"


# ---- rerun ----------------------------------------------------------------------------------


def test_rerun_is_the_next_attempt_of_the_same_job(sfn: Harness):
    uuid = pipeline("fix-me", launcher="local", params={"command": python("raise SystemExit(2)")})
    first = orchestration.start(uuid, {"sample": 7})
    sfn.finish(first.execution_arn)
    assert job(first.uuid).state == "FAILED"

    second = orchestration.rerun(first.uuid, overrides={"params": {"command": python("print('fixed')")}})

    assert second.uuid == first.uuid and second.run_id != first.run_id
    assert sfn.finish(second.execution_arn)["status"] == "SUCCEEDED"
    record = job(first.uuid)
    assert (record.state, record.attempt) == ("FINISHED", 2)
    assert [a.succeeded for a in orchestration.attempts(first.uuid)] == [False, True]
    assert [log.output["stdout"] for log in orchestration.logs(first.uuid, attempt=2)] == ["fixed\n"]
    names = [name for name, _ in applied(first.uuid)]
    assert names[names.index("fail"):names.index("fail") + 3] == ["fail", "reset", "ready"]


def test_rerun_refuses_a_running_job(sfn: Harness, monkeypatch: pytest.MonkeyPatch):
    sfn.use_simulated_launcher(monkeypatch)
    sfn.real_wait = 0.05
    run = orchestration.start(pipeline("busy", launcher="simulated", params={"duration": 10**6}))
    wait_until(lambda: job(run.uuid).state == "RUNNING", what="the job to run")

    with pytest.raises(InvalidTransition, match="kill it first"):
        orchestration.rerun(run.uuid)
    orchestration.kill(run.uuid)
    assert sfn.finish(run.execution_arn)["status"] == "ABORTED"


# ---- an execution started outside the SDK ------------------------------------------------------


def sdk_input(pipeline_uuid: str, data: dict) -> tuple[str, dict]:
    """The job set up, and the input ``orchestration.start`` would give its execution, but no claim made:
    what someone starting the execution with the AWS CLI has."""
    record = pipelinejobs.PipelineJob(pipeline_uuid, data).setup().record
    spec = TaskSpec.resolve(pipelinejobs.get_pipeline(pipeline_uuid).task)
    state = RunState.first(job=record.uuid, pipeline=pipeline_uuid, run_id=secrets.token_hex(6), spec=spec,
                           attempt=record.attempt + 1, now=time.time())
    return record.uuid, state.to_dict()


@pytest.mark.parametrize("task", [{"launcher": "local", "params": {"command": python("print('ran')")}},
                                  {"launcher": "external"}], ids=["polling", "callback"])
def test_an_execution_the_sdk_did_not_start_fails_job_not_claimed_and_leaves_the_job_alone(sfn: Harness, task):
    uuid, state = sdk_input(pipeline(f"outside-{task['launcher']}", **task), {"sample": 1})
    before = pipelinejobs.get_job(uuid).history

    started = sfn.sfn.start_execution(stateMachineArn=sfn.state_machine_arn, name=f"{uuid}-{state['run_id']}",
                                      input=json.dumps(state))

    described = sfn.finish(started["executionArn"])
    assert (described["status"], described.get("error")) == ("FAILED", "JobNotClaimed")
    assert uuid in described["cause"] and f"pipelinejobs rerun {uuid}" in described["cause"]
    assert step_names(sfn, started["executionArn"])[-1] == "NotClaimed"
    assert (job(uuid).state, job(uuid).run_id, pipelinejobs.get_job(uuid).history) == ("CREATED", None, before)


def test_an_outside_execution_for_a_job_a_run_owns_fails_and_the_run_goes_on(sfn: Harness,
                                                                            monkeypatch: pytest.MonkeyPatch):
    sfn.use_simulated_launcher(monkeypatch)
    sfn.real_wait = 0.05
    uuid = pipeline("owned", launcher="simulated", params={"duration": 10**6})
    run = orchestration.start(uuid, {"sample": 2})
    wait_until(lambda: job(run.uuid).state == "RUNNING", what="the job to run")
    _, state = sdk_input(uuid, {"sample": 2})

    started = sfn.sfn.start_execution(stateMachineArn=sfn.state_machine_arn, name="by-hand", input=json.dumps(state))

    assert sfn.finish(started["executionArn"]).get("error") == "JobNotClaimed"  # not "superseded": never its run
    assert (job(run.uuid).state, job(run.uuid).run_id) == ("RUNNING", run.run_id)
    assert sfn.sfn.describe_execution(executionArn=run.execution_arn)["status"] == "RUNNING"
    orchestration.kill(run.uuid)


# ---- callback mode ----------------------------------------------------------------------------


def test_callback_success_from_a_lambda_task_that_reports_back(sfn: Harness):
    received = []

    def worker(event: dict) -> None:  # what a task's Lambda function does with the SDK
        received.append(event)
        pipelinejobs.get_job(event["pipelinejobs"]["uuid"]).run({"worker": "up"}).finish({"outputs": 2})

    sfn.add_function("pipelinejobs-task-count", worker)
    run = orchestration.start(pipeline("count", launcher="lambda",
                                       params={"FunctionName": "pipelinejobs-task-count", "Payload": {"x": 1}}))

    assert sfn.finish(run.execution_arn)["status"] == "SUCCEEDED"
    assert job(run.uuid).state == "FINISHED"
    [event] = received
    assert event["x"] == 1 and event["pipelinejobs"]["attempt"] == 1
    assert step_names(sfn, run.execution_arn) == ["Dispatch", "LaunchAndAwait", "Finished"]
    assert state_transitions(sfn.history(run.execution_arn)) == 3


def test_callback_failure_reported_by_the_job_fails_the_execution(sfn: Harness):
    run = orchestration.start(pipeline("outside", launcher="external"))
    wait_until(lambda: job(run.uuid).task_token, what="the execution to wait on its token")

    pipelinejobs.get_job(run.uuid).run().fail({"reason": "bad input"})  # the outside runner, via the webhook

    described = sfn.finish(run.execution_arn)
    assert (described["status"], described["error"]) == ("FAILED", "JobFailed")
    assert job(run.uuid).state == "FAILED"
    assert last_data(run.uuid, "fail") == {"reason": "bad input", "failure": "unknown"}  # every fail says why
    assert job(run.uuid).task_token is not None  # the failed attempt's token: spent, never reused


def test_callback_failure_is_retried_as_a_new_attempt(sfn: Harness):
    run = orchestration.start(pipeline("outside-twice", launcher="external", max_attempts=2))
    first_token = wait_until(lambda: job(run.uuid).task_token, what="the first attempt's token")
    pipelinejobs.get_job(run.uuid).run().fail({"reason": "transient"})

    wait_until(lambda: job(run.uuid).task_token not in (None, first_token), what="the second attempt's token")
    assert job(run.uuid).attempt == 2
    pipelinejobs.get_job(run.uuid).run().finish()

    assert sfn.finish(run.execution_arn)["status"] == "SUCCEEDED"
    names = [name for name, _ in applied(run.uuid)]
    assert names[names.index("fail"):names.index("fail") + 3] == ["fail", "reset", "ready"]
    assert job(run.uuid).state == "FINISHED"


def test_callback_heartbeat_timeout_fails_a_silent_job(sfn: Harness):
    run = orchestration.start(pipeline("silent", launcher="external", heartbeat_seconds=1))

    assert sfn.finish(run.execution_arn, timeout=20)["status"] == "FAILED"
    assert job(run.uuid).state == "FAILED"
    fail = last_data(run.uuid, "fail")
    assert (fail["reason"], fail["failure"]) == ("heartbeat", "stale")
    assert fail["error"] in TIMEOUT_ERRORS  # AWS says States.HeartbeatTimeout; moto, States.Timeout


def test_callback_events_count_as_heartbeats(sfn: Harness):
    run = orchestration.start(pipeline("chatty", launcher="external", heartbeat_seconds=1))
    wait_until(lambda: job(run.uuid).task_token, what="the execution to wait on its token")
    reporter = pipelinejobs.get_job(run.uuid).run()
    for beat in range(5):  # 2 s in all: twice the heartbeat, so only the updates keep it alive
        time.sleep(0.4)
        reporter.update({"progress": beat})

    reporter.finish()

    assert sfn.finish(run.execution_arn)["status"] == "SUCCEEDED"
    assert job(run.uuid).state == "FINISHED"


def runner_callbacks(uuid: str) -> Callable[[str], dict]:
    """An outside runner as curl would be: POST /jobs/{uuid}/events?token=&status= with an empty body, through
    the webhook's handler. Its callbacks in every attempt are the same bytes."""
    webhook, token = conforming_webhook(), pipelinejobs.get_job(uuid).token

    def post(status: str) -> dict:
        response = webhook(callback_request(uuid, {"token": token, "status": status}, None), LambdaContext())
        assert response["statusCode"] == 200, response
        return json.loads(response["body"])

    return post


def test_a_runners_identical_callbacks_count_in_its_second_attempt(sfn: Harness):
    run = orchestration.start(pipeline("same-words", launcher="external", max_attempts=2))
    first_token = wait_until(lambda: job(run.uuid).task_token, what="the first attempt's token")
    post = runner_callbacks(run.uuid)
    post("RUNNING")
    post("FAILED")

    wait_until(lambda: job(run.uuid).task_token not in (None, first_token), what="the second attempt's token")
    answers = [post("RUNNING"), post("SUCCEEDED")]

    assert [(a["duplicate"], a["state"]) for a in answers] == [(False, "RUNNING"), (False, "FINISHED")]
    assert sfn.finish(run.execution_arn)["status"] == "SUCCEEDED"
    assert (job(run.uuid).state, job(run.uuid).attempt) == ("FINISHED", 2)


def test_a_rerun_counts_the_runners_identical_callbacks(sfn: Harness):
    first = orchestration.start(pipeline("again", launcher="external"))
    wait_until(lambda: job(first.uuid).task_token, what="the execution to wait on its token")
    post = runner_callbacks(first.uuid)
    post("RUNNING")
    post("SUCCEEDED")
    assert sfn.finish(first.execution_arn)["status"] == "SUCCEEDED"

    second = orchestration.rerun(first.uuid)
    wait_until(lambda: job(first.uuid).attempt == 2 and job(first.uuid).task_token, what="the rerun's token")
    answers = [post("RUNNING"), post("SUCCEEDED")]

    assert [(a["duplicate"], a["state"]) for a in answers] == [(False, "RUNNING"), (False, "FINISHED")]
    assert sfn.finish(second.execution_arn)["status"] == "SUCCEEDED"
    assert [name for name, _ in applied(first.uuid)].count("finish") == 2


def test_callback_timeout_fails_the_job(sfn: Harness):
    run = orchestration.start(pipeline("too-slow", launcher="external", timeout_seconds=1, max_attempts=2))

    assert sfn.finish(run.execution_arn, timeout=20)["status"] == "FAILED"
    fail = last_data(run.uuid, "fail")
    assert (fail["reason"], fail["attempt"]) == ("timeout", 1)  # a timeout is not retried


def test_the_runs_final_fail_releases_the_job_whose_launch_records_its_max_attempts(sfn: Harness):
    """What a workflow reads from the job's item alone: a FAILED job its run still owns with attempts left is
    about to be retried; one its run released (or with its attempts spent) has failed for good."""
    run = orchestration.start(pipeline("too-slow-released", launcher="external", timeout_seconds=1, max_attempts=2))

    assert sfn.finish(run.execution_arn, timeout=20)["status"] == "FAILED"
    record = job(run.uuid)
    assert (record.state, record.run_id, record.attempt, record.launch["max_attempts"]) == ("FAILED", None, 1, 2)


def test_a_retried_launch_step_launches_nothing_twice(sfn: Harness):
    orchestrator = sfn.functions[ORCHESTRATOR]
    failures = []

    def fails_once_after_launching(event: dict) -> dict:
        result = orchestrator(event)
        if event["action"] == "launch" and not failures:
            failures.append(event)
            raise ConcurrencyConflict("injected after the launch was recorded")  # in the Task's Retry list
        return result

    sfn.functions[ORCHESTRATOR] = fails_once_after_launching
    run = orchestration.start(pipeline("retried", launcher="local", params={"command": python("print('once')")}))

    assert sfn.finish(run.execution_arn)["status"] == "SUCCEEDED"
    assert len(failures) == 1
    launched = [e for e in pipelinejobs.get_job(run.uuid).history if e.data.get("status") == "LAUNCHED"]
    assert len(launched) == 1
    assert [log.output["stdout"] for log in orchestration.logs(run.uuid)] == ["once\n"]
