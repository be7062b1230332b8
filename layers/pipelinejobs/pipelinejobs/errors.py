"""Every error pipelinejobs raises, in one place.

Front doors map these to answers (HTTP status codes, SQS retries, Step Functions
error types), so each error carries what a caller needs to act on it and nothing
they must not see (no tokens, no stack traces).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class PipelineJobsError(Exception):
    """Base class: anything pipelinejobs raises on purpose."""

    #: HTTP status a front door should answer with.
    status_code = 500

    def to_dict(self) -> dict:
        """The error as a caller-safe JSON body."""
        return {"error": type(self).__name__, "message": str(self)}


class ConfigurationError(PipelineJobsError):
    """A required setting (table name, token secret, ...) is missing or wrong."""


class InvalidEvent(PipelineJobsError):
    """The message is not a valid PipelineJobEvent. Nothing was written.

    ``errors`` lists ``{"field", "problem"}`` pairs so the sender can fix every
    fault at once rather than one per round trip.
    """

    status_code = 400

    def __init__(self, errors: Sequence[dict[str, str]]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{e['field']}: {e['problem']}" for e in self.errors))

    @classmethod
    def single(cls, field: str, problem: str) -> InvalidEvent:
        return cls([{"field": field, "problem": problem}])

    @property
    def field(self) -> str:
        """The first field at fault (most callers only need one)."""
        return self.errors[0]["field"]

    def to_dict(self) -> dict:
        return {**super().to_dict(), "errors": self.errors}


class PayloadTooLarge(InvalidEvent):
    """The event's ``data`` (or a callback body) exceeds the size limit."""

    status_code = 413


class InvalidTaskSpec(InvalidEvent):
    """A pipeline's task template (launcher, params, mode, attempts, timeouts, polling) is not
    valid; the same ``{"field", "problem"}`` list as InvalidEvent. Nothing was started."""


class InvalidWorkflow(InvalidEvent):
    """A workflow spec is not valid (its schema, or its graph: a cycle, an unknown ``after``, an unknown
    pipeline, a reference to a job not upstream, a malformed ``${...}``, ``each`` over a non-list); each
    entry's ``field`` names the job and the field (``jobs.align.each``). Nothing was written."""


class WorkflowStateConflict(PipelineJobsError):
    """A workflow is not in a state the operation applies to (a rerun of one still RUNNING, a kill of one that
    ended). Nothing was done."""

    status_code = 409


class WorkflowNotFound(PipelineJobsError):
    status_code = 404

    def __init__(self, uuid: str):
        self.uuid = uuid
        super().__init__(f"workflow {uuid} not found")


class InvalidTransition(PipelineJobsError):
    """The event is not allowed from the job's current state.

    The refusal is recorded in the job's history (marked rejected, with this
    message as its reason) but the job's state does not change.
    """

    status_code = 409

    def __init__(self, uuid: str, state: str, event: str, allowed: Iterable[str], hint: str = ""):
        self.uuid, self.state, self.event = uuid, state, event
        self.allowed = sorted(allowed)
        #: Sequence number of the history entry recording this refusal (None if not recorded,
        #: e.g. the same event id was already refused in this state).
        self.recorded_seq: int | None = None
        message = (
            f"job {uuid} is {state}: event '{event}' is not allowed from {state}; "
            f"allowed events: {', '.join(self.allowed) or 'none'}"
        )
        super().__init__(f"{message}. {hint}" if hint else message)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "state": self.state, "event": self.event, "allowed": self.allowed}


class Unauthorized(PipelineJobsError):
    """Missing, malformed, forged, expired or other-job token.

    The message is the same whether or not the job exists, so a caller without
    a valid token learns nothing about which jobs exist.
    """

    status_code = 401


class Forbidden(Unauthorized):
    """A valid job token, used for an event only an admin may send."""

    status_code = 403


class JobNotFound(PipelineJobsError):
    status_code = 404

    def __init__(self, uuid: str):
        self.uuid = uuid
        super().__init__(f"job {uuid} not found")


class JobDeleted(JobNotFound):
    """The job was deleted by an admin; its tombstone says by whom and when. A 404 like any job not there."""

    def __init__(self, uuid: str, deleted_at: str | None, deleted_by: str | None):
        super().__init__(uuid)
        self.deleted_at, self.deleted_by = deleted_at, deleted_by
        self.args = (f"job {uuid} was deleted by {deleted_by} at {deleted_at}",)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "deleted_at": self.deleted_at, "deleted_by": self.deleted_by}


class AmbiguousName(PipelineJobsError):
    """A job or pipeline was named by a uuid prefix (or a pipeline by a name) that several share:
    ``candidates`` lists those it could mean. Nothing was done."""

    status_code = 400

    def __init__(self, message: str, candidates: Sequence[str] = ()):
        self.candidates = list(candidates)
        super().__init__(message)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "candidates": self.candidates}


class PipelineNotFound(PipelineJobsError):
    status_code = 404

    def __init__(self, uuid: str, reason: str = "not found"):
        self.uuid, self.reason = uuid, reason
        super().__init__(f"pipeline {uuid} {reason}")

    def to_dict(self) -> dict:
        return {**super().to_dict(), "pipeline": self.uuid, "reason": self.reason}


class DeliveryNotFound(PipelineJobsError):
    """No callback delivery of the job matches (``pipelinejobs callbacks UUID --redeliver``): nothing was sent."""

    status_code = 404


class PreconditionFailed(PipelineJobsError):
    """The job's fields are not what the sender expected (``expect``): nothing was written.

    Orchestration steps expect the job's ``run_id`` to be theirs, so the late step of a
    killed or rerun execution cannot move a job another run now owns.
    """

    status_code = 412

    def __init__(self, uuid: str, mismatched: dict[str, object]):
        self.uuid, self.mismatched = uuid, mismatched
        super().__init__(f"job {uuid} has {', '.join(f'{k}={v!r}' for k, v in mismatched.items())}, "
                         "not what the sender expected")


class LaunchFailed(PipelineJobsError):
    """A launcher's service accepted the request but started nothing (e.g. RunTask failures)."""

    status_code = 502


class ConcurrencyConflict(PipelineJobsError):
    """Optimistic-locking retries ran out under contention. Safe to retry later."""

    status_code = 503


class WaitTimeout(PipelineJobsError, TimeoutError):
    """:func:`pipelinejobs.wait` gave up before the job reached a wanted state."""

    status_code = 504


class StorageUnavailable(PipelineJobsError):
    """DynamoDB throttled or failed, and the SDK's retries (with backoff) did not get through.

    Nothing was written. Safe to retry later: SQS redelivers, a job runner re-sends."""

    status_code = 503


class OutOfTime(PipelineJobsError):
    """The request's time budget (the Lambda's remaining time, see :mod:`pipelinejobs.deadline`) ran out
    before the work was done: retries and backoff stop there rather than outlive the function.

    Safe to retry later: an event with an id is applied once however often it is sent."""

    status_code = 503


class ServiceUnreachable(PipelineJobsError):
    """The webhook API gave no answer (connection refused or reset, timed out, its name did not resolve).

    Whether the request arrived is unknown: retry it (``setup`` is get-or-create; an event with an ``id``
    is applied once however often it is sent)."""

    status_code = 503


class WriteConflict(PipelineJobsError):
    """Internal: a conditional write lost a race (another event moved the job first).

    The store's flow re-reads the job and tries again; callers only ever see
    ConcurrencyConflict, once the bounded retries are spent."""

    status_code = 503
