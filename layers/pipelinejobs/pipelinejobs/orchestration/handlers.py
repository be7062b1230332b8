"""The Step Functions task handlers: launch, check, recover.

Each takes the run state (and the execution's ARN, and in callback mode the
task token), moves the job through ``handle_event`` with what it learned, and
returns the state with ``next`` set for the Dispatch Choice. Everything they
send is trusted, carries an idempotency id derived from the run's position (so a
retried step applies nothing twice) and expects the job's ``run_id`` to be this
run's (so a killed or rerun execution's late step changes nothing).

A step that finds the job no longer its run's (killed, rerun, or moved on by
someone else) returns the state with ``next`` superseded, and the execution ends
in the Succeed state ``Superseded``: a run that was told to stop is not a failure.
A step whose run never claimed the job (an execution started with StartExecution
rather than ``start``/``rerun``) returns ``next`` not_claimed instead, and the
execution fails with ``JobNotClaimed``: nothing was run, and its starter must know.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import attempt_history, observability
from ..errors import InvalidTransition, PreconditionFailed
from ..failures import Failure
from ..launchers import ENDED_PHASES, LaunchRequest, Phase, TaskStatus, get_launcher
from ..records import JobRecord, Outcome
from ..service import get_store, handle_event
from . import clock
from .flow import FINISHED_STATES, LIVE_STATES, SOURCE, Step, claim_id
from .state import RunState


@dataclass(frozen=True)
class StepContext:
    #: ``$$.Execution.Id``: recorded on the job so kill can stop it.
    execution: str
    #: ``$$.Task.Token`` in callback mode: stored on the job, settled when the job ends.
    token: str | None = None


@dataclass(frozen=True)
class Recovery:
    """How the recover step treats one error: the reason recorded, its class, and whether to try again."""

    reason: str
    retry: bool
    failure: Failure = Failure.UNKNOWN


TIMEOUT = Recovery("timeout", retry=False, failure=Failure.TIMEOUT)
HEARTBEAT = Recovery("heartbeat", retry=True, failure=Failure.STALE)
UNEXPECTED = Recovery("error", retry=False)
#: What a callback Task's TimeoutSecondsPath or HeartbeatSecondsPath raises. AWS names a silent
#: task States.HeartbeatTimeout, moto names both States.Timeout; the deadline tells them apart.
TIMEOUT_ERRORS = frozenset({"States.Timeout", "States.HeartbeatTimeout"})


def recovery_for(error: str, state: RunState, now: float) -> Recovery:
    """How to treat an error a Catch caught. A job the task itself failed (SendTaskFailure
    ``JobFailed``) never gets here: the recover step recognises it from the job's state."""
    if error not in TIMEOUT_ERRORS:
        return UNEXPECTED
    return HEARTBEAT if state.spec.heartbeat_seconds and not state.timed_out(now) else TIMEOUT


@observability.lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The orchestrator function's entry point: one step, logged with the job's uuid as correlation id."""
    observability.correlate((event.get("state") or {}).get("job"))
    return handle(event)


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """Run one step: ``{"action", "state", "execution", "token"?}`` → the next run state."""
    action = ACTIONS.get(request.get("action"))
    if action is None:
        raise ValueError(f"unknown action {request.get('action')!r}; expected one of {', '.join(ACTIONS)}")
    context = StepContext(execution=request["execution"], token=request.get("token"))
    return action(RunState.from_dict(request["state"]), context).to_dict()


# ---- the steps ------------------------------------------------------------------------


def launch(state: RunState, context: StepContext) -> RunState:
    """Start an attempt's task. The attempt (and in callback mode the token) is recorded first, so a
    task that reports back at once always finds the job ready for it.

    A job that is not this run's raises PreconditionFailed rather than returning a superseded state: a
    callback Task ignores its Lambda's result and would wait for a token nobody stores. The Catch sends
    the error to Recover, which finds the job not its run's and ends the execution in Superseded."""
    record = get_store().get_job(state.job)
    _require_owner(record, state)
    current = record.launch or {}
    if current.get("attempt") == state.attempt and current.get("handle") is not None:
        # This step is a retry: the task was launched already. A retried callback Task has a new token.
        if context.token and context.token != record.task_token:
            digest = hashlib.sha256(context.token.encode()).hexdigest()[:16]
            _send(state, "update", {"attempt": state.attempt}, f"token-{digest}", fields={"task_token": context.token})
        return state.to(Step.WAIT)
    launcher = get_launcher(state.spec.launcher)
    details = {"attempt": state.attempt, "launcher": state.spec.launcher}
    # max_attempts on the job: with ``attempt`` it says whether a job failed now will be retried (workflows).
    launch_fields = {**details, "heartbeat_seconds": state.spec.heartbeat_seconds,
                     "max_attempts": state.spec.max_attempts}
    # Refused (InvalidTransition) when the job ended before launching: the recover step decides.
    # A duplicate: this step ran before for this attempt and may have launched without recording it.
    launching = _send(state, "resource", {**details, "status": "LAUNCHING"}, "launching",
                      fields={"attempt": state.attempt, "launch": launch_fields, "task_token": context.token})
    launched = launcher.launch(_request(record, state, retried=launching.duplicate))
    try:
        _send(state, "resource", {**details, "status": "LAUNCHED", **launched.to_dict(),
                                  "started": clock.iso(clock.now())}, "launched",
              fields={"launch": {**launch_fields, **launched.to_dict()}})
    except PreconditionFailed:  # killed or rerun meanwhile: nobody else knows of this task
        launcher.cancel(launched.handle, "superseded")
        raise
    except InvalidTransition:  # the task already reported its end; the history keeps the refused handle
        observability.logger().info("job ended while its task was being launched", extra={"job": state.job})
    return state.to(Step.WAIT)


