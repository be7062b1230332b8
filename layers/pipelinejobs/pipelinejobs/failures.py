"""Why an attempt failed: the launcher's own words, and a class a person can act on.

Every attempt's end is recorded as ``exit_code``, ``reason`` (what the launcher said: Batch's
``statusReason`` and the container's ``reason``, ECS's ``stopCode`` and ``stoppedReason``, Lambda's
error type and message, a local process's exit code or signal) and ``failure``, one of
:class:`Failure`, or None when the attempt succeeded.

The classification is data, one table of :class:`Rule` per launcher (as ``callbacks`` keeps one status
table per runner): the first rule whose pattern is found in its field decides, and nothing matching
is ``unknown``. The same tables read what a launcher's check sees (DescribeJobs, DescribeTasks) and
what AWS sends through EventBridge (the same shapes), so an orchestrated job and a job moved only by
AWS events are classified alike. ``events/`` holds a realistic sample of each end state.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, NamedTuple

from .events import Event


class Failure(StrEnum):
    """What a person can do about a failed attempt follows from its class (docs/operations.md)."""

    #: The task's own code failed (an exit code other than 0, an error raised by a Lambda function).
    EXIT_NONZERO = "exit_nonzero"
    #: Killed for using more memory than it was given: give it more.
    OUT_OF_MEMORY = "out_of_memory"
    #: Its Spot capacity was taken back: not the task's fault, run it again.
    SPOT_INTERRUPTION = "spot_interruption"
    #: It ran out of time (the job's ``timeout_seconds``, Batch's attempt timeout, Lambda's timeout).
    TIMEOUT = "timeout"
    #: Stopped on purpose: pipelinejobs' kill, or someone stopping the task where it runs.
    KILLED = "killed"
    #: It went silent: no heartbeat within ``heartbeat_seconds``.
    STALE = "stale"
    #: It never started: the image could not be pulled, the function not invoked, the command not found.
    LAUNCH_FAILED = "launch_failed"
    #: None of the above could be told from what the launcher said (its reason is still recorded).
    UNKNOWN = "unknown"


#: The classes a task template's ``retry_on`` may name, and its default: every failure of a task is retried
#: until ``max_attempts``, as before the option existed. A timeout (the whole job's time is spent) and a kill
#: are never retried.
RETRYABLE: tuple[Failure, ...] = (
    Failure.EXIT_NONZERO, Failure.OUT_OF_MEMORY, Failure.SPOT_INTERRUPTION, Failure.STALE,
    Failure.LAUNCH_FAILED, Failure.UNKNOWN,
)


@dataclass(frozen=True)
class Rule:
    """``pattern`` (a regular expression) searched in the launcher's ``field``: if found, ``failure``."""

    field: str
    pattern: str
    failure: Failure

    def matches(self, facts: Mapping[str, Any]) -> bool:
        value = facts.get(self.field)
        return value is not None and re.search(self.pattern, str(value)) is not None


class End(NamedTuple):
    """How an attempt ended, as recorded on it."""

    exit_code: int | None
    reason: str | None
    failure: Failure | None


#: An exit code other than 0.
NONZERO = r"^(?!0$)-?\d+$"
#: Errors a container runtime reports when a task could not be started (Batch and ECS alike).
CANNOT_START = (r"^(CannotPullContainerError|CannotStartContainerError|CannotCreateContainerError|"
                r"CannotInspectContainerError|ResourceInitializationError|DockerTimeoutError|"
                r"TaskFailedToStart|ContainerRuntimeError|InternalError)")

#: AWS Batch: ``statusReason`` (the job's or an attempt's), the container's ``reason`` and ``exitCode``.
BATCH: tuple[Rule, ...] = (
    Rule("reason", r"OutOfMemoryError", Failure.OUT_OF_MEMORY),
    Rule("statusReason", r"^Host EC2 \(instance [^)]*\) terminated", Failure.SPOT_INTERRUPTION),
    Rule("statusReason", r"^Job attempt duration exceeded timeout", Failure.TIMEOUT),
    Rule("reason", CANNOT_START, Failure.LAUNCH_FAILED),
    Rule("statusReason", CANNOT_START, Failure.LAUNCH_FAILED),
    Rule("statusReason", r"^Dependent Job failed", Failure.LAUNCH_FAILED),
    Rule("exitCode", NONZERO, Failure.EXIT_NONZERO),
)

#: Amazon ECS: the task's ``stopCode`` and ``stoppedReason``, its containers' ``reason`` and ``exitCode``.
ECS: tuple[Rule, ...] = (
    Rule("stopCode", r"^SpotInterruption$", Failure.SPOT_INTERRUPTION),
    Rule("reason", r"OutOfMemoryError", Failure.OUT_OF_MEMORY),
    Rule("stopCode", r"^TaskFailedToStart$", Failure.LAUNCH_FAILED),
    Rule("reason", CANNOT_START, Failure.LAUNCH_FAILED),
    Rule("stopCode", r"^(UserInitiated|ServiceSchedulerInitiated)$", Failure.KILLED),
    Rule("exitCode", NONZERO, Failure.EXIT_NONZERO),
)

