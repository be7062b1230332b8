"""Orchestration in the SDK: start, kill, rerun, stat, attempts and logs.

tibanna's operations (run, stat, log, kill, kill_all, rerun, rerun_many: see its
documentation, https://tibanna.readthedocs.io), on the jobs table rather than on Step
Functions' APIs: ``stat`` is one indexed read of the table however many jobs
there are (tibanna's called DescribeExecution once per job), and kill needs no
execution listing because the job records its own execution and task.

A rerun is a new attempt of the *same* job (reset → ready → a new run), as in
PipelineJobs, not a new job as in tibanna: a job's uuid is derived from its
pipeline and data, so "the same input again" is the same job, its archive path
stays put, and its history shows every attempt in order (docs/orchestration.md).
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .. import attempt_history, fsm, identity
from ..attempt_history import Attempt
from ..config import Config
from ..errors import (
    ConcurrencyConflict,
    InvalidTransition,
    PipelineJobsError,
    PreconditionFailed,
)
from ..failures import Failure
from ..launchers import LAUNCHERS, get_launcher
from ..launchers.aws import client
from ..launchers.base import TaskStopped
from ..orchestration import clock
from ..orchestration.flow import LIVE_STATES, claim_id
from ..orchestration.launch import state_machine_arn
from ..orchestration.spec import TaskSpec
from ..orchestration.state import RunState
from ..records import JobRecord, JobSummary
from ..service import get_store, handle_event
from .jobs import PipelineJob, get_job, list_jobs
from .pipelines import active_pipeline, get_pipeline

#: ``source`` of the events these operations send.
SOURCE = "sdk"
#: Reads kill makes of a job that keeps moving between its read and its write before giving up (503).
KILL_TRIES = 5
#: Concurrent StartExecution calls in start_many/rerun_many; the account's bucket (1,300, refilled
#: 300/s) absorbs bursts, and botocore's retries absorb throttling beyond it.
DEFAULT_CONCURRENCY = 8

#: Told of each job as a bulk operation (start_many, kill_all, rerun_many) gets through it: progress.
Progress = Callable[["Run"], None]


def _told(progress: Progress | None, run: Run) -> Run:
    if progress:
        progress(run)
    return run


@dataclass(frozen=True)
class Run:
    """A job and the run (execution chain) working on it."""

    uuid: str
    execution_arn: str | None
    run_id: str | None
    #: False when the job already had a run, which is returned instead (start is get-or-start).
    started: bool = True
    #: Set by start_many/rerun_many for the jobs that could not be started.
    error: str | None = None
    #: Why nothing was done, when nothing needed doing (kill of a job that had already ended).
    skipped: str | None = None
    #: Kill: whether the task was seen stopped (True), asked to stop but not yet seen ended (False), or cannot
    #: be stopped ("uncancellable": a Lambda invocation, an outside system); None when no task was launched.
    task_stopped: bool | str | None = None


@dataclass(frozen=True)
class AttemptLog:
    attempt: int
    #: Where the output is: ``{"files": {...}}`` (read below) or ``{"cloudwatch": {group, stream}}``.
    pointer: dict[str, Any] | None
    output: dict[str, str] = field(default_factory=dict)


# ---- start ----------------------------------------------------------------------------


def start(pipeline_uuid: str, data: dict[str, Any] | None = None, *, parents: Iterable[str] | None = None,
          callback_url: str | None = None, overrides: dict[str, Any] | None = None,
          config: Config | None = None) -> Run:
    """Set up the job and start an execution for it (tibanna's run_workflow).

    ``overrides`` change the pipeline's task template for this job (e.g. ``timeout_seconds``).
    Starting a job that already has a run returns that run: use :func:`rerun` to run it again.
    """
    spec = TaskSpec.resolve(active_pipeline(pipeline_uuid, config=config).task, overrides)
    job = PipelineJob(pipeline_uuid, data, parents=parents, callback_url=callback_url, config=config,
                      heartbeat_seconds=spec.heartbeat_seconds).setup()  # the overrides' heartbeat, for the sweep
    try:
        return _begin(job, spec, config)
    except PreconditionFailed:
        record = job.refresh().record
        return Run(job.uuid, record.execution_arn, record.run_id, started=False)


def start_many(pipeline_uuid: str, items: Iterable[dict[str, Any]], *, overrides: dict[str, Any] | None = None,
               concurrency: int = DEFAULT_CONCURRENCY, progress: Progress | None = None,
               config: Config | None = None) -> list[Run]:
    """Start one job per data item, ``concurrency`` at a time; a job that fails to start has ``error`` set."""

    def one(data: dict[str, Any]) -> Run:
        try:
            run = start(pipeline_uuid, data, overrides=overrides, config=config)
        except (PipelineJobsError, ClientError) as exc:
            run = Run(identity.job_uuid(pipeline_uuid, data), None, None, started=False, error=str(exc))
        return _told(progress, run)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, items))


def _begin(job: PipelineJob, spec: TaskSpec, config: Config | None) -> Run:
    """Claim the job for a new run (only if no run owns it), then start the run's execution."""
    run_id = secrets.token_hex(6)
    machine = state_machine_arn()
    name = f"{job.uuid}-{run_id}"
    execution_arn = machine.replace(":stateMachine:", ":execution:", 1) + f":{name}"
    state = RunState.first(job=job.uuid, pipeline=job.pipeline_uuid, run_id=run_id, spec=spec,
                           attempt=job.record.attempt + 1, now=clock.now(), webhook_url=job.callback)
    _send(job.uuid, "update", {"run_id": run_id, "execution_arn": execution_arn, "task": spec.to_dict()},
          claim_id(run_id), config, fields={"run_id": run_id, "execution_arn": execution_arn},
          expect={"run_id": None})
    try:
        client("stepfunctions").start_execution(stateMachineArn=machine, name=name, input=json.dumps(state.to_dict()))
    except Exception as exc:  # release the claim, so starting again is possible
        _send(job.uuid, "update", {"run_id": run_id, "error": f"StartExecution failed: {exc}"},
              f"{run_id}.unstart", config, fields={"run_id": None, "execution_arn": None},
              expect={"run_id": run_id})
        raise
    return Run(job.uuid, execution_arn, run_id)


# ---- kill -----------------------------------------------------------------------------


def kill(uuid: str, *, reason: str = "killed", confirm_seconds: float = 10.0, config: Config | None = None) -> Run:
    """Stop the job's execution, stop its task, then fail the job with ``reason`` (failure ``killed``), saying in
    that ``fail`` (and the Run) whether the task was seen stopped (``task_stopped``, see :class:`Run`).

    The job is first released from its run (its ``run_id`` cleared, as a kill's), so any step of that run still
    in flight finds the job not its own and stops: none can relaunch the task. Then the execution is stopped and
    the task cancelled and watched for up to ``confirm_seconds``; the ``fail`` comes last, so that it can say
    whether the compute stopped, and so that a kill interrupted before it leaves the job live, to be killed again,
    rather than FAILED with its task running on. A job that has already ended (no ``fail`` is allowed from its
    state) is left as it is: nothing is written, and the Run's ``skipped`` says so. Each write is made only if
    the job is still as it was read, so one that ends meanwhile gets no refusal either.
    """
    for _ in range(KILL_TRIES):
        before = get_job(uuid, config=config).record
        if "fail" not in fsm.allowed_events(before.state):
            return Run(uuid, before.execution_arn, before.run_id, skipped=_ended(uuid, before.state))
        try:
            if before.run_id is not None:  # released first: no step of its run can relaunch the task
                _send(uuid, "update", {"reason": reason, "killing": before.run_id}, None, config,
                      fields={"run_id": None, "task_token": None},
                      expect={"state": before.state, "run_id": before.run_id})
            break
        except PreconditionFailed:
            continue  # it moved between the read and the write: look again
    else:
        raise ConcurrencyConflict(f"job {uuid} kept changing state; nothing was written, retry later")
    if before.execution_arn:
        stepfunctions = client("stepfunctions")
        with contextlib.suppress(stepfunctions.exceptions.ExecutionDoesNotExist):  # never started, or gone
            stepfunctions.stop_execution(executionArn=before.execution_arn, error="Killed", cause=reason)
    stopped = _stop_task(get_job(uuid, config=config).record, reason, confirm_seconds, config)
    data = {"reason": reason, "attempt": before.attempt, "failure": Failure.KILLED,
            **({"task_stopped": stopped} if stopped is not None else {})}
    for _ in range(KILL_TRIES):
        current = get_job(uuid, config=config).record
        if "fail" not in fsm.allowed_events(current.state) or current.run_id is not None:  # its task stopped anyway
            return Run(uuid, before.execution_arn, before.run_id, task_stopped=stopped,
                       skipped=_ended(uuid, current.state) if current.run_id is None
                       else f"job {uuid} was run again while it was being killed: not failed")
        try:
            _send(uuid, "fail", data, None, config, expect={"state": current.state, "run_id": None})
            return Run(uuid, before.execution_arn, before.run_id, task_stopped=stopped)
        except PreconditionFailed:
            continue
    raise ConcurrencyConflict(f"job {uuid} kept changing state; its task was stopped, the job not failed: retry")


def _stop_task(record: JobRecord, reason: str, confirm_seconds: float, config: Config | None) -> TaskStopped | None:
    """Stop the job's latest task (the attempt orchestration launched, else the latest one AWS events reported)
    and say whether it was seen stopped; None if no task of the job is known."""
    launch = record.launch or {}
    if launch.get("handle") is None:
        rows = [row for row in attempt_history.rows(get_store(config).iter_history(record.uuid)) if row.get("handle")]
        launch = rows[-1] if rows and rows[-1].get("launcher") in LAUNCHERS else {}
    if launch.get("handle") is None:
        return None
    return get_launcher(launch["launcher"]).stop(launch["handle"], reason, confirm_seconds)


def _ended(uuid: str, state: str) -> str:
    return f"job {uuid} had already ended ({state}): nothing to kill"


def killable(pipeline_uuid: str | None = None, state: str | None = None, *,
             config: Config | None = None) -> list[JobSummary]:
    """The jobs :func:`kill_all` kills: the live ones (CREATED or RUNNING), or those in ``state``,
    optionally of one pipeline."""
    return [job for wanted in ([state] if state else sorted(LIVE_STATES))
            for job in list_jobs(pipeline_uuid, wanted, config=config)]


def kill_all(pipeline_uuid: str | None = None, state: str | None = None, *, jobs: Iterable[str] | None = None,
             concurrency: int = DEFAULT_CONCURRENCY, progress: Progress | None = None,
             config: Config | None = None) -> list[Run]:
    """Kill every job :func:`killable` lists, or exactly ``jobs`` (uuids: e.g. those it listed, shown to a
    person before asking), ``concurrency`` at a time (each kill may watch its task stop for seconds); returns
    the runs killed, leaving out jobs that ended meanwhile."""
    uuids = [job.uuid for job in killable(pipeline_uuid, state, config=config)] if jobs is None else jobs
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        runs = list(pool.map(lambda uuid: _told(progress, kill(uuid, config=config)), uuids))
    return [run for run in runs if run.skipped is None]


# ---- rerun ----------------------------------------------------------------------------


def rerun(uuid: str, overrides: dict[str, Any] | None = None, *, config: Config | None = None) -> Run:
    """Run an ended job again as its next attempt: reset → ready → a new run (see the module doc)."""
    job = get_job(uuid, config=config)
    record = job.record
    if record.state in LIVE_STATES and record.run_id:
        raise InvalidTransition(uuid, record.state, "rerun", fsm.allowed_events(record.state),
                                hint="It is running: kill it first")
    spec = TaskSpec.resolve(get_pipeline(record.pipeline_uuid, config=config).task, overrides)
    nonce = secrets.token_hex(6)
    _send(uuid, "reset", {"reason": "rerun", "overrides": overrides or {}}, f"{nonce}.rerun-reset", config,
          fields={"run_id": None, "task_token": None, "execution_arn": None})
    _send(uuid, "ready", {"reason": "rerun"}, f"{nonce}.rerun-ready", config)
    return _begin(job.refresh(), spec, config)


def rerun_many(state: str = "FAILED", since: datetime | str | None = None, *, pipeline_uuid: str | None = None,
               overrides: dict[str, Any] | None = None, progress: Progress | None = None,
               config: Config | None = None) -> list[Run]:
    """Rerun every job in ``state`` created since ``since`` (tibanna's rerun_many); errors per job."""
    runs = []
    for summary in list_jobs(pipeline_uuid, state, since, config=config):
        try:
            run = rerun(summary.uuid, overrides, config=config)
        except (PipelineJobsError, ClientError) as exc:
            run = Run(summary.uuid, None, None, started=False, error=str(exc))
        runs.append(_told(progress, run))
    return runs


# ---- reading --------------------------------------------------------------------------


def stat(pipeline_uuid: str | None = None, state: str | None = None, since: datetime | str | None = None,
         limit: int | None = None, *, config: Config | None = None) -> list[JobSummary]:
    """Jobs newest first, read from the table's indexes: a few queries for 10,000 jobs, never one
    DescribeExecution per job (tibanna's stat was throttled past ~75 jobs doing that)."""
    jobs = list_jobs(pipeline_uuid, state, since, config=config)
    return jobs[:limit] if limit else jobs


def attempts(uuid: str, *, config: Config | None = None) -> list[Attempt]:
    """Every attempt of the job, from its history (:func:`pipelinejobs.attempt_history.fold`)."""
    return attempt_history.fold(get_job(uuid, config=config).history)


def logs(uuid: str, attempt: int | None = None, *, config: Config | None = None) -> list[AttemptLog]:
    """stdout and stderr of each attempt (or of ``attempt``): the text for local tasks, else where
    it is (a CloudWatch log group and stream)."""
    return [AttemptLog(a.number, a.log, _read_files((a.log or {}).get("files", {})))
            for a in attempts(uuid, config=config) if attempt is None or a.number == attempt]


def _read_files(files: dict[str, str]) -> dict[str, str]:
    return {name: Path(path).read_text(errors="replace") for name, path in files.items() if Path(path).is_file()}


def _send(uuid: str, event: str, data: dict[str, Any], event_id: str | None, config: Config | None,
          fields: dict[str, Any] | None = None, expect: dict[str, Any] | None = None) -> None:
    message = {"uuid": uuid, "event": event, "data": data, **({"id": event_id} if event_id else {})}
    handle_event(message, trusted=True, source=SOURCE, config=config, fields=fields, expect=expect)
