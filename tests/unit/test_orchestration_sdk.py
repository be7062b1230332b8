"""Orchestration's additions to the core (fields and expectations written with events, task
tokens settled after them) and the SDK operations, on moto (executions are recorded, not run:
tests/stepfunctions runs them)."""

from __future__ import annotations

import json
import logging

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

import pipelinejobs
from pipelinejobs import orchestration, runner_status, task_tokens
from pipelinejobs.errors import InvalidTaskSpec, PreconditionFailed
from pipelinejobs.launchers import LAUNCHERS, TaskStatus
from pipelinejobs.launchers.aws import client
from pipelinejobs.orchestration import handlers
from pipelinejobs.orchestration.spec import TaskSpec
from pipelinejobs.sdk import runs

TASK = {"launcher": "external"}


@pytest.fixture
def moto_env(aws_env, monkeypatch: pytest.MonkeyPatch):
    """The table, and a job state machine whose executions moto records without running them."""
    with mock_aws():
        pipelinejobs.create_tables()
        role = boto3.client("iam").create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        machine = boto3.client("stepfunctions").create_state_machine(
            name="pipelinejobs-unit-job", roleArn=role,
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        )["stateMachineArn"]
        monkeypatch.setenv("PIPELINEJOBS_STATE_MACHINE_ARN", machine)
        yield machine


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    """Every Step Functions call the settle hook makes, instead of making it."""
    calls: list[tuple[str, dict]] = []
    monkeypatch.setattr(task_tokens, "_send", lambda operation, **arguments: calls.append((operation, arguments)))
    return calls


def new_job(data: dict | None = None, task: dict | None = TASK) -> pipelinejobs.PipelineJob:
    pipeline = pipelinejobs.register_pipeline("unit", task=task)
    return pipelinejobs.PipelineJob(pipeline.uuid, data or {"n": 1}).setup()


def send(uuid: str, event: str, data: dict | None = None, **kwargs) -> pipelinejobs.Outcome:
    return pipelinejobs.handle_event({"uuid": uuid, "event": event, "data": data or {}}, trusted=True, **kwargs)


def awaiting(job: pipelinejobs.PipelineJob, heartbeat: int | None = None) -> pipelinejobs.PipelineJob:
    """The job as a callback-mode launch step leaves it: running, with a task token."""
    send(job.uuid, "run", source="stepfunctions",
         fields={"task_token": "token-1", "launch": {"launcher": "external", "heartbeat_seconds": heartbeat}})
    return job


# ---- fields and expectations written with an event -------------------------------------------------


def test_fields_are_written_with_the_event_and_cleared_with_none(moto_env):
    job = new_job()
    send(job.uuid, "update", fields={"run_id": "r1", "attempt": 2, "launch": {"handle": {"id": 7}},
                                     "execution_arn": "arn:x", "task_token": "t"})
    record = pipelinejobs.get_job(job.uuid).record
    assert (record.run_id, record.attempt, record.launch, record.execution_arn, record.task_token) == (
        "r1", 2, {"handle": {"id": 7}}, "arn:x", "t")

    send(job.uuid, "update", fields={"run_id": None, "task_token": None})

    record = pipelinejobs.get_job(job.uuid).record
    assert (record.run_id, record.task_token, record.attempt) == (None, None, 2)


def test_fields_never_reach_what_the_fsm_decides(moto_env):
    job = new_job()
    with pytest.raises(ValueError, match="may be set with an event"):
        send(job.uuid, "update", fields={"state": "FINISHED"})
    assert pipelinejobs.get_job(job.uuid).state == "CREATED"


def test_an_unmet_expectation_writes_nothing(moto_env):
    job = new_job()
    send(job.uuid, "update", fields={"run_id": "mine"})
    version = pipelinejobs.get_job(job.uuid).record.version

    with pytest.raises(PreconditionFailed) as raised:
        send(job.uuid, "run", expect={"run_id": "theirs"})

    assert raised.value.mismatched == {"run_id": "mine"}
    assert pipelinejobs.get_job(job.uuid).record.version == version


def test_the_task_token_is_never_shown(moto_env):
    job = awaiting(new_job())
    record = pipelinejobs.get_job(job.uuid).record
    assert record.task_token == "token-1"
    assert "task_token" not in record.to_dict() and "token-1" not in repr(record)