Action = Callable[[RunState, StepContext], RunState]


def _quiet_when_superseded(step: Action) -> Action:
    """A kill or rerun that lands while the step runs (after it read the job) makes the step's next
    write PreconditionFailed: the run has been told to stop, so the step ends it as superseded rather
    than raising (which ended the execution failed, as if the job had)."""

    @functools.wraps(step)
    def guarded(state: RunState, context: StepContext) -> RunState:
        try:
            return step(state, context)
        except PreconditionFailed:
            record = get_store().get_job(state.job)
            if record.run_id == state.run_id:  # not a change of owner after all: let the Catch see it
                raise
            return _superseded(state, record)

    return guarded


@_quiet_when_superseded
def check(state: RunState, context: StepContext) -> RunState:
    """Polling: ask the launcher how the task is, record only what changed, decide what comes next."""
    record = get_store().get_job(state.job)
    if record.run_id != state.run_id:
        return _superseded(state, record)
    if record.state not in LIVE_STATES:
        return _after_job_ended(state, record)
    if record.execution_arn != context.execution:  # the first check of a continuation
        _send(state, "update", {"segment": state.segment, "execution_arn": context.execution}, "continued",
              fields={"execution_arn": context.execution})
    handle = _current_handle(state, record)
    status = get_launcher(state.spec.launcher).check(handle)
    now = clock.now()
    if status.phase not in ENDED_PHASES and state.timed_out(now):
        _cancel(state, record, "timeout")
        return _end_attempt(state, record, "timeout", retry=False,
                            details={"status": status.detail, "failure": Failure.TIMEOUT})
    return _PHASES[status.phase](state, record, status, now)


@_quiet_when_superseded
def recover(state: RunState, context: StepContext) -> RunState:
    """Any error a Catch caught: stop the task, then retry the attempt or fail the job with the error.
    Never leaves the job RUNNING: every path ends in a new attempt, FAILED, or a job already ended
    (or no longer this run's: then it is the new owner's, or the killer's, to move)."""
    record = get_store().get_job(state.job)
    if record.run_id != state.run_id:
        return _superseded(state, record)
    if record.state not in LIVE_STATES:
        return _after_job_ended(state, record)
    error = state.error or {"Error": "States.Runtime", "Cause": f"no step named {state.next!r}"}
    recovery = recovery_for(error.get("Error", ""), state, clock.now())
    launched = _cancel(state, record, recovery.reason)
    # an unexpected error before any task was launched: the launch itself failed (e.g. SubmitJob refused)
    failure = Failure.LAUNCH_FAILED if recovery is UNEXPECTED and not launched else recovery.failure
    return _end_attempt(state, record, recovery.reason, recovery.retry,
                        details={"error": error.get("Error"), "cause": _cause(error.get("Cause")), "failure": failure})


ACTIONS: dict[str, Action] = {
    "launch": launch, "check": check, "recover": recover,
}


# ---- what a check found ---------------------------------------------------------------