#: AWS Lambda: the ``errorType`` and ``errorMessage`` of a failed invocation (an asynchronous invocation's
#: failure record, or what a function reports itself), and the record's ``condition``.
LAMBDA: tuple[Rule, ...] = (
    Rule("errorType", r"^Sandbox\.Timedout$", Failure.TIMEOUT),
    Rule("errorMessage", r"Task timed out after", Failure.TIMEOUT),
    Rule("errorType", r"^(Runtime\.OutOfMemory|MemoryError)$", Failure.OUT_OF_MEMORY),
    Rule("errorMessage", r"Runtime exited with error: signal: killed", Failure.OUT_OF_MEMORY),
    Rule("condition", r"^EventAgeExceeded$", Failure.LAUNCH_FAILED),
    Rule("errorType", r"^(Lambda\.|Runtime\.(ImportModuleError|HandlerNotFound|UserCodeSyntaxError|"
                      r"InvalidEntrypoint))", Failure.LAUNCH_FAILED),
    Rule("errorType", r".", Failure.EXIT_NONZERO),
)

#: A local process: its exit code, negative for a signal (as ``subprocess`` reports it), or 128 + the
#: signal when a shell ran it.
LOCAL: tuple[Rule, ...] = (
    Rule("exitCode", r"^(-(1|2|9|15)|129|130|137|143)$", Failure.KILLED),
    Rule("exitCode", rf"^(-{int(signal.SIGXCPU)}|{128 + int(signal.SIGXCPU)})$", Failure.TIMEOUT),
    Rule("exitCode", r"^(126|127)$", Failure.LAUNCH_FAILED),
    Rule("exitCode", NONZERO, Failure.EXIT_NONZERO),
)

#: A ``fail`` a task sends itself (webhook, SDK, SQS): a class it names, else its reason, exit code or error type.
REPORTED: tuple[Rule, ...] = (
    *(Rule("failure", rf"^{failure.value}$", failure) for failure in Failure),
    Rule("reason", r"(?i)out ?of ?memory", Failure.OUT_OF_MEMORY),
    Rule("exit_code", NONZERO, Failure.EXIT_NONZERO),
    Rule("exitCode", NONZERO, Failure.EXIT_NONZERO),
    *LAMBDA,
)



def classify(rules: Iterable[Rule], facts: Mapping[str, Any]) -> Failure:
    """The class of the first rule that matches ``facts``; ``unknown`` if none does."""
    return next((rule.failure for rule in rules if rule.matches(facts)), Failure.UNKNOWN)


def _said(*parts: Any) -> str | None:
    """The launcher's words, each once, in order."""
    words = list(dict.fromkeys(str(part).strip() for part in parts if part not in (None, "")))
    return "; ".join(words) or None


def batch_end(job: Mapping[str, Any], succeeded: bool) -> End:
    """The end of a Batch job, or of one of its ``attempts[]`` (DescribeJobs and the EventBridge detail
    have the same shape): ``statusReason`` and the container's ``reason`` and ``exitCode``."""
    container = job.get("container") or {}
    facts = {"statusReason": job.get("statusReason"), "reason": container.get("reason"),
             "exitCode": container.get("exitCode")}
    return End(container.get("exitCode"), _said(facts["statusReason"], facts["reason"]),
               None if succeeded else classify(BATCH, facts))


def ecs_end(task: Mapping[str, Any], succeeded: bool) -> End:
    """The end of a stopped ECS task (DescribeTasks or the EventBridge detail): its ``stopCode`` and
    ``stoppedReason``, and the container that decided it (the first to fail, or the first)."""
    containers = task.get("containers") or []
    failed = [c for c in containers if c.get("exitCode") not in (0, None) or c.get("reason")]
    decisive = (failed or containers or [{}])[0]
    facts = {"stopCode": task.get("stopCode"), "reason": decisive.get("reason"), "exitCode": decisive.get("exitCode")}
    stop = f"{task['stopCode']}: {task.get('stoppedReason')}" if task.get("stopCode") else task.get("stoppedReason")
    return End(decisive.get("exitCode"), _said(stop, decisive.get("reason")),
               None if succeeded else classify(ECS, facts))


def lambda_end(result: Mapping[str, Any]) -> End:
    """The end of a failed Lambda invocation, from its failure record (an asynchronous invocation's
    destination event ``detail``: ``requestContext``, ``responseContext``, ``responsePayload``)."""
    payload = result.get("responsePayload")
    payload = payload if isinstance(payload, Mapping) else {"errorMessage": payload}
    facts = {"errorType": payload.get("errorType") or (result.get("responseContext") or {}).get("functionError"),
             "errorMessage": payload.get("errorMessage"),
             "condition": (result.get("requestContext") or {}).get("condition")}
    reason = _said(": ".join(str(v) for v in (facts["errorType"], facts["errorMessage"]) if v), facts["condition"])
    return End(None, reason, classify(LAMBDA, facts))


def local_end(exit_code: int | None) -> End:
    """The end of a local process: its exit code, or a signal; none recorded (its runner died) is unknown."""
    if exit_code is None:
        return End(None, "the process ended without recording an exit code", Failure.UNKNOWN)
    if exit_code == 0:
        return End(0, None, None)
    reason = f"killed by {signal.Signals(-exit_code).name}" if exit_code < 0 else f"exited with {exit_code}"
    return End(exit_code, reason, classify(LOCAL, {"exitCode": exit_code}))


def classified(event: Event) -> Event:
    """``event``, and if it is a ``fail``, with its class in its data as ``failure``: every fail says why, the
    ones a task sends itself included (the class it names, else one read from its exit code or error type)."""
    if event.event != "fail":
        return event
    return replace(event, data={**event.data, "failure": classify(REPORTED, event.data)})
