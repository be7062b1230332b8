"""The launcher interface: start a job's task somewhere, check on it, cancel it.

Orchestration never talks to AWS Batch, ECS or a subprocess directly; it calls
these three methods and stores what they return as plain JSON (a *handle* and a
*log pointer*), because both travel through Step Functions state and the job's
history, and must mean the same thing when read back days later.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Literal


class Phase(StrEnum):
    """Where a task is, in the four words orchestration decides on."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


#: Phases after which a task will not change again.
ENDED_PHASES = frozenset({Phase.SUCCEEDED, Phase.FAILED})


@dataclass(frozen=True)
class TaskStatus:
    phase: Phase
    #: The launcher's own word for the status (RUNNABLE, DEPROVISIONING...), kept in the history.
    detail: str
    exit_code: int | None = None
    reason: str | None = None
    #: Why it failed, as a class a person can act on (``pipelinejobs.failures.Failure``); None unless FAILED.
    failure: str | None = None
    #: Where the task's output is, when it becomes known only once the task runs (Batch's log stream).
    log: dict[str, Any] | None = None
    #: What a task that succeeded reports as its results: recorded as ``outputs`` in the job's ``finish`` data,
    #: where a workflow's downstream jobs read them (``${<job>.outputs...}``). None: it reports none.
    outputs: dict[str, Any] | None = None


#: What a kill learned of its task: True (seen ended), False (asked to stop, not yet seen ended) or
#: "uncancellable" (a launcher that cannot stop its task: an asynchronous Lambda invocation, an outside system).
TaskStopped = bool | Literal["uncancellable"]
UNCANCELLABLE: TaskStopped = "uncancellable"


@dataclass(frozen=True)
class LaunchRequest:
    job_uuid: str
    attempt: int
    #: The pipeline's launcher parameters (named as the AWS API names them).
    params: dict[str, Any]
    #: PIPELINEJOBS_* variables the task needs to report back (job uuid, attempt, callback URL).
    env: dict[str, str]
    #: What the launched task is called where it runs: unique per job and attempt.
    name: str
    #: Everything a self-reporting task (a Lambda function) needs, as one JSON object.
    job: dict[str, Any] = field(default_factory=dict)
    #: The launch step ran before for this attempt and was not recorded as having launched: it may have
    #: launched the task and died before recording it. A launcher that can find its task by ``name``
    #: looks for it first (Batch); one whose API is idempotent needs not (ECS's clientToken).
    retried: bool = False


@dataclass(frozen=True)
class Launched:
    handle: dict[str, Any]
    log: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Launcher(ABC):
    #: Parameters a pipeline's task template must give this launcher.
    required_params: tuple[str, ...] = ()
    #: JSON Schema of the params this launcher reads, checked when a template is registered and when a
    #: run starts, so a malformed value is a 400 naming ``params.<name>`` rather than a failed launch.
    params_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    #: Mode used when the pipeline does not say: polling for tasks we can observe,
    #: callback for tasks that report back themselves.
    default_mode: str = "polling"
    #: Whether ``cancel`` can stop the task; a launcher that cannot says so to whoever kills its job.
    cancellable: bool = True

    @abstractmethod
    def launch(self, request: LaunchRequest) -> Launched:
        """Start the task; raise if it could not be started (the job then fails with the error)."""

    @abstractmethod
    def check(self, handle: dict[str, Any]) -> TaskStatus:
        """The task's status now. A task that no longer exists is FAILED, never RUNNING forever."""

    @abstractmethod
    def cancel(self, handle: dict[str, Any], reason: str) -> None:
        """Stop the task if it still runs; harmless on a task that already ended."""

    def stop(self, handle: dict[str, Any], reason: str, confirm_seconds: float = 10.0,
             poll_seconds: float = 0.5) -> TaskStopped:
        """Cancel the task, then look until it is seen ended, for at most ``confirm_seconds``: a kill says
        whether the compute was confirmed stopped, not only that it was asked to stop (a Batch job or an
        ECS task takes its container's stop timeout to end; a false answer means it was still ending)."""
        if not self.cancellable:
            return UNCANCELLABLE
        self.cancel(handle, reason)
        deadline = time.monotonic() + confirm_seconds
        while self.check(handle).phase not in ENDED_PHASES:
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll_seconds)
        return True


def env_list(env: dict[str, str]) -> list[dict[str, str]]:
    """Variables as the ``[{"name", "value"}]`` lists Batch and ECS overrides take."""
    return [{"name": name, "value": value} for name, value in env.items()]
