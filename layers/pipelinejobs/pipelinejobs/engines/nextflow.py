"""Nextflow's weblog (``nextflow run ... -with-weblog URL``): one JSON message per event, mapped to runs and tasks.

A message is ``{runName, runId, event, utcTime, trace?, metadata?}`` (docs/engines.md; REFERENCE §7). What we make
of it:

* the run (``runId``) is a workflow, named ``runName``; ``started`` announces it, ``completed`` ends it (FINISHED
  when ``metadata.workflow.success`` is true, else FAILED with its ``errorMessage``), and ``error`` without a
  trace fails it;
* a task is a job in the node of its process, one job per task name (``process (tag)``, or ``process (index)``
  when it has no tag: Nextflow's own name for it, the same across its attempts), so a retry (a new
  ``task_id``, ``attempt`` 2) is the next attempt of the same job;
* ``process_submitted`` says the job exists (``update``), ``process_started`` runs it, ``process_completed``
  finishes or fails it by its status (COMPLETED or CACHED finish; FAILED and ABORTED fail) or, with no status
  we know, its exit code; ``error`` with a trace fails that task.

Nextflow posts each message once and never retries (a lost one stays lost), and what stands between may
deliver them twice or out of order: so each message repeats the steps its task must already have taken (a
completion also says the task ran, if it has a ``start``), and that the run started, with the keys those steps'
own messages get. Whatever arrives first does the step; the rest are duplicates (a ``process_submitted`` that
comes after its task ran is too late to change it, and the tracker drops it). The keys include the run's name
as well as its id: a ``-resume`` keeps the ``runId`` but not the ``runName``, so a resumed launch is not taken
for a duplicate of the first (its ``started`` reopens the workflow).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..errors import InvalidEvent
from .model import RUN_FAILED, RUN_FINISHED, RUN_STARTED, RunEvent, TaskEvent
from .wire import event_key, kept, message_object, optional_int, optional_object, required_text

ENGINE = "nextflow"

#: The steps of a task, in order: each is one PipelineJob event, applied once per task attempt.
SUBMITTED, STARTED, ENDED = "submitted", "started", "ended"

#: The step each weblog event says its task reached (an end also implies the run before it).
TASK_EVENTS: Mapping[str, str] = {"process_submitted": SUBMITTED, "process_started": STARTED,
                                  "process_completed": ENDED, "error": ENDED}

#: The event a step is, but the end, which the trace's status (else its exit code) decides.
STEP_EVENTS: Mapping[str, str] = {SUBMITTED: "update", STARTED: "run"}

#: A task's end by its trace's ``status`` (Nextflow's TaskStatus names it had when it completed).
END_BY_STATUS: Mapping[str, str] = {"COMPLETED": "finish", "CACHED": "finish", "FAILED": "fail", "ABORTED": "fail"}

#: The run's own events: ``started``; ``completed``, decided by ``success``; ``error`` without a trace (with one,
#: it is its task's failure).
RUN_EVENTS: tuple[str, ...] = ("started", "completed", "error")
ERROR_WITHOUT_TRACE = "Nextflow reported an error, naming no task"

#: The trace fields kept in a job's history (the resources, times, exit, where and how it ran). The task's
#: script and environment are left out: they are large and may hold secrets.
TRACE_FIELDS: tuple[str, ...] = (
    "task_id", "status", "hash", "name", "process", "tag", "attempt", "exit", "native_id", "workdir", "queue",
    "container", "hostname", "cpus", "memory", "disk", "time", "submit", "start", "complete", "duration",
    "realtime", "%cpu", "%mem", "rss", "peak_rss", "vmem", "peak_vmem", "rchar", "wchar", "read_bytes",
    "write_bytes", "error_action",
)

#: The workflow metadata kept on the run (``metadata.workflow``): what ran, where, how it ended.
WORKFLOW_FIELDS: tuple[str, ...] = (
    "runName", "sessionId", "commandLine", "projectName", "repository", "revision", "commitId", "scriptName",
    "profile", "container", "containerEngine", "workDir", "launchDir", "userName", "resume", "start", "complete",
    "duration", "success", "exitStatus", "errorMessage", "errorReport", "stats", "nextflow",
)


def events(message: Any) -> list[RunEvent | TaskEvent]:
    """The run and task events one weblog message stands for (none for an event we do not know)."""
    message = message_object(message, "a Nextflow weblog message")
    run = required_text(message, "runId")
    event = required_text(message, "event")
    launch = message.get("runName") if isinstance(message.get("runName"), str) else None
    trace = optional_object(message, "trace")
    if event in TASK_EVENTS and not trace and event != "error":
        raise InvalidEvent.single("trace", f"is required with {event}: the task's trace record")
    # Every message says the run started, keyed as ``started`` itself is: the workflow is named whatever
    # arrives first, and a ``started`` delivered after ``completed`` is a duplicate, not a re-run.
    started = RunEvent(engine=ENGINE, run=run, kind=RUN_STARTED, key=event_key(ENGINE, run, launch, "started"),
                       name=launch)
    if trace and event in TASK_EVENTS:
        return [started, *_task_events(run, launch, event, trace, message.get("utcTime"))]
    if event not in RUN_EVENTS:
        return []
    metadata = optional_object(message, "metadata")
    workflow = optional_object(metadata, "workflow", "metadata.workflow")
    data = _run_data(message, metadata, workflow)
    if event == "started":
        return [replace(started, data=data)]
    kind, reason = _ending(metadata, workflow) if event == "completed" else (RUN_FAILED, ERROR_WITHOUT_TRACE)
    # keyed by the weblog event: ``error`` then ``completed`` are two ends, and the second says why
    return [started, RunEvent(engine=ENGINE, run=run, kind=kind, key=event_key(ENGINE, run, launch, event),
                              name=launch, reason=reason, data=data)]


def _run_data(message: Mapping[str, Any], metadata: Mapping[str, Any],
              workflow: Mapping[str, Any]) -> dict[str, Any]:
    """What a run's event keeps: its parameters (the code sends ``parameters``, the README ``params``: either),
    the workflow fields we keep, and when Nextflow sent it."""
    data: dict[str, Any] = {"workflow": kept(workflow, WORKFLOW_FIELDS)}
    parameters = metadata.get("parameters", metadata.get("params"))
    if parameters is not None:
        data["parameters"] = parameters
    if isinstance(message.get("utcTime"), str):
        data["utcTime"] = message["utcTime"]
    return data


def _ending(metadata: Mapping[str, Any], workflow: Mapping[str, Any]) -> tuple[str, str | None]:
    """How ``completed`` ends the run: FINISHED if Nextflow says it succeeded (``metadata.workflow.success``;
    its README example puts ``success`` beside ``workflow``: either), else FAILED with its error message."""
    if workflow.get("success", metadata.get("success")) is True:
        return RUN_FINISHED, None
    reason = workflow.get("errorMessage") or workflow.get("errorReport")
    return RUN_FAILED, str(reason or f"Nextflow ended the run with exit status {workflow.get('exitStatus')}")


def _task_name(trace: Mapping[str, Any], process: str) -> str:
    """Which job a task is: Nextflow's task name (``process (tag)``, or ``process (index)``), the same across
    attempts; without one, the process and its tag."""
    name = trace.get("name")
    if isinstance(name, str) and name.strip():
        return name
    tag = trace.get("tag")
    return process if tag in (None, "") else f"{process} ({tag})"


def _end(trace: Mapping[str, Any], exit_code: int | None) -> str:
    """finish or fail: by the status when it is one we know, else by the exit code (none, or not 0: fail)."""
    status = trace.get("status")
    if isinstance(status, str) and status.upper() in END_BY_STATUS:
        return END_BY_STATUS[status.upper()]
    return "finish" if exit_code == 0 else "fail"


def _end_data(trace: Mapping[str, Any], exit_code: int | None, end: str, task: str) -> dict[str, Any]:
    """What an end says besides the trace: the exit code and, for a fail, why in words the failure classes read
    (``failures.REPORTED``); a task Nextflow aborted (another task's failure ended the run) was killed."""
    said: dict[str, Any] = {} if exit_code is None else {"exit_code": exit_code}
    if end == "fail":
        status = str(trace.get("status") or "ended")
        exited = "" if exit_code is None else f" (exit {exit_code})"
        said["reason"] = f"Nextflow task {task} {status.lower()}{exited}"
        if status.upper() == "ABORTED":
            said["failure"] = "killed"
    return said


def _task_events(run: str, launch: str | None, event: str, trace: Mapping[str, Any],
                 at: Any) -> list[RunEvent | TaskEvent]:
    """The step ``event`` says the task reached and the run before it, each keyed by the task, its attempt and
    the step (a finish needs a run before it; a fail implies one only if the trace says the task started)."""
    process = required_text(trace, "process", "trace.process")
    attempt = optional_int(trace, "attempt", "trace.attempt")
    # The tracker orders a task's attempts by this: when the attempt was submitted, which grows with each retry
    # and across a -resume's launches too (whose attempts count from 1 again); Nextflow's own count is kept in
    # the data and the keys.
    submitted = optional_int(trace, "submit", "trace.submit")
    exit_code = optional_int(trace, "exit", "trace.exit")
    task = _task_name(trace, process)
    data = {**kept(trace, TRACE_FIELDS), **({"utcTime": at} if isinstance(at, str) else {})}
    last = TASK_EVENTS[event]
    end = "fail" if event == "error" else _end(trace, exit_code)
    steps = [SUBMITTED] if last == SUBMITTED else []
    if last == STARTED or (last == ENDED and (end == "finish" or trace.get("start") is not None)):
        steps.append(STARTED)
    if last == ENDED:
        steps.append(ENDED)
    return [TaskEvent(engine=ENGINE, run=run, event=STEP_EVENTS.get(step, end),
                      key=event_key(ENGINE, run, launch, task, attempt, step), task=task, name=process,
                      attempt=submitted if submitted is not None else attempt,
                      data={**data, **_end_data(trace, exit_code, end, task)} if step == ENDED else data)
            for step in steps]
