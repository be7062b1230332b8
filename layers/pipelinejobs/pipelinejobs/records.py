"""Plain data returned by the store: what a job, a history entry and an
applied event look like to callers, independent of how they are stored."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


def now_iso() -> str:
    """UTC timestamp with milliseconds; sorts lexically in time order."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class JobRecord:
    uuid: str
    pipeline_uuid: str
    state: str
    last_event: str
    created: str
    updated: str
    path: str
    data: dict[str, Any] = field(default_factory=dict)
    parents: list[str] = field(default_factory=list)
    started: str | None = None
    #: Number of history entries, applied or rejected; also the optimistic-lock version.
    version: int = 0
    rejections: int = 0
    callback_url: str | None = None
    #: The job asked to hear of every change of state at its ``callback_url``, not only of its end.
    callback_changes: bool = False
    # Orchestration (pipelinejobs.orchestration), written only with trusted events:
    #: The run (one execution and its continuations) that owns the job; its steps expect it.
    run_id: str | None = None
    #: The current Step Functions execution, so kill can stop it without listing executions.
    execution_arn: str | None = None
    #: Number of the current (latest) attempt; 0 before the first launch.
    attempt: int = 0
    #: The current attempt's launcher, handle and log pointer, so kill can cancel the task.
    launch: dict[str, Any] | None = None
    #: Callback mode: the waiting Task's token, settled when the job reaches FINISHED or FAILED.
    task_token: str | None = field(default=None, repr=False)
    #: How many times ``ready`` was applied: with ``attempt``, it makes the job's dedup scope (``scope``).
    generation: int = 0
    #: When the job last heard from anyone: every event recorded, and every repeated callback (a heartbeat).
    last_heartbeat: str | None = None
    #: A workflow's job: ``{"uuid": <workflow>, "node": <job name in its spec>, "index": <fan-out item>}``
    #: (pipelinejobs.workflows), set when the job is created; None for a job of no workflow.
    workflow: dict[str, Any] | None = None
    #: Fail the job as stale when it is silent this long while live (``heartbeats``); None: never.
    heartbeat_seconds: int | None = None
    #: When the sweep fails it as stale: set only while it is live with a heartbeat (a sparse index key).
    due_at: str | None = None
    #: Retention: when DynamoDB's TTL may delete a retired job (epoch seconds; ``retention``); None: never.
    expires_at: int | None = None

    @property
    def scope(self) -> str:
        """Where a derived (content) event id is deduplicated: a new attempt (orchestration's launch) or a
        rerun by hand (reset -> ready) starts a new scope, in which the same callback counts again."""
        return f"{self.attempt}.{self.generation}"

    def to_dict(self) -> dict[str, Any]:
        """The job as callers see it: the task token is a credential and is never included."""
        return {k: v for k, v in asdict(self).items() if k not in PRIVATE_FIELDS}


#: Fields orchestration sets alongside an event (handle_event's ``fields``), in the same write.
ORCHESTRATION_FIELDS: tuple[str, ...] = ("run_id", "execution_arn", "attempt", "launch", "task_token")
PRIVATE_FIELDS: frozenset[str] = frozenset({"task_token"})


@dataclass(frozen=True)
class HistoryEntry:
    """One event in a job's history. ``state`` is the job's state after it (unchanged when
    ``applied`` is False: a refused event, kept with its ``reason``)."""

    seq: int
    date: str
    name: str
    data: dict[str, Any]
    state: str
    applied: bool = True
    id: str | None = None
    reason: str | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HistoryPage:
    entries: list[HistoryEntry]
    #: Pass back as ``after`` to get the next page; None when there is none.
    next_cursor: int | None


@dataclass(frozen=True)
class Outcome:
    """The result of handling one event. A duplicate returns the first result (its event, previous_state
    and seq, ``duplicate`` set) with the job's *current* state: what the sender needs to know now."""

    uuid: str
    event: str
    state: str
    previous_state: str
    seq: int
    applied: bool = True
    duplicate: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IdMarker:
    """What the store remembers of an applied event id: the first outcome and, for a derived id, the job's
    ``scope`` it was applied in (None for a sender's own id, which is one event forever)."""

    outcome: Outcome
    scope: str | None = None


@dataclass
class PipelineRecord:
    uuid: str
    name: str
    description: str = ""
    components: list[Any] = field(default_factory=list)
    task: dict[str, Any] | None = None
    active: bool = True
    created: str = ""
    updated: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class JobSummary:
    """A job as the listing indexes hold it: enough for a `stat` table."""

    uuid: str
    pipeline_uuid: str
    state: str
    last_event: str
    created: str
    updated: str
    started: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Tombstone:
    """What is left of a deleted job: when it was deleted and, for an admin's delete, by whom."""

    uuid: str
    deleted_at: str | None
    deleted_by: str | None = None


@dataclass(frozen=True)
class DueJob:
    """A job the ``due`` index says is past its deadline, as the index had it (it may have moved on since)."""

    uuid: str
    due_at: str
    heartbeat_seconds: int | None = None
    last_heartbeat: str | None = None
