"""The run state: what an execution carries from step to step (its input and every output).

It is small (a few hundred bytes, far below the 256 KB payload limit) and
complete: a continuation starts from it alone, so a long job can hop from
execution to execution without reading anything else.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Self

from .flow import Step
from .spec import MAX_TASK_SECONDS, TaskSpec


@dataclass(frozen=True)
class RunState:
    #: A Step; read back as a plain string, so that recover can handle a state whose step this
    #: code does not know (Dispatch routes any such state to Recover).
    next: str
    job: str
    pipeline: str
    #: The run this execution chain belongs to; every step it sends expects the job to carry it.
    run_id: str
    spec: TaskSpec
    attempt: int = 1
    #: Epoch seconds after which the job is failed with reason ``timeout``; None: no timeout.
    deadline: float | None = None
    #: For a callback Task's TimeoutSecondsPath: seconds left until the deadline.
    timeout_remaining: int = MAX_TASK_SECONDS
    #: Backoff: the interval the next wait grows from, and the wait itself (the Wait's SecondsPath).
    interval: float = 0.0
    wait_seconds: int = 0
    #: Polls in this execution (continue as new at spec.poll.max_iterations), and executions so far.
    iterations: int = 0
    segment: int = 0
    #: The launcher's last reported status word, so only changes are written to the history.
    status: str | None = None
    #: The webhook URL (with the job's token) a task reports to: ``PIPELINEJOBS_CALLBACK``, minted by start/rerun.
    #: Not the job's ``callback_url``, which is the completion URL its creator asked to be POSTed.
    webhook_url: str | None = None
    #: What a Catch put here (``{"Error", "Cause"}``), for the recover step.
    error: dict[str, Any] | None = None
    #: Continue-as-new: the next execution's name and input.
    continue_name: str | None = None
    carry: dict[str, Any] | None = None
    #: Why the run stopped without touching the job (``next`` superseded): the execution's output says it.
    superseded: dict[str, Any] | None = None
    #: Why the job was never this run's (``next`` not_claimed): the cause the execution fails with.
    cause: str | None = None

    @classmethod
    def first(cls, *, job: str, pipeline: str, run_id: str, spec: TaskSpec, attempt: int, now: float,
              webhook_url: str | None = None) -> Self:
        deadline = now + spec.timeout_seconds if spec.timeout_seconds else None
        return cls(next=spec.launch_step, job=job, pipeline=pipeline, run_id=run_id, spec=spec, attempt=attempt,
                   deadline=deadline, webhook_url=webhook_url)._armed(now)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Read a state back; keys Step Functions added on the way (a ResultPath) are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "callback_url" in data:  # an execution started before webhook_url had its name: carry it over
            values.setdefault("webhook_url", data["callback_url"])
        return cls(**{**values, "spec": TaskSpec.from_dict(values["spec"])})

    def to_dict(self) -> dict[str, Any]:
        data = {**asdict(self), "spec": self.spec.to_dict()}
        for last_only in ("superseded", "cause"):  # only the last state of a run that stopped has them
            if data[last_only] is None:
                del data[last_only]
        return data

    # ---- transitions of the run (each returns a new state) --------------------------

    def to(self, step: Step) -> Self:
        return replace(self, next=step, error=None)

    def superseded_because(self, why: dict[str, Any]) -> Self:
        """The job is no longer this run's: end quietly (the Succeed state ``Superseded``), saying why."""
        return replace(self, next=Step.SUPERSEDED, error=None, superseded=why)

    def not_claimed(self, cause: str) -> Self:
        """The job was never this run's: fail the execution (the Fail state ``NotClaimed``) with ``cause``."""
        return replace(self, next=Step.NOT_CLAIMED, error=None, cause=cause)

    def timed_out(self, now: float) -> bool:
        return self.deadline is not None and now >= self.deadline

    def relaunched(self, now: float) -> Self:
        """The next attempt: launched afresh and checked soon again."""
        return replace(self, next=self.spec.launch_step, attempt=self.attempt + 1, status=None,
                       error=None)._armed(now)

    def polled(self, now: float, status: str) -> Self:
        """After a check that found the task still going: wait longer, or continue as new."""
        interval = self.spec.poll.grow(self.interval)
        polled = replace(self, next=Step.WAIT, iterations=self.iterations + 1, status=status, error=None,
                         interval=interval, wait_seconds=self._bounded(interval, now))
        return polled._continued() if polled.iterations >= self.spec.poll.max_iterations else polled

    def _armed(self, now: float) -> Self:
        """Backoff restarted (first check soon) and the callback timeout measured from now."""
        first = float(self.spec.poll.first)
        remaining = MAX_TASK_SECONDS if self.deadline is None else max(1, math.ceil(self.deadline - now))
        return replace(self, interval=first, wait_seconds=self._bounded(first, now), timeout_remaining=remaining)

    def _bounded(self, seconds: float, now: float) -> int:
        """A wait that never sleeps past the deadline, so a timeout is noticed when it falls due."""
        if self.deadline is not None:
            seconds = min(seconds, self.deadline - now)
        return max(1, math.ceil(seconds))

    def _continued(self) -> Self:
        """Hand over to a new execution, which starts with this state's next wait."""
        carried = replace(self, iterations=0, segment=self.segment + 1)
        return replace(self, next=Step.CONTINUE, continue_name=f"{self.job}-{self.run_id}-{carried.segment}",
                       carry=carried.to_dict())