# ---- settling task tokens after an event ----------------------------------------------------------


def test_a_job_that_finishes_completes_the_waiting_task(moto_env, sent):
    job = awaiting(new_job())
    send(job.uuid, "finish", {"outputs": 3}, source="webhook")

    [(operation, arguments)] = sent
    assert (operation, arguments["taskToken"]) == ("send_task_success", "token-1")
    assert json.loads(arguments["output"]) == {"state": "FINISHED", "uuid": job.uuid, "event": "finish", "seq": 3,
                                               "outputs": 3}


def test_a_job_that_fails_fails_the_waiting_task(moto_env, sent):
    job = awaiting(new_job())
    send(job.uuid, "fail", {"reason": "bad input"}, source="webhook")

    [(operation, arguments)] = sent
    assert (operation, arguments["error"]) == ("send_task_failure", "JobFailed")
    assert json.loads(arguments["cause"])["reason"] == "bad input"


def test_other_events_are_heartbeats_only_when_the_task_asked_for_them(moto_env, sent):
    quiet, chatty = awaiting(new_job({"n": 1})), awaiting(new_job({"n": 2}), heartbeat=60)
    for job in (quiet, chatty):
        send(job.uuid, "update", {"progress": 1}, source="webhook")
    send(chatty.uuid, "update", {"progress": 2}, source="stepfunctions")  # orchestration's own: not a sign of life

    assert sent == [("send_task_heartbeat", {"taskToken": "token-1"})]


def test_a_repeated_callback_is_a_heartbeat_too(moto_env, sent):
    job = awaiting(new_job(), heartbeat=60)
    beat = runner_status.callback_message(job.uuid, token=None, status="HEARTBEAT", event=None, data={"progress": 1})
    outcomes = [pipelinejobs.handle_event(beat, trusted=True, source="webhook") for _ in range(3)]

    assert [o.duplicate for o in outcomes] == [False, True, True]
    assert sent == [("send_task_heartbeat", {"taskToken": "token-1"})] * 3


def test_nothing_is_settled_twice_or_for_a_job_that_was_not_waiting(moto_env, sent):
    job = awaiting(new_job())
    message = {"uuid": job.uuid, "event": "finish", "data": {}, "id": "callback-1"}
    pipelinejobs.handle_event(message, trusted=True)
    pipelinejobs.handle_event(message, trusted=True)  # a duplicate delivery
    send(job.uuid, "finish")  # FINISHED → FINISHED: the task was settled already
    assert [operation for operation, _ in sent] == ["send_task_success"]


def test_a_refused_settle_is_logged_not_raised(moto_env, caplog: pytest.LogCaptureFixture):
    job = awaiting(new_job())
    with Stubber(client("stepfunctions")) as stepfunctions, caplog.at_level(logging.INFO, task_tokens.__name__):
        stepfunctions.add_client_error("send_task_success", "TaskTimedOut", "the task timed out")
        assert send(job.uuid, "finish").state == "FINISHED"
        stepfunctions.assert_no_pending_responses()
    assert "send_task_success refused" in caplog.text


def test_a_retried_callback_launch_step_stores_the_new_token(moto_env):
    """Step Functions gives a retried Task a new token (moto keeps the old one, so this is tested here):
    the job must carry the new one, or its end would settle a token nobody waits on."""
    run = orchestration.start(pipelinejobs.register_pipeline("unit", task=TASK).uuid, {"n": 1})
    state = json.loads(boto3.client("stepfunctions").describe_execution(executionArn=run.execution_arn)["input"])
    request = {"action": "launch", "state": state, "execution": run.execution_arn}

    handlers.handle({**request, "token": "first"})
    handlers.handle({**request, "token": "retried"})

    job = pipelinejobs.get_job(run.uuid)
    assert job.record.task_token == "retried"
    assert [e.data.get("status") for e in job.history if e.name == "resource"] == ["LAUNCHING", "LAUNCHED"]


