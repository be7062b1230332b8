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

from .. import fsm, identity
from ..attempts import Attempt, fold
from ..config import Config
from ..errors import (
    ConcurrencyConflict,
    InvalidTransition,
    PipelineJobsError,
    PreconditionFailed,
)
from ..launchers import get_launcher
from ..launchers.aws import client
from ..orchestration import clock
from ..orchestration.flow import LIVE_STATES, claim_id
from ..orchestration.launch import state_machine_arn
from ..orchestration.spec import TaskSpec
from ..orchestration.state import RunState
from ..records import JobSummary
from ..service import handle_event
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


def kill(uuid: str, *, reason: str = "killed", config: Config | None = None) -> Run:
    """Fail the job with ``reason``, stop its execution, cancel its task.

    The job is failed first, releasing it from its run: any step of that run still in
    flight then finds the job not its own and stops, so none can relaunch the task.
    A job that has already ended (no ``fail`` is allowed from its state) is left as it is:
    nothing is written, and the Run's ``skipped`` says so. The fail is written only if the job
    is still in the state it was read in, so one that ends meanwhile gets no refusal either.
    """
    for _ in range(KILL_TRIES):
        before = get_job(uuid, config=config).record
        if "fail" not in fsm.allowed_events(before.state):
            return Run(uuid, before.execution_arn, before.run_id,
                       skipped=f"job {uuid} had already ended ({before.state}): nothing to kill")
        try:
            _send(uuid, "fail", {"reason": reason, "attempt": before.attempt}, None, config,
                  fields={"run_id": None, "task_token": None}, expect={"state": before.state})
            break
        except PreconditionFailed:
            continue  # it moved between the read and the write: look again
    else:
        raise ConcurrencyConflict(f"job {uuid} kept changing state; nothing was written, retry later")
    record = get_job(uuid, config=config).record  # final: no step of the old run can change it now
    if record.execution_arn:
        stepfunctions = client("stepfunctions")
        with contextlib.suppress(stepfunctions.exceptions.ExecutionDoesNotExist):  # never started, or gone
            stepfunctions.stop_execution(executionArn=record.execution_arn, error="Killed", cause=reason)
    launch = record.launch or {}
    if launch.get("handle") is not None:
        get_launcher(launch["launcher"]).cancel(launch["handle"], reason)
    return Run(uuid, record.execution_arn, before.run_id)


def killable(pipeline_uuid: str | None = None, state: str | None = None, *,
             config: Config | None = None) -> list[JobSummary]:
    """The jobs :func:`kill_all` kills: the live ones (CREATED or RUNNING), or those in ``state``,
    optionally of one pipeline."""
    return [job for wanted in ([state] if state else sorted(LIVE_STATES))
            for job in list_jobs(pipeline_uuid, wanted, config=config)]


def kill_all(pipeline_uuid: str | None = None, state: str | None = None, *, jobs: Iterable[str] | None = None,
             progress: Progress | None = None, config: Config | None = None) -> list[Run]:
    """Kill every job :func:`killable` lists, or exactly ``jobs`` (uuids: e.g. those it listed, shown to a
    person before asking); returns the runs killed, leaving out jobs that ended meanwhile."""
    uuids = [job.uuid for job in killable(pipeline_uuid, state, config=config)] if jobs is None else jobs
    runs = [_told(progress, kill(uuid, config=config)) for uuid in uuids]
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
    """Every attempt of the job, folded from its history (:func:`pipelinejobs.attempts.fold`)."""
    return fold(get_job(uuid, config=config).history)


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
