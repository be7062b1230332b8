"""The DynamoDB backend of JobStore (PynamoDB models, one table).

Per event it makes two requests whatever the history length: one strongly
consistent read (GetItem, or TransactGetItems when the event has an id, to read
the job and the id's marker together) and one TransactWriteItems (history entry +
marker + conditional job update). A repeated callback (a duplicate derived id)
makes one more, small, request instead of the transaction: an UpdateItem of the
job's ``last_heartbeat``.

Faults: every method that touches the table translates what DynamoDB or the
network did (see ``_translated``): a lost race is WriteConflict, throttling, a
DynamoDB fault, a reset or a timeout that outlived the client's retries is
StorageUnavailable (503), reads included. Each transaction carries a client
request token (botocore's), so its resend of a transaction whose answer was
lost is answered by DynamoDB as the success it was, not written twice.

Deleting a job is safe at every request boundary: one transaction deletes the
job item and writes a tombstone beside it, then the rest of the partition is
cleared and the tombstone goes last. An interrupted delete leaves the tombstone
(or, from older versions, history without a job), which ``finish_delete`` and
``insert_job`` finish before anything is built on it.
"""

from __future__ import annotations

import functools
import heapq
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import (
    DoesNotExist,
    PynamoDBConnectionError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)
from pynamodb.transactions import TransactGet, TransactWrite

from .. import clients, heartbeats
from ..config import INDEX_SHARDS, Config
from ..errors import StorageUnavailable, WriteConflict
from ..events import is_derived
from ..identity import shard
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
from .base import JobStore
from .models import (
    DELETING_SK,
    JOB_SK,
    PIPELINE_SK,
    PIPELINES_KEY,
    bind,
    by_pipeline_pk,
    catalog_pk,
    due_partition,
    event_sk,
    job_pk,
    job_record,
    job_values,
    marker_sk,
    pipeline_pk,
    rejection_sk,
)

#: Reasons a transaction is cancelled that mean "someone else wrote first".
_RACE_CODES = {"ConditionalCheckFailed", "TransactionConflict"}
#: Errors that mean "DynamoDB could not take this now" (botocore has already retried them).
_UNAVAILABLE_CODES = {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
                      "ThrottlingError", "InternalServerError", "ServiceUnavailable", "TransactionInProgressException"}
_LAST_SEQ = 10**12 - 1
_CHECK_FAILED = "ConditionalCheckFailed"

_Method = TypeVar("_Method", bound=Callable[..., Any])
_T = TypeVar("_T")