def test_a_state_dispatch_cannot_route_fails_the_job_with_the_reason(moto_env):
    run = orchestration.start(pipelinejobs.register_pipeline("unit", task=TASK).uuid, {"n": 1})
    state = json.loads(boto3.client("stepfunctions").describe_execution(executionArn=run.execution_arn)["input"])

    unroutable = {**state, "next": "teleport"}
    after = handlers.handle({"action": "recover", "state": unroutable, "execution": run.execution_arn})

    assert after["next"] == "failed"
    [fail] = [e.data for e in pipelinejobs.get_job(run.uuid).history if e.name == "fail"]
    assert (fail["reason"], fail["cause"]) == ("error", "no step named 'teleport'")


# ---- a run told to stop ends quietly ----------------------------------------------------------------


def launched(task: dict | None = None) -> tuple[orchestration.Run, dict]:
    """A started job whose first attempt the launch step has recorded; the request a check step gets."""
    run = orchestration.start(pipelinejobs.register_pipeline("unit", task=task or TASK).uuid, {"n": 1})
    state = json.loads(boto3.client("stepfunctions").describe_execution(executionArn=run.execution_arn)["input"])
    request = {"state": state, "execution": run.execution_arn}
    handlers.handle({**request, "action": "launch", "token": "token-1"})
    return run, request


def test_a_check_of_a_killed_job_ends_the_run_quietly_saying_why(moto_env):
    run, request = launched()
    orchestration.kill(run.uuid)

    after = handlers.handle({**request, "action": "check"})

    assert after["next"] == "superseded"
    assert after["superseded"] == {"reason": "released", "job_state": "FAILED", "last_event": "fail",
                                   "job_run_id": None, "run_id": run.run_id}


def test_a_kill_landing_while_a_check_is_in_flight_ends_the_run_quietly(moto_env, monkeypatch: pytest.MonkeyPatch):
    run, request = launched()
    external = LAUNCHERS["external"]
    real_check = external.check

    def killed_meanwhile(handle: dict) -> TaskStatus:  # the check read the job as its run's, then the kill lands
        orchestration.kill(run.uuid)
        return real_check(handle)

    monkeypatch.setattr(external, "check", killed_meanwhile)

    after = handlers.handle({**request, "action": "check"})  # its "run" write is refused: PreconditionFailed

    assert (after["next"], after["superseded"]["reason"]) == ("superseded", "released")
    record = pipelinejobs.get_job(run.uuid).record
    assert (record.state, record.run_id) == ("FAILED", None)
    assert not [e for e in pipelinejobs.get_job(run.uuid).history if e.name == "run"]


def test_a_kill_landing_while_recover_fails_the_attempt_ends_the_run_quietly(moto_env,
                                                                            monkeypatch: pytest.MonkeyPatch):
    run, request = launched()
    external = LAUNCHERS["external"]
    real_cancel = external.cancel
    landed: list[str] = []

    def killed_meanwhile(handle: dict, reason: str) -> None:  # recover stops the task; the kill lands
        if not landed:
            landed.append(reason)
            orchestration.kill(run.uuid)
        real_cancel(handle, reason)

    monkeypatch.setattr(external, "cancel", killed_meanwhile)
    caught = {**request["state"], "error": {"Error": "Lambda.Unknown", "Cause": "boom"}}

    after = handlers.handle({**request, "state": caught, "action": "recover"})  # its "fail" is refused

    assert (after["next"], after["superseded"]["reason"]) == ("superseded", "released")
    [fail] = [e.data for e in pipelinejobs.get_job(run.uuid).history if e.name == "fail" and e.applied]
    assert fail["reason"] == "killed"  # the kill's, not the recover step's "error"


def test_a_check_of_a_rerun_job_names_the_run_that_took_it_over(moto_env):
    run, request = launched()
    orchestration.kill(run.uuid)
    rerun = orchestration.rerun(run.uuid)

    after = handlers.handle({**request, "action": "check"})

    assert after["superseded"]["reason"] == "taken over"
    assert (after["superseded"]["job_run_id"], after["superseded"]["job_state"]) == (rerun.run_id, "CREATED")
    assert pipelinejobs.get_job(run.uuid).record.run_id == rerun.run_id  # left to the new run


