"""The flow of applying an event, independent of where jobs are stored.

Optimistic concurrency: read the job (and the event id's marker), decide with the
FSM, then commit the history entry and the state change in one conditional write
guarded by the job's version. Losing a race raises WriteConflict in the backend;
the flow backs off (full jitter) and tries again, a bounded number of times.
"""

from __future__ import annotations

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from .. import fsm, records
from ..config import Config
from ..errors import ConcurrencyConflict, InvalidTransition, JobNotFound, PreconditionFailed, WriteConflict
from ..events import Event
from ..records import HistoryEntry, HistoryPage, JobRecord, JobSummary, Outcome, PipelineRecord, now_iso

BACKOFF_BASE_SECONDS = 0.01
BACKOFF_CAP_SECONDS = 0.5


class JobStore(ABC):
    def __init__(self, config: Config):
        self.config = config

    # ---- I/O: what a backend provides -------------------------------------------------

    @abstractmethod
    def load(self, uuid: str, event_id: str | None = None) -> tuple[JobRecord | None, Outcome | None]:
        """The job (strongly consistent) and, if ``event_id`` was applied before, its outcome."""

    @abstractmethod
    def commit_applied(self, before: JobRecord, after: JobRecord, entry: HistoryEntry) -> None:
        """Write ``after`` and ``entry`` (and the id marker) atomically, if the job is still at
        ``before.version``; else raise WriteConflict."""

    @abstractmethod
    def commit_rejected(self, job: JobRecord, entry: HistoryEntry) -> bool:
        """Record a refused event without changing the job's state. False if this
        event id was already refused in this state (nothing written)."""

    @abstractmethod
    def insert_job(self, job: JobRecord, entry: HistoryEntry) -> bool:
        """Create the job with its first history entry; False if it already exists."""

    @abstractmethod
    def delete_job(self, job: JobRecord) -> None:
        """Delete the job and everything in its partition, if unchanged since read."""

    @abstractmethod
    def history(self, uuid: str, after: int | None = None, limit: int = 100,
                newest_first: bool = False) -> HistoryPage:
        """One page of history; ``after`` is the cursor of the previous page."""

    @abstractmethod
    def list_jobs(self, pipeline_uuid: str | None = None, state: str | None = None,
                  since: str | None = None) -> list[JobSummary]:
        """Jobs, newest first, from the indexes (never a Scan)."""

    @abstractmethod
    def put_pipeline(self, pipeline: PipelineRecord) -> PipelineRecord: ...

    @abstractmethod
    def get_pipeline(self, uuid: str) -> PipelineRecord | None: ...

    @abstractmethod
    def list_pipelines(self) -> list[PipelineRecord]: ...

    @abstractmethod
    def find_jobs(self, uuid_prefix: str) -> list[JobSummary]:
        """Jobs whose uuid starts with ``uuid_prefix``, newest first, from the indexes (never a Scan)."""

    # ---- the flow ---------------------------------------------------------------------

    def get_job(self, uuid: str) -> JobRecord:
        job, _ = self.load(uuid)
        if job is None:
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
              expect: Mapping[str, Any] | None = None) -> tuple[Outcome, JobRecord | None]:
        """Apply one validated event exactly once (per event id); return its outcome and the job as
        committed (None for a duplicate, which writes nothing).

        ``fields`` (orchestration fields of JobRecord) are set in the same conditional write as the
        event, so they are ordered with every other event. ``expect`` names field values the job
        must have, checked against the same read the write is conditional on.

        Raises JobNotFound, PreconditionFailed (``expect`` not met; nothing written), InvalidTransition
        (after recording the refusal in the history) or ConcurrencyConflict (retries spent; nothing
        was written)."""
        allowed = records.ORCHESTRATION_FIELDS
        if set(fields or {}) - set(allowed):  # never state, version or history: those follow the FSM
            raise ValueError(f"only {', '.join(allowed)} may be set with an event, not {sorted(fields)}")
        for attempt in range(self.config.max_write_attempts):
            job, seen = self.load(event.uuid, event.id)
            if job is None:
                raise JobNotFound(event.uuid)
            if seen is not None:
                return seen, None
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
                    _backoff(attempt)
                    continue
                refused.recorded_seq = entry.seq if recorded else None
                raise
            after = replace(
                job, state=state, last_event=event.event, updated=now, version=job.version + 1,
                started=job.started or (now if event.event == "run" else None), **(fields or {}),
            )
            try:
                self.commit_applied(job, after, self._entry(job, event, state, now, source))
            except WriteConflict:
                _backoff(attempt)
                continue
            return Outcome(job.uuid, event.event, state, job.state, after.version), after
        raise ConcurrencyConflict(
            f"job {event.uuid}: event '{event.event}' lost {self.config.max_write_attempts} write races; retry later"
        )

    @staticmethod
    def _entry(job: JobRecord, event: Event, state: str, now: str, source: str | None,
               reason: str | None = None) -> HistoryEntry:
        return HistoryEntry(
            seq=job.version + 1, date=now, name=event.event, data=event.data, state=state,
            applied=reason is None, id=event.id, reason=reason, source=source,
        )


def _backoff(attempt: int) -> None:
    """Full-jitter exponential backoff: contending writers spread out instead of colliding again."""
    time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)))
