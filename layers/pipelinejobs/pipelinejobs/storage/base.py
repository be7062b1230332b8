"""The flow of applying an event, independent of where jobs are stored.

Optimistic concurrency: read the job (and the event id's marker), decide with the
FSM, then commit the history entry and the state change in one conditional write
guarded by the job's version. Losing a race raises WriteConflict in the backend;
the flow backs off (full jitter) and tries again, a bounded number of times, and
never past the request's deadline (:mod:`pipelinejobs.deadline`; outside Lambda,
``deadline.DEFAULT_SECONDS`` an event).

Deduplication: a sender's own event id is one event forever. A derived id (a
callback's content id) is one event per *scope* of the job (its attempt and
generation, ``JobRecord.scope``): the marker remembers the scope it was applied
in, the one read returns job and marker together, and a marker from an older
scope is no duplicate (the commit replaces it). A repeat within the scope is a
duplicate but still a sign of life: it refreshes ``last_heartbeat``.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from .. import deadline, fsm, heartbeats, records, retention
from ..config import Config
from ..errors import (
    ConcurrencyConflict,
    InvalidTransition,
    JobDeleted,
    JobNotFound,
    PreconditionFailed,
    WriteConflict,
)
from ..events import Event, is_derived
from ..records import (
    DueJob,
    HistoryEntry,
    HistoryPage,
    IdMarker,
    JobRecord,
    JobSummary,
    Outcome,
    PipelineRecord,
    Tombstone,
    now_iso,
)

BACKOFF_BASE_SECONDS = 0.01
BACKOFF_CAP_SECONDS = 0.5


class JobStore(ABC):
    def __init__(self, config: Config):
        self.config = config

    # ---- I/O: what a backend provides -------------------------------------------------

    @abstractmethod
    def load(self, uuid: str, event_id: str | None = None) -> tuple[JobRecord | None, IdMarker | None]:
        """The job (strongly consistent) and, if ``event_id`` was applied before, its marker: in one read."""

    @abstractmethod
    def commit_applied(self, before: JobRecord, after: JobRecord, entry: HistoryEntry,
                       replaces: IdMarker | None = None) -> None:
        """Write ``after`` and ``entry`` (and the id marker, with ``after.scope`` for a derived id) atomically,
        if the job is still at ``before.version`` and ``before.due_at`` (which a heartbeat moves without a new
        version: so the sweep's fail loses to a sign of life); else raise WriteConflict. ``replaces`` is the id's
        marker from an older scope, overwritten only if it is still the one read."""

    @abstractmethod
    def record_heartbeat(self, job: JobRecord, when: str) -> bool:
        """Set the job's ``last_heartbeat`` to ``when`` (unless it is later already, or the job is gone) in one
        small conditional write that leaves its version alone: a sign of life, not an event, so nothing is
        published for it. A live job's deadline (``due_at``) moves with it, only while it still has one (the
        job did not end meanwhile). False if nothing was written."""

    @abstractmethod
    def commit_rejected(self, job: JobRecord, entry: HistoryEntry) -> bool:
        """Record a refused event without changing the job's state (its ``last_heartbeat`` is set, and a live
        job's deadline moved: the job heard from someone). False if this event id was already refused in this
        state, and for a derived id in this scope (nothing written)."""

    @abstractmethod
    def insert_job(self, job: JobRecord, entry: HistoryEntry) -> bool:
        """Create the job with its first history entry; False if it already exists."""

    @abstractmethod
    def delete_job(self, job: JobRecord, deleted_by: str | None = None) -> None:
        """Delete the job and everything in its partition, if unchanged since read. ``deleted_by`` (an admin's
        delete) leaves the tombstone, with it and the time, as the only item of the partition."""

    @abstractmethod
    def finish_delete(self, uuid: str) -> bool:
        """Finish a delete that was interrupted (the job is gone, the rest of its partition is not);
        False if there was nothing to finish or the job exists."""

    @abstractmethod
    def tombstone(self, uuid: str) -> Tombstone | None:
        """The tombstone of a deleted job (None if there is none: never deleted, or a delete long finished
        that kept none)."""

    @abstractmethod
    def due_jobs(self, now: str) -> list[DueJob]:
        """Live jobs whose deadline (``due_at``) is at or before ``now``, from the sparse ``due`` index: reads in
        proportion to the jobs that are due, never a Scan. The index lags the table: a job read here may have
        been heard from since, which the sweep's conditional fail sees."""

    @abstractmethod
    def history(self, uuid: str, after: int | None = None, limit: int = 100,
                newest_first: bool = False) -> HistoryPage:
        """One page of history; ``after`` is the cursor of the previous page."""

    @abstractmethod
    def list_jobs(self, pipeline_uuid: str | None = None, state: str | None = None,
                  since: str | None = None) -> list[JobSummary]:
        """Jobs, newest first, from the indexes (never a Scan)."""

    @abstractmethod
    def page_jobs(self, pipeline_uuid: str | None = None, state: str | None = None, since: str | None = None,
                  after: str | None = None, limit: int = 50) -> tuple[list[JobSummary], str | None]:
        """A page of those jobs in the index's order (by state, then newest first) and the next page's cursor."""

    @abstractmethod
    def total_jobs(self, pipeline_uuid: str | None = None, state: str | None = None, since: str | None = None) -> int:
        """How many of those jobs there are."""

    @abstractmethod
    def count_jobs(self, pipeline_uuid: str | None = None, state: str | None = None,
                   since: str | None = None) -> dict[tuple[str, str], int]:
        """How many of those jobs there are, by (pipeline uuid, state)."""

    @abstractmethod
    def put_pipeline(self, pipeline: PipelineRecord) -> PipelineRecord: ...

    @abstractmethod
    def get_pipeline(self, uuid: str) -> PipelineRecord | None: ...

    @abstractmethod
    def list_pipelines(self) -> list[PipelineRecord]: ...

    @abstractmethod
    def pipelines_named(self, name: str) -> list[str]:
        """The uuids of the pipelines registered as ``name`` (one per set of components), from the catalog
        index: a key condition, never a Scan."""

    @abstractmethod
    def find_jobs(self, uuid_prefix: str) -> list[JobSummary]:
        """Jobs whose uuid starts with ``uuid_prefix``, newest first, from the indexes (never a Scan)."""

    # ---- the flow ---------------------------------------------------------------------

    def get_job(self, uuid: str) -> JobRecord:
        """The job; JobDeleted (a JobNotFound) if an admin deleted it, which only a job not found pays a read for."""
        job, _ = self.load(uuid)
        if job is None:
            tombstone = self.tombstone(uuid)
            if tombstone is not None and tombstone.deleted_by is not None:
                raise JobDeleted(uuid, tombstone.deleted_at, tombstone.deleted_by)
            raise JobNotFound(uuid)
        return job

    def iter_history(self, uuid: str, newest_first: bool = False, page_size: int = 500) -> Iterator[HistoryEntry]:
        cursor = None
        while True:
            page = self.history(uuid, after=cursor, limit=page_size, newest_first=newest_first)
            yield from page.entries
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def apply(self, event: Event, source: str | None = None, *, fields: Mapping[str, Any] | None = None,
              expect: Mapping[str, Any] | None = None,
              admit: Callable[[JobRecord | None], None] | None = None) -> tuple[Outcome, JobRecord | None]:
        """Apply one validated event exactly once (per event id, and per scope for a derived id); return its
        outcome and the job as committed. A duplicate adds nothing to the history and answers the first outcome
        in the job's current state; the job is returned only for a repeated callback, whose heartbeat it records
        (None otherwise: nothing was written).

        ``fields`` (orchestration fields of JobRecord) are set in the same conditional write as the
        event, so they are ordered with every other event. ``expect`` names field values the job
        must have, checked against the same read the write is conditional on. ``admit`` sees that read
        first (the job, or None) and raises to refuse the sender: a check that needs the job, at no extra
        request.

        Raises JobNotFound, PreconditionFailed (``expect`` not met; nothing written), InvalidTransition
        (after recording the refusal in the history), ConcurrencyConflict (retries spent; nothing
        was written) or OutOfTime (the deadline came first)."""
        with deadline.at_most(deadline.DEFAULT_SECONDS):
            return self._apply(event, source, fields, expect, admit)

    def _apply(self, event: Event, source: str | None, fields: Mapping[str, Any] | None,
               expect: Mapping[str, Any] | None,
               admit: Callable[[JobRecord | None], None] | None) -> tuple[Outcome, JobRecord | None]:
        allowed = records.ORCHESTRATION_FIELDS
        if set(fields or {}) - set(allowed):  # never state, version or history: those follow the FSM
            raise ValueError(f"only {', '.join(allowed)} may be set with an event, not {sorted(fields)}")
        for attempt in range(self.config.max_write_attempts):
            job, marker = self.load(event.uuid, event.id)
            if admit is not None:
                admit(job)
            if job is None:
                raise JobNotFound(event.uuid)
            if marker is not None and (not is_derived(event.id) or marker.scope == job.scope):
                return self._duplicate(job, marker, event)
            mismatched = {k: getattr(job, k) for k, v in (expect or {}).items() if getattr(job, k) != v}
            if mismatched:
                raise PreconditionFailed(job.uuid, mismatched)
            now = now_iso()
            try:
                state = fsm.next_state(job.state, event.event, job.uuid)
            except InvalidTransition as refused:
                entry = self._entry(job, event, job.state, now, source, reason=str(refused))
                try:
                    recorded = self.commit_rejected(job, entry)
                except WriteConflict:
                    _backoff(attempt, event)
                    continue
                refused.recorded_seq = entry.seq if recorded else None
                raise
            after = replace(
                job, state=state, last_event=event.event, updated=now, version=job.version + 1,
                started=job.started or (now if event.event == "run" else None), last_heartbeat=now,
                generation=job.generation + (event.event == "ready"), **(fields or {}),
            )
            # The deadline moves with the event; retiring starts the retention period, leaving RETIRED ends it.
            after = replace(after, due_at=heartbeats.due_at(after, now),
                            expires_at=retention.expires_at(after, now, self.config.retention_days))
            try:
                self.commit_applied(job, after, self._entry(job, event, state, now, source), replaces=marker)
            except WriteConflict:
                _backoff(attempt, event)
                continue
            return Outcome(job.uuid, event.event, state, job.state, after.version), after
        raise ConcurrencyConflict(
            f"job {event.uuid}: event '{event.event}' lost {self.config.max_write_attempts} write races; retry later"
        )

    def _duplicate(self, job: JobRecord, marker: IdMarker, event: Event) -> tuple[Outcome, JobRecord | None]:
        """The first outcome, in the job's current state. A repeated callback (a derived id) is a sign of life,
        so it refreshes ``last_heartbeat``; a sender's own id repeated is only a retry."""
        outcome = replace(marker.outcome, state=job.state)
        if is_derived(event.id):
            now = now_iso()
            if self.record_heartbeat(job, now):
                return outcome, replace(job, last_heartbeat=now)
        return outcome, None

    @staticmethod
    def _entry(job: JobRecord, event: Event, state: str, now: str, source: str | None,
               reason: str | None = None) -> HistoryEntry:
        return HistoryEntry(
            seq=job.version + 1, date=now, name=event.event, data=event.data, state=state,
            applied=reason is None, id=event.id, reason=reason, source=source,
        )


def _backoff(attempt: int, event: Event) -> None:
    """Full-jitter exponential backoff: contending writers spread out instead of colliding again; OutOfTime
    rather than sleep past the deadline."""
    delay = random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))
    deadline.sleep(delay, 0.0, f"job {event.uuid}: event '{event.event}', after a lost write race,")