def test_a_launch_step_of_a_killed_job_raises_for_recover_to_route(moto_env):
    """A callback Task ignores its Lambda's result, so launch raises; the Catch takes it to recover."""
    run, request = launched()
    orchestration.kill(run.uuid)
    retried = {**request["state"], "attempt": 2}

    with pytest.raises(PreconditionFailed):
        handlers.handle({**request, "state": retried, "action": "launch", "token": "token-2"})
    after = handlers.handle({**request, "state": {**retried, "error": {"Error": "PreconditionFailed"}},
                             "action": "recover"})
    assert (after["next"], after["superseded"]["reason"]) == ("superseded", "released")


# ---- start ----------------------------------------------------------------------------------------


def test_start_claims_the_job_then_starts_its_execution(moto_env):
    pipeline = pipelinejobs.register_pipeline("unit", task={**TASK, "timeout_seconds": 600})

    run = orchestration.start(pipeline.uuid, {"n": 1})

    record = pipelinejobs.get_job(run.uuid).record
    assert (record.run_id, record.execution_arn) == (run.run_id, run.execution_arn)
    assert run.execution_arn == moto_env.replace(":stateMachine:", ":execution:") + f":{run.uuid}-{run.run_id}"
    execution = boto3.client("stepfunctions").describe_execution(executionArn=run.execution_arn)
    state = json.loads(execution["input"])
    assert (state["next"], state["attempt"], state["run_id"], state["timeout_remaining"]) == (
        "launch_await", 1, run.run_id, 600)
    assert state["webhook_url"] == pipelinejobs.get_job(run.uuid).callback


def test_starting_a_started_job_returns_its_run(moto_env):
    uuid = pipelinejobs.register_pipeline("unit", task=TASK).uuid
    first = orchestration.start(uuid, {"n": 1})

    again = orchestration.start(uuid, {"n": 1})

    assert (again.uuid, again.run_id, again.execution_arn, again.started) == (
        first.uuid, first.run_id, first.execution_arn, False)
    assert len(boto3.client("stepfunctions").list_executions(stateMachineArn=moto_env)["executions"]) == 1


def test_an_invalid_task_template_starts_nothing(moto_env):
    uuid = pipelinejobs.register_pipeline("unit", task={"launcher": "batch"}).uuid
    with pytest.raises(InvalidTaskSpec, match="needs jobQueue, jobDefinition"):
        orchestration.start(uuid, {"n": 1})
    assert pipelinejobs.list_jobs(uuid) == []


def test_a_start_that_could_not_start_releases_the_job(moto_env, monkeypatch: pytest.MonkeyPatch):
    uuid = pipelinejobs.register_pipeline("unit", task=TASK).uuid
    monkeypatch.setenv("PIPELINEJOBS_STATE_MACHINE_ARN", moto_env + "-missing")
    with pytest.raises(ClientError, match="StateMachineDoesNotExist"):
        orchestration.start(uuid, {"n": 1})
    monkeypatch.setenv("PIPELINEJOBS_STATE_MACHINE_ARN", moto_env)

    run = orchestration.start(uuid, {"n": 1})

    assert run.started and pipelinejobs.get_job(run.uuid).record.run_id == run.run_id


def test_start_many_starts_each_and_reports_each_failure(moto_env):
    uuid = pipelinejobs.register_pipeline("unit", task=TASK).uuid
    pipelinejobs.PipelineJob(uuid, {"n": 3}).setup().run().finish()  # ended without a run: cannot be started

    # One at a time: moto's in-memory backends are not thread-safe (an occasional "dictionary changed
    # size during iteration" inside moto); what this test checks is each job's outcome, not the pool.
    runs = orchestration.start_many(uuid, [{"n": 1}, {"n": 2}, {"n": 3}], concurrency=1)

    assert [run.started for run in runs] == [True, True, False]
    assert "not allowed from FINISHED" in runs[2].error
    assert len({run.execution_arn for run in runs[:2]}) == 2


# ---- kill, rerun, stat ----------------------------------------------------------------------------


def test_kill_fails_the_job_releases_it_and_stops_its_execution(moto_env):
    run = orchestration.start(pipelinejobs.register_pipeline("unit", task=TASK).uuid, {"n": 1})

    orchestration.kill(run.uuid)

    record = pipelinejobs.get_job(run.uuid).record
    assert (record.state, record.run_id, record.task_token) == ("FAILED", None, None)
    status = boto3.client("stepfunctions").describe_execution(executionArn=run.execution_arn)["status"]
    assert status == "ABORTED"