def _pending(state: RunState, record: JobRecord, status: TaskStatus, now: float) -> RunState:
    if status.detail != state.status:
        _send(state, "resource", _task_details(state, status), f"status-{status.detail}")
    return state.polled(now, status.detail)


def _running(state: RunState, record: JobRecord, status: TaskStatus, now: float) -> RunState:
    if record.state == "CREATED":
        _send(state, "run", _task_details(state, status), "run")
    return state.polled(now, status.detail)


def _succeeded(state: RunState, record: JobRecord, status: TaskStatus, now: float) -> RunState:
    if record.state == "CREATED":  # it ran and ended between two checks
        _send(state, "run", _task_details(state, status), "run")
    outputs = {"outputs": status.outputs} if status.outputs is not None else {}
    _send(state, "finish", {**_task_details(state, status), "stopped": clock.iso(now), **outputs}, "finish")
    return state.to(Step.FINISHED)


def _failed(state: RunState, record: JobRecord, status: TaskStatus, now: float) -> RunState:
    if record.state == "CREATED" and status.exit_code is not None:  # it ran (it exited) between two checks
        _send(state, "run", _task_details(state, status), "run")  # so the job is RUNNING while it is retried
    return _end_attempt(state, record, status.reason or status.detail, retry=True,
                        details={k: v for k, v in _task_details(state, status).items() if k != "attempt"})


_PHASES: dict[Phase, Callable[[RunState, JobRecord, TaskStatus, float], RunState]] = {
    Phase.PENDING: _pending, Phase.RUNNING: _running, Phase.SUCCEEDED: _succeeded, Phase.FAILED: _failed,
}


# ---- shared ---------------------------------------------------------------------------


def _after_job_ended(state: RunState, record: JobRecord) -> RunState:
    """The job left CREATED/RUNNING by an event of someone else's: most often the task's own report."""
    if record.state in FINISHED_STATES:
        return state.to(Step.FINISHED)
    _cancel(state, record, record.state.lower())  # a task the job no longer waits for must not run on
    if record.state == "FAILED":  # the task failed the job itself: its fail says why
        return _end_attempt(state, record, "failed", retry=True,
                            details={"failure": attempt_history.last_failure(get_store().iter_history(
                                state.job, newest_first=True))})
    return _superseded(state, record)  # reset by an admin...: not this run's to move any further


def _superseded(state: RunState, record: JobRecord) -> RunState:
    """End the run without touching the job, saying why (the execution's output); or, if the run never
    owned the job, fail it with a cause saying how to start one (see :func:`_never_claimed`)."""
    if record.run_id != state.run_id and _never_claimed(state):
        cause = (f"job {state.job} was never claimed by run {state.run_id}, so this execution changed nothing: "
                 f"it was not started by pipelinejobs. Start a job's run with `pipelinejobs submit "
                 f"{state.pipeline} --data ...` (orchestration.start), or `pipelinejobs rerun {state.job}` "
                 f"(orchestration.rerun) if it ran before: they claim the job, then start the execution.")
        observability.logger().warning("run never claimed the job: failing", extra={"job": state.job,
                                                                                     "run_id": state.run_id})
        return state.not_claimed(cause)
    if record.run_id is None:
        reason = "released"  # kill (or a rerun's reset) cleared the job's run
    elif record.run_id != state.run_id:
        reason = "taken over"  # a rerun's run owns the job now
    else:
        reason = "moved"  # still this run's, but someone else moved it out of CREATED/RUNNING (an admin's reset)
    why = {"reason": reason, "job_state": record.state, "last_event": record.last_event,
           "job_run_id": record.run_id, "run_id": state.run_id}
    observability.logger().info("run superseded: ending quietly", extra={"job": state.job, **why})
    return state.superseded_because(why)


def _never_claimed(state: RunState) -> bool:
    """Whether the job has no record of this run's claim. ``start`` and ``rerun`` claim the job with an event
    before starting the execution, so an execution whose run is not the job's was either released or taken
    over (its claim is on record) or started by someone else with an input of their own (it is not). Read
    only on this path: a step of the job's own run never pays for it."""
    _, claimed = get_store().load(state.job, claim_id(state.run_id))
    return claimed is None


