"""Server-side runs: start a job's execution, or stop it, without the SDK (for the workflow release consumer).

``orchestration.start`` claims a job with a random run id and starts its execution once, from the SDK. A
consumer of the table's stream must do the same *exactly once* however often it is retried, crashes
included, so everything here is derived from what is being done rather than drawn at random:

* the run id is a digest of the job's uuid and ``generation`` (how many times it was readied: a rerun makes
  a new one), so every retry of one start claims the same run;
* the claim is the same ``update`` event as ``start``'s (id ``<run>.start``, ``expect run_id None``): a retry
  finds it applied (a duplicate) or the job already owned by this very run, and goes on;
* the execution's name is ``<job>-<run>``: StartExecution of a name that exists (running, or closed within
  90 days) is ``ExecutionAlreadyExists``, which means this run's execution was started already.

The run's state carries the job's webhook URL, as ``start``'s does, so its runner can report by curling it.

A job some other run owns (started by hand), or one that has ended, is left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from .. import fsm, observability, tokens
from ..clients import client
from ..config import Config
from ..creation import callback_url
from ..errors import ConfigurationError, PreconditionFailed
from ..failures import Failure
from ..launchers import get_launcher
from ..records import JobRecord
from ..service import get_store, handle_event
from . import clock
from .flow import LIVE_STATES, claim_id
from .spec import TaskSpec
from .state import RunState

#: ``source`` of the events sent here, in the job's history.
SOURCE = "workflow"


@dataclass(frozen=True)
class Started:
    uuid: str
    run_id: str
    execution_arn: str
    #: False when this call found the run already started (a retry) or the job not to be started.
    started: bool
    #: Why nothing was started, when nothing was.
    skipped: str | None = None


def state_machine_arn() -> str:
    arn = Config.current().state_machine_arn
    if not arn:
        raise ConfigurationError("PIPELINEJOBS_STATE_MACHINE_ARN is not set: name the job state machine")
    return arn


def run_id_for(job: JobRecord) -> str:
    """The run a start of this job's current generation claims: the same for every retry of it."""
    return hashlib.sha256(f"{job.uuid}.{job.generation}".encode()).hexdigest()[:12]


def start_run(job: JobRecord, spec: TaskSpec, config: Config | None = None) -> Started:
    """Claim ``job`` for its deterministic run and start the run's execution, once (see the module doc)."""
    run_id = run_id_for(job)
    machine = state_machine_arn()
    name = f"{job.uuid}-{run_id}"
    execution_arn = machine.replace(":stateMachine:", ":execution:", 1) + f":{name}"
    if job.run_id not in (None, run_id):
        return Started(job.uuid, run_id, execution_arn, False, f"job {job.uuid} is run {job.run_id}'s")
    if job.state not in LIVE_STATES:
        return Started(job.uuid, run_id, execution_arn, False, f"job {job.uuid} is {job.state}")
    try:
        handle_event({"uuid": job.uuid, "event": "update", "id": claim_id(run_id),
                      "data": {"run_id": run_id, "execution_arn": execution_arn, "task": spec.to_dict()}},
                     trusted=True, source=SOURCE, config=config,
                     fields={"run_id": run_id, "execution_arn": execution_arn}, expect={"run_id": None})
    except PreconditionFailed as exc:
        if exc.mismatched.get("run_id") != run_id:  # another run took it between the read and the claim
            return Started(job.uuid, run_id, execution_arn, False, f"job {job.uuid} is another run's")
    state = RunState.first(job=job.uuid, pipeline=job.pipeline_uuid, run_id=run_id, spec=spec,
                           attempt=job.attempt + 1, now=clock.now(), webhook_url=webhook_url(job.uuid, config))
    stepfunctions = client("stepfunctions")
    try:
        stepfunctions.start_execution(stateMachineArn=machine, name=name, input=json.dumps(state.to_dict()))
    except stepfunctions.exceptions.ExecutionAlreadyExists:
        return Started(job.uuid, run_id, execution_arn, False)
    return Started(job.uuid, run_id, execution_arn, True)


def webhook_url(uuid: str, config: Config | None = None) -> str:
    """The job's callback URL (its token in it), as ``orchestration.start`` gives its runner: a runner that
    reports by curling it (outside AWS, a Snakemake rule) needs it in a workflow too. Minted here, from the
    token secret, and never logged: it travels only in the execution's input, as ``start``'s does."""
    config = config or Config.from_env()
    return callback_url(config.api_url, uuid, tokens.job_token(tokens.secret(config), uuid))


def stop_run(uuid: str, reason: str, config: Config | None = None,
             still: Callable[[], bool] | None = None) -> bool:
    """Fail a live job with ``reason`` (its failure ``killed``, as a kill's) and release it from its run, then stop
    its execution and cancel its task, as ``orchestration.kill`` does. False if the job had ended (nothing
    written), or if ``still`` (asked after the job is read, before it is failed) says the stop no longer holds:
    the fail expects the job as read, so a job that a later start (a workflow's rerun) readied after that
    question is left alone."""
    store = get_store(config)
    for _ in range(5):
        job = store.get_job(uuid)
        if "fail" not in fsm.allowed_events(job.state) or (still is not None and not still()):
            return False
        try:
            handle_event({"uuid": uuid, "event": "fail",
                          "data": {"reason": reason, "attempt": job.attempt, "failure": Failure.KILLED}},
                         trusted=True, source=SOURCE, config=config, fields={"run_id": None, "task_token": None},
                         expect={"state": job.state, "run_id": job.run_id, "generation": job.generation})
            break
        except PreconditionFailed:
            continue  # it moved between the read and the write: look again
    else:
        return False
    if job.execution_arn:
        stepfunctions = client("stepfunctions")
        with contextlib.suppress(stepfunctions.exceptions.ExecutionDoesNotExist):
            stepfunctions.stop_execution(executionArn=job.execution_arn, error="Killed", cause=reason)
    launch = job.launch or {}
    if launch.get("handle") is not None:
        try:
            get_launcher(launch["launcher"]).cancel(launch["handle"], reason)
        except Exception:  # the job is failed already; a task that cannot be reached is logged
            observability.logger().exception("could not cancel the task", extra={"job": uuid})
    return True