def test_kill_of_a_job_that_has_ended_is_a_no_op_that_says_so_and_writes_nothing(moto_env):
    job = new_job().run().finish()
    version = job.refresh().record.version

    run = orchestration.kill(job.uuid)

    assert run.skipped == f"job {job.uuid} had already ended (FINISHED): nothing to kill"
    assert job.refresh().record.version == version  # no refusal in its history


def test_kill_of_a_job_that_ends_between_its_read_and_its_write_writes_nothing(moto_env, monkeypatch):
    job = new_job().run()
    version = job.refresh().record.version + 1  # after the finish below
    read = runs.get_job

    def read_then_finish(uuid: str, **kwargs):
        seen = read(uuid, **kwargs)
        if seen.state == "RUNNING":
            send(uuid, "finish")  # the job ends after kill has read it RUNNING
        return seen

    monkeypatch.setattr(runs, "get_job", read_then_finish)
    run = orchestration.kill(job.uuid)

    assert run.skipped == f"job {job.uuid} had already ended (FINISHED): nothing to kill"
    assert job.refresh().record.version == version and job.state == "FINISHED"


def test_kill_all_kills_the_live_jobs_of_one_pipeline(moto_env):
    mine = pipelinejobs.register_pipeline("mine", task=TASK).uuid
    theirs = pipelinejobs.register_pipeline("theirs", task=TASK).uuid
    runs = [orchestration.start(mine, {"n": n}) for n in range(2)]
    other = orchestration.start(theirs, {"n": 0})

    killed = orchestration.kill_all(pipeline_uuid=mine, concurrency=1)  # moto's DynamoDB is not thread-safe

    assert sorted(k.uuid for k in killed) == sorted(r.uuid for r in runs)
    assert pipelinejobs.get_job(other.uuid).state == "CREATED"


def test_rerun_many_reruns_the_failed_jobs_as_their_next_attempt(moto_env):
    uuid = pipelinejobs.register_pipeline("unit", task=TASK).uuid
    failed = [orchestration.start(uuid, {"n": n}) for n in range(2)]
    for run in failed:
        orchestration.kill(run.uuid)
    orchestration.start(uuid, {"n": 9})  # running: left alone

    reruns = orchestration.rerun_many(pipeline_uuid=uuid)

    assert sorted(r.uuid for r in reruns) == sorted(r.uuid for r in failed)
    for rerun in reruns:
        record = pipelinejobs.get_job(rerun.uuid).record
        assert (record.state, record.run_id) == ("CREATED", rerun.run_id)
        state = json.loads(boto3.client("stepfunctions").describe_execution(executionArn=rerun.execution_arn)["input"])
        assert state["attempt"] == 1  # the killed runs never launched an attempt


def test_stat_reads_the_indexes_newest_first(moto_env):
    uuid = pipelinejobs.register_pipeline("unit", task=TASK).uuid
    runs = [orchestration.start(uuid, {"n": n}) for n in range(3)]
    orchestration.kill(runs[0].uuid)

    assert [j.uuid for j in orchestration.stat(uuid)] == [r.uuid for r in reversed(runs)]
    assert [j.uuid for j in orchestration.stat(uuid, state="FAILED")] == [runs[0].uuid]
    assert len(orchestration.stat(uuid, limit=2)) == 2


def test_the_spec_a_run_was_started_with_is_in_the_history(moto_env):
    uuid = pipelinejobs.register_pipeline("unit", task=TASK).uuid
    run = orchestration.start(uuid, {"n": 1}, overrides={"max_attempts": 4})
    [started] = [e for e in pipelinejobs.get_job(run.uuid).history if e.name == "update"]
    assert TaskSpec.from_dict(started.data["task"]).max_attempts == 4


def test_a_heartbeat_in_the_overrides_is_the_jobs(moto_env):
    uuid = pipelinejobs.register_pipeline("unit-external", task={"launcher": "external"}).uuid
    run = orchestration.start(uuid, {"n": 1}, overrides={"heartbeat_seconds": 120})
    assert pipelinejobs.get_job(run.uuid).record.heartbeat_seconds == 120