def _end_attempt(state: RunState, record: JobRecord, reason: str, retry: bool,
                 details: dict[str, Any]) -> RunState:
    """Close the attempt in the history; relaunch while attempts and time remain, else fail the job."""
    now = clock.now()
    data = {"attempt": state.attempt, "reason": reason, "stopped": clock.iso(now), "failure": Failure.UNKNOWN,
            **details}
    # The task template's policy (retry_on) chooses among the failures this run saw. A job its task failed
    # itself is retried while attempts remain, whatever its class and the deadline aside (a relaunch past it
    # times out at once and is failed by this run): its item alone (FAILED, still this run's, attempts left)
    # then says it will be retried, which is what a workflow counts it by (workflows.progress.counted_state).
    retry = retry and (record.state == "FAILED" or data["failure"] in state.spec.retry_on)
    if retry and state.attempt < state.spec.max_attempts and (record.state == "FAILED" or not state.timed_out(now)):
        if record.state == "FAILED":  # the task failed the job itself: back to CREATED, as an admin would
            _send(state, "reset", data, "retry-reset", fields={"task_token": None})
            _send(state, "ready", {"attempt": state.attempt + 1}, "retry-ready")
        else:
            _send(state, "update", {**data, "outcome": "retrying"}, "retry", fields={"task_token": None})
        return state.relaunched(now)
    if record.state != "FAILED":  # the run's last word: it releases the job, as kill does
        _send(state, "fail", data, "fail", fields={"task_token": None, "run_id": None})
    return state.to(Step.FAILED)


def _send(state: RunState, event: str, data: dict[str, Any], label: str,
          fields: dict[str, Any] | None = None) -> Outcome:
    message = {"uuid": state.job, "event": event, "data": data,
               "id": f"{state.run_id}.{state.segment}.{state.iterations}.{state.attempt}.{label}"}
    return handle_event(message, trusted=True, source=SOURCE, fields=fields, expect={"run_id": state.run_id})


def _require_owner(record: JobRecord, state: RunState) -> None:
    if record.run_id != state.run_id:
        raise PreconditionFailed(record.uuid, {"run_id": record.run_id})


def _current_handle(state: RunState, record: JobRecord) -> dict[str, Any]:
    launch = record.launch or {}
    if launch.get("attempt") != state.attempt or launch.get("handle") is None:
        raise RuntimeError(f"job {state.job} has no launched task for attempt {state.attempt}")
    return launch["handle"]


def _cancel(state: RunState, record: JobRecord, reason: str) -> bool:
    """Stop the attempt's task if one was launched (and say whether one was). A failure to stop is logged,
    never raised: failing the job matters more than a task that may already be gone."""
    launch = record.launch or {}
    if launch.get("attempt") != state.attempt or launch.get("handle") is None:
        return False
    try:
        get_launcher(state.spec.launcher).cancel(launch["handle"], reason)
    except Exception:
        observability.logger().exception("could not cancel the task",
                                         extra={"job": state.job, "attempt": state.attempt})
    return True


def _request(job: JobRecord, state: RunState, retried: bool) -> LaunchRequest:
    """What the launcher starts. The webhook URL is the one ``start``/``rerun`` put in the run state: a
    step reads the job from the store and mints no token (the SDK's side does)."""
    env = {
        "PIPELINEJOBS_JOB_UUID": job.uuid, "PIPELINEJOBS_PIPELINE_UUID": job.pipeline_uuid,
        "PIPELINEJOBS_ATTEMPT": str(state.attempt), "PIPELINEJOBS_JOB_PATH": job.path,
        "PIPELINEJOBS_CALLBACK": state.webhook_url,
    }
    return LaunchRequest(
        job_uuid=job.uuid, attempt=state.attempt, params=state.spec.params, env=env,
        name=f"pj-{job.uuid}-{state.attempt}", retried=retried,
        job={"uuid": job.uuid, "pipeline_uuid": job.pipeline_uuid, "attempt": state.attempt, "path": job.path,
             "callback": state.webhook_url, "data": job.data},
    )


def _task_details(state: RunState, status: TaskStatus) -> dict[str, Any]:
    details = {"attempt": state.attempt, "status": status.detail, "exit_code": status.exit_code,
               "reason": status.reason, "failure": status.failure, "log": status.log}
    return {k: v for k, v in details.items() if v is not None}


def _cause(cause: str | None) -> str | None:
    """A Lambda error's Cause is its JSON payload; keep the message, not the wrapping."""
    try:
        return json.loads(cause or "").get("errorMessage", cause)
    except (ValueError, AttributeError):
        return cause