def _translating(method: _Method) -> _Method:
    """Translate what a storage method's requests raise (see ``_translated``); reads included."""

    @functools.wraps(method)
    def translated(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (PynamoDBException, BotoCoreError) as exc:
            error = _translated(exc)
            if error is exc:
                raise
            raise error from exc

    return translated  # type: ignore[return-value]


class DynamoDBJobStore(JobStore):
    def __init__(self, config: Config):
        super().__init__(config)
        self.models = bind(config.table, config.endpoint_url, config.region)
        # One botocore client from the one factory (its retry policy, timeouts and deadline) serves every
        # model, reads and transactions alike: one parse of the service model, one connection pool.
        client = clients.client("dynamodb", region=config.region, endpoint_url=config.endpoint_url)
        for model in self.models.all():
            model._get_connection().connection._client = client
        self._connection = self.models.job._get_connection().connection

    # ---- conversions --------------------------------------------------------------

    def _job_item(self, job: JobRecord):
        return self.models.job(**{name: value for name, value in job_values(job).items() if value is not None})

    def _event_item(self, uuid: str, entry: HistoryEntry):
        return self.models.event(
            pk=job_pk(uuid), sk=event_sk(entry.seq), seq=entry.seq, date=entry.date, name=entry.name,
            data=entry.data, state=entry.state, applied=entry.applied, event_id=entry.id,
            reason=entry.reason, source=entry.source,
        )

    @staticmethod
    def _history_entry(item) -> HistoryEntry:
        return HistoryEntry(
            seq=int(item.seq), date=item.date, name=item.name, data=item.data or {}, state=item.state,
            applied=bool(item.applied), id=item.event_id, reason=item.reason, source=item.source,
        )

    # ---- events ---------------------------------------------------------------------

    def load(self, uuid: str, event_id: str | None = None) -> tuple[JobRecord | None, IdMarker | None]:
        Job, Marker = self.models.job, self.models.marker
        try:
            if event_id is None:
                try:
                    return job_record(Job.get(job_pk(uuid), JOB_SK, consistent_read=True)), None
                except DoesNotExist:
                    return None, None
            with TransactGet(connection=self._connection) as read:
                job_future = read.get(Job, job_pk(uuid), JOB_SK)
                marker_future = read.get(Marker, job_pk(uuid), marker_sk(event_id))
        except PynamoDBException as exc:
            raise _translated(exc) from exc
        job, marker = _resolved(job_future), _resolved(marker_future)
        seen = None
        if marker is not None:
            seen = IdMarker(Outcome(uuid, marker.name, marker.state, marker.previous_state, int(marker.seq),
                                    applied=True, duplicate=True), scope=marker.scope)
        return (job_record(job) if job else None), seen

    def commit_applied(self, before: JobRecord, after: JobRecord, entry: HistoryEntry,
                       replaces: IdMarker | None = None) -> None:
        Job, Marker = self.models.job, self.models.marker
        # Every attribute the event changed, index keys included; the version is PynamoDB's (set and checked).
        old, new = job_values(before), job_values(after)
        actions = [getattr(Job, name).remove() if value is None else getattr(Job, name).set(value)
                   for name, value in new.items() if value != old[name] and name != "version"]
        # A heartbeat moves the deadline without a new version: the deadline read is a condition too.
        deadline_read = None if before.due_at is None else Job.due_at == before.due_at
        try:
            with self._transaction() as tx:
                tx.save(self._event_item(before.uuid, entry), condition=self.models.event.pk.does_not_exist())
                if entry.id:
                    marker = Marker(pk=job_pk(before.uuid), sk=marker_sk(entry.id), seq=entry.seq, name=entry.name,
                                    state=after.state, previous_state=before.state,
                                    scope=after.scope if is_derived(entry.id) else None)
                    tx.save(marker, condition=_unchanged(Marker, replaces))
                tx.update(self._job_item(before), actions=actions, condition=deadline_read)
        except TransactWriteError as exc:
            raise _translated(exc) from exc

    def record_heartbeat(self, job: JobRecord, when: str) -> bool:
        Job = self.models.job
        newer = Job.pk.exists() & (Job.last_heartbeat.does_not_exist() | (Job.last_heartbeat < when))
        actions = [Job.last_heartbeat.set(when)]
        deadline = heartbeats.due_at(job, when)
        if deadline is not None:  # only while the job still has one: a job that ended meanwhile stays unwatched
            actions.append(Job.due_at.set(deadline))
            newer &= Job.due_at.exists()
        try:  # the table's own UpdateItem, not the model's: that would bump and check the version
            Job._get_connection().update_item(job_pk(job.uuid), JOB_SK, actions=actions, condition=newer)
        except UpdateError as exc:
            if _error_code(exc.cause) in ("ConditionalCheckFailedException", "TransactionConflictException"):
                return False  # a later heartbeat is there already, the job is gone, or an event is being written
            raise _translated(exc) from exc
        return True

    def commit_rejected(self, job: JobRecord, entry: HistoryEntry) -> bool:
        Job, Marker = self.models.job, self.models.marker
        try:
            with self._transaction() as tx:
                tx.save(self._event_item(job.uuid, entry), condition=self.models.event.pk.does_not_exist())
                if entry.id:
                    scope = job.scope if is_derived(entry.id) else None
                    refusal = Marker(pk=job_pk(job.uuid), sk=rejection_sk(job.state, entry.id, scope), seq=entry.seq,
                                     name=entry.name, state=job.state, previous_state=job.state)
                    tx.save(refusal, condition=Marker.pk.does_not_exist())
                heard = [Job.rejections.add(1), Job.last_heartbeat.set(entry.date)]
                deadline = heartbeats.due_at(job, entry.date)
                tx.update(self._job_item(job), actions=heard + ([Job.due_at.set(deadline)] if deadline else []))
        except TransactWriteError as exc:
            reasons = _reasons(exc)
            # Items are sent puts first, then the update: [entry, refusal marker, job].
            if entry.id and reasons[1:] == ["ConditionalCheckFailed", None]:
                return False
            raise _translated(exc) from exc
        return True

    @_translating
    def insert_job(self, job: JobRecord, entry: HistoryEntry) -> bool:
        Event, Tombstone = self.models.event, self.models.tombstone
        for healed in (False, True):
            try:
                with self._transaction() as tx:  # items are sent: [tombstone check, job, first entry]
                    tx.condition_check(Tombstone, job_pk(job.uuid), DELETING_SK,
                                       condition=Tombstone.pk.does_not_exist())
                    tx.save(self._job_item(job))  # PynamoDB adds attribute_not_exists(version)
                    tx.save(self._event_item(job.uuid, entry), condition=Event.pk.does_not_exist())
            except TransactWriteError as exc:
                reasons = _reasons(exc)
                if reasons[1:2] == [_CHECK_FAILED]:  # the job exists already: get-or-create
                    return False
                if _CHECK_FAILED in reasons and not healed:
                    # No job, but a tombstone or history: an interrupted delete. Finish it, then create.
                    self.finish_delete(job.uuid)
                    continue
                error = _translated(exc)
                if isinstance(error, WriteConflict):  # a concurrent create of the same job
                    return False
                raise error from exc
            return True
        return False

    @_translating
    def delete_job(self, job: JobRecord, deleted_by: str | None = None) -> None:
        Job = self.models.job
        # The one request that deletes: after it the job is gone for every reader and writer (their writes
        # are conditional on its version), and the tombstone says the partition is being cleared.
        tombstone = self.models.tombstone(pk=job_pk(job.uuid), sk=DELETING_SK, deleted_at=now_iso(),
                                          deleted_by=deleted_by)
        with self._transaction() as tx:
            tx.delete(self._job_item(job), condition=Job.state == job.state)  # version condition added
            tx.save(tombstone)
        self._clear(tombstone, self._partition(job.uuid))

    @_translating
    def finish_delete(self, uuid: str) -> bool:
        Job = self.models.job
        keys = self._partition(uuid)
        if not keys or JOB_SK in keys:
            return False  # nothing left behind, or a job that exists
        tombstone = self._tombstone_item(uuid) if DELETING_SK in keys else None
        if keys == [DELETING_SK] and tombstone is not None and tombstone.deleted_by is not None:
            return False  # an admin's delete, finished: its tombstone is its record
        # The delete's own tombstone, who and when kept; an older, non-atomic delete left none: one is written.
        tombstone = tombstone or self.models.tombstone(pk=job_pk(uuid), sk=DELETING_SK, deleted_at=now_iso())
        try:
            with self._transaction() as tx:  # never clear the partition of a job that exists
                tx.condition_check(Job, job_pk(uuid), JOB_SK, condition=Job.pk.does_not_exist())
                tx.save(tombstone)
        except TransactWriteError as exc:
            if _reasons(exc)[:1] == [_CHECK_FAILED]:  # created since the read: it is not ours to clear
                return False
            raise
        self._clear(tombstone, keys)
        return True

    @_translating
    def tombstone(self, uuid: str) -> Tombstone | None:
        item = self._tombstone_item(uuid)
        return None if item is None else Tombstone(uuid, item.deleted_at, item.deleted_by)

    def _tombstone_item(self, uuid: str):
        try:
            return self.models.tombstone.get(job_pk(uuid), DELETING_SK, consistent_read=True)
        except DoesNotExist:
            return None

    def _partition(self, uuid: str) -> list[str]:
        """The sort keys of every item in a job's partition."""
        return [i.sk for i in self.models.event.query(job_pk(uuid), attributes_to_get=["pk", "sk"],
                                                      consistent_read=True)]

    def _clear(self, tombstone, keys: list[str]) -> None:
        """Delete what a deleted job left in its partition (``keys``), its tombstone last, unless it is an
        admin's (``deleted_by``): that one stays as the record of the delete."""
        Event = self.models.event
        with Event.batch_write() as batch:
            for sk in keys:
                if sk not in (JOB_SK, DELETING_SK):
                    batch.delete(Event(pk=tombstone.pk, sk=sk))
        if tombstone.deleted_by is None:
            tombstone.delete()

    def _transaction(self) -> TransactWrite:
        # Consumed capacity is asked for so benchmarks and metrics can read what an event cost. No client
        # request token is given: botocore fills one in per call (the parameter is an idempotency token in
        # the service model) and keeps it across its own resends, so a resend after a lost answer is
        # answered by DynamoDB as the success it was; the flow's retry is a new call, with a new token.
        return TransactWrite(connection=self._connection, return_consumed_capacity="TOTAL")

    # ---- reads ----------------------------------------------------------------------

    @_translating
    def history(self, uuid: str, after: int | None = None, limit: int = 100,
                newest_first: bool = False) -> HistoryPage:
        Event = self.models.event
        if newest_first:
            before = (after or _LAST_SEQ + 1) - 1
            if before < 1:  # nothing is older than the first entry (and BETWEEN refuses an empty range)
                return HistoryPage([], None)
            condition = Event.sk.between(event_sk(1), event_sk(before))
        else:
            condition = Event.sk.between(event_sk((after or 0) + 1), event_sk(_LAST_SEQ))
        items = list(Event.query(job_pk(uuid), condition, scan_index_forward=not newest_first,
                                 limit=limit + 1, page_size=limit + 1, consistent_read=True))
        entries = [self._history_entry(item) for item in items[:limit]]
        return HistoryPage(entries, entries[-1].seq if len(items) > limit else None)

    @_translating
    def list_jobs(self, pipeline_uuid: str | None = None, state: str | None = None,
                  since: str | None = None) -> list[JobSummary]:
        index, partition, range_condition, filter_condition = self._listing(pipeline_uuid, state, since)
        jobs = [
            _summary(item) for n in range(INDEX_SHARDS)
            for item in index.query(partition(n), range_condition, filter_condition=filter_condition)
        ]
        return sorted(jobs, key=lambda j: (j.created, j.uuid), reverse=True)

    def _listing(self, pipeline_uuid: str | None, state: str | None, since: str | None, before: str | None = None):
        """How a listing reads: the index (by pipeline, else the catalog), its partitions' keys, the sort key
        condition (the state and the period; below ``before``, a sort key, when paging) and the filter (the
        period, when no state puts it in the key)."""
        Job = self.models.job
        index, partition = ((Job.by_pipeline, functools.partial(by_pipeline_pk, pipeline_uuid)) if pipeline_uuid
                            else (Job.catalog, catalog_pk))
        if state:
            range_condition = Job.gsi_sk.between(f"{state}#{since or ''}", before or f"{state}#\uffff")
        elif before:
            range_condition = Job.gsi_sk < before
        else:
            range_condition = None
        filter_condition = (Job.created >= since) if since and not state else None
        return index, partition, range_condition, filter_condition

    @_translating
    def page_jobs(self, pipeline_uuid: str | None = None, state: str | None = None, since: str | None = None,
                  after: str | None = None, limit: int = 50) -> tuple[list[JobSummary], str | None]:
        """The jobs ``list_jobs`` lists, a page at a time, in the index's order (by state, then newest first):
        each partition is read from ``after`` (the previous page's cursor) for ``limit`` + 1 rows at most and
        the partitions are merged, so a page costs one small Query per partition however many jobs there are."""
        index, partition, range_condition, filter_condition = self._listing(pipeline_uuid, state, since, after)
        partitions = _each_partition(lambda n: list(index.query(
            partition(n), range_condition, filter_condition=filter_condition, scan_index_forward=False,
            limit=limit + 2, page_size=limit + 2)))
        items = [item for item in heapq.merge(*partitions, key=lambda i: i.gsi_sk, reverse=True)
                 if item.gsi_sk != after][:limit + 1]  # a key condition with a state includes ``after`` itself
        rows = [_summary(item) for item in items[:limit]]
        return rows, (items[limit - 1].gsi_sk if len(items) > limit else None)

    @_translating
    def total_jobs(self, pipeline_uuid: str | None = None, state: str | None = None, since: str | None = None) -> int:
        """How many jobs ``list_jobs`` would list: the same Queries with ``Select=COUNT``, so no item is sent."""
        index, partition, range_condition, filter_condition = self._listing(pipeline_uuid, state, since)
        return sum(_each_partition(lambda n: index.count(partition(n), range_condition,
                                                         filter_condition=filter_condition)))

    @_translating
    def count_jobs(self, pipeline_uuid: str | None = None, state: str | None = None,
                   since: str | None = None) -> dict[tuple[str, str], int]:
        """How many jobs ``list_jobs`` would list, by (pipeline, state): the same Queries, asking only for those two
        attributes, so that counting 10,000 jobs moves and decodes two short strings each."""
        index, partition, range_condition, filter_condition = self._listing(pipeline_uuid, state, since)
        partitions = _each_partition(lambda n: [(i.pipeline_uuid, i.state) for i in index.query(
            partition(n), range_condition, filter_condition=filter_condition,
            attributes_to_get=["pipeline_uuid", "state"])])
        return dict(Counter(key for partition in partitions for key in partition))

    @_translating
    def due_jobs(self, now: str) -> list[DueJob]:
        Job = self.models.job
        return [DueJob(uuid=item.uuid, due_at=item.due_at, last_heartbeat=item.last_heartbeat,
                       heartbeat_seconds=int(item.heartbeat_seconds) if item.heartbeat_seconds else None)
                for n in range(INDEX_SHARDS) for item in Job.due.query(due_partition(n), Job.due_at <= now)]

    # ---- pipelines --------------------------------------------------------------------

    @_translating
    def put_pipeline(self, pipeline: PipelineRecord) -> PipelineRecord:
        existing = self.get_pipeline(pipeline.uuid)
        now = now_iso()
        pipeline.created = existing.created if existing else now
        pipeline.updated = now
        self.models.pipeline(
            pk=pipeline_pk(pipeline.uuid), sk=PIPELINE_SK, uuid=pipeline.uuid, name=pipeline.name,
            description=pipeline.description, components=pipeline.components, task=pipeline.task,
            active=pipeline.active, created=pipeline.created, updated=pipeline.updated,
            gsi2pk=PIPELINES_KEY, gsi_sk=f"{pipeline.name}#{pipeline.uuid}",
        ).save()
        return pipeline

    @_translating
    def get_pipeline(self, uuid: str) -> PipelineRecord | None:
        try:
            item = self.models.pipeline.get(pipeline_pk(uuid), PIPELINE_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return _pipeline_record(item)

    @_translating
    def list_pipelines(self) -> list[PipelineRecord]:
        """Every pipeline, by name. The catalog index gives the keys (it projects only what a listing of
        jobs shows, not ``components`` or ``task``); BatchGetItem reads the items whole, 100 at a time."""
        Pipeline = self.models.pipeline
        keys = [(i.pk, i.sk) for i in Pipeline.catalog.query(PIPELINES_KEY)]
        items = list(Pipeline.batch_get(keys))
        return sorted((_pipeline_record(i) for i in items), key=lambda p: (p.name, p.uuid))

    @_translating
    def find_jobs(self, uuid_prefix: str) -> list[JobSummary]:
        """Jobs whose uuid starts with ``uuid_prefix``, newest first, from the catalog index. Its sort key
        (state#created#uuid) cannot match a uuid prefix, so the prefix is a filter and each partition
        read is read whole, as ``stat`` reads it; but a prefix of 8 hex digits or more names the one shard
        its jobs are in (``identity.shard`` reads those 8), so it reads one partition of the 8."""
        Job = self.models.job
        shards = [shard(uuid_prefix)] if len(uuid_prefix.replace("-", "")) >= 8 else range(INDEX_SHARDS)
        matching = Job.uuid.startswith(uuid_prefix)
        found = [_summary(item) for n in shards for item in Job.catalog.query(catalog_pk(n), filter_condition=matching)]
        return sorted(found, key=lambda j: (j.created, j.uuid), reverse=True)

    def pipelines_named(self, name: str) -> list[str]:
        Pipeline = self.models.pipeline
        try:
            items = Pipeline.catalog.query(PIPELINES_KEY, Pipeline.gsi_sk.startswith(f"{name}#"))
            # A name holding '#' could prefix another's key ("a" and "a#b"): keep exact names only.
            return [item.uuid for item in items if item.name == name]
        except PynamoDBException as exc:
            raise _translated(exc) from exc


def _summary(item) -> JobSummary:
    """A job's index item as a ``stat`` row: the summary's fields are the index attributes (models.INDEX_ATTRIBUTES)."""
    return JobSummary(**{name: getattr(item, name) for name in JobSummary.__dataclass_fields__})


def _each_partition(read: Callable[[int], _T]) -> list[_T]:
    """``read(n)`` of every index partition, at once: a listing waits for its slowest partition, not their sum."""
    with ThreadPoolExecutor(max_workers=INDEX_SHARDS) as pool:
        return list(pool.map(read, range(INDEX_SHARDS)))


def _pipeline_record(item) -> PipelineRecord:
    return PipelineRecord(
        uuid=item.uuid, name=item.name, description=item.description or "", components=item.components or [],
        task=item.task, active=bool(item.active), created=item.created, updated=item.updated,
    )


def _resolved(future):
    try:
        return future.get()
    except DoesNotExist:
        return None


def _unchanged(Marker, replaces: IdMarker | None):
    """The condition for writing an id's marker: none there yet, or still the older scope's one that was read."""
    if replaces is None:
        return Marker.pk.does_not_exist()
    same_scope = Marker.scope.does_not_exist() if replaces.scope is None else Marker.scope == replaces.scope
    return Marker.pk.exists() & same_scope


def _reasons(exc: TransactWriteError) -> list[str | None]:
    """The cancellation reason of each item of a transaction, in the order the items were sent."""
    return [r.code if r else None for r in exc.cancellation_reasons or []]


def _error_code(exc: BaseException | None) -> str | None:
    """DynamoDB's error code in ``exc``'s answer; None when there was no answer (a reset, a timeout), where
    botocore's connection errors carry ``response=None``."""
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    return error.get("Code") if isinstance(error, dict) else None


def _translated(exc: PynamoDBException | BotoCoreError) -> Exception:
    """A lost race becomes WriteConflict (the flow retries); throttling, a DynamoDB fault or a network
    failure (reset, timeout, no connection: no answer at all) that outlived botocore's retries becomes
    StorageUnavailable; anything else (a bug) stays as it is."""
    cause = exc.cause if isinstance(exc, PynamoDBException) else exc
    code = _error_code(cause)
    codes = {code} | {r for r in _reasons(exc) if r} if isinstance(exc, TransactWriteError) else {code}
    if codes & _RACE_CODES:
        return WriteConflict(str(exc))
    # No cause at all: PynamoDB gave up itself (a batch write's unprocessed items, retried to its limit).
    gave_up = cause is None and isinstance(exc, PynamoDBConnectionError)
    if codes & _UNAVAILABLE_CODES or isinstance(cause, BotoCoreError) or gave_up:
        # DynamoDB's error codes, else botocore's own words for a request that got no answer (they name the
        # endpoint and what happened to the connection), else PynamoDB's.
        failure = ", ".join(sorted(c for c in codes if c)) or str(cause or exc)
        return StorageUnavailable(f"DynamoDB is unavailable ({failure}); nothing was written, retry later")
    return exc

