"""The DynamoDB backend of JobStore (PynamoDB models, one table).

Per event it makes two requests whatever the history length: one strongly
consistent read (GetItem, or TransactGetItems when the event has an id, to read
the job and the id's marker together) and one TransactWriteItems (history entry +
marker + conditional job update).
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactGet, TransactWrite

from ..config import INDEX_SHARDS, Config
from ..errors import StorageUnavailable, WriteConflict
from ..identity import shard
from ..records import (
    ORCHESTRATION_FIELDS,
    HistoryEntry,
    HistoryPage,
    JobRecord,
    JobSummary,
    Outcome,
    PipelineRecord,
    now_iso,
)
from .base import JobStore
from .models import (
    JOB_SK,
    PIPELINE_SK,
    PIPELINES_KEY,
    bind,
    event_sk,
    gsi_sk,
    job_pk,
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


class DynamoDBJobStore(JobStore):
    def __init__(self, config: Config):
        super().__init__(config)
        self.models = bind(config.table, config.endpoint_url, config.region)
        # The models' own connection, so one botocore client (one parse of the service model, one
        # retry policy) serves reads and transactions alike.
        self._connection = self.models.job._get_connection().connection

    # ---- conversions --------------------------------------------------------------

    def _job_item(self, job: JobRecord):
        # version 0 means "not stored yet": left unset, PynamoDB saves it as 1 on condition it is absent.
        versioned = {"version": job.version} if job.version else {}
        return self.models.job(
            pk=job_pk(job.uuid), sk=JOB_SK, uuid=job.uuid, pipeline_uuid=job.pipeline_uuid, state=job.state,
            last_event=job.last_event, created=job.created, updated=job.updated, started=job.started,
            path=job.path, data=job.data, parents=job.parents, callback_url=job.callback_url,
            rejections=job.rejections, **{name: getattr(job, name) for name in ORCHESTRATION_FIELDS}, **versioned,
            gsi1pk=f"P#{job.pipeline_uuid}#{shard(job.uuid)}", gsi2pk=f"J#{shard(job.uuid)}",
            gsi_sk=gsi_sk(job.state, job.created, job.uuid),
        )

    @staticmethod
    def _job_record(item) -> JobRecord:
        return JobRecord(
            uuid=item.uuid, pipeline_uuid=item.pipeline_uuid, state=item.state, last_event=item.last_event,
            created=item.created, updated=item.updated, path=item.path, data=item.data or {},
            parents=list(item.parents or []), started=item.started, version=int(item.version),
            rejections=int(item.rejections or 0), callback_url=item.callback_url, run_id=item.run_id,
            execution_arn=item.execution_arn, attempt=int(item.attempt or 0), launch=item.launch,
            task_token=item.task_token,
        )

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

    def load(self, uuid: str, event_id: str | None = None) -> tuple[JobRecord | None, Outcome | None]:
        Job, Marker = self.models.job, self.models.marker
        try:
            if event_id is None:
                try:
                    return self._job_record(Job.get(job_pk(uuid), JOB_SK, consistent_read=True)), None
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
            seen = Outcome(uuid, marker.name, marker.state, marker.previous_state, int(marker.seq),
                           applied=True, duplicate=True)
        return (self._job_record(job) if job else None), seen

    def commit_applied(self, before: JobRecord, after: JobRecord, entry: HistoryEntry) -> None:
        Job, Marker = self.models.job, self.models.marker
        actions = [
            Job.state.set(after.state), Job.last_event.set(after.last_event), Job.updated.set(after.updated),
            Job.gsi_sk.set(gsi_sk(after.state, after.created, after.uuid)),
        ]
        if after.started != before.started:
            actions.append(Job.started.set(after.started))
        for name in ORCHESTRATION_FIELDS:
            value = getattr(after, name)
            if value != getattr(before, name):
                attribute = getattr(Job, name)
                actions.append(attribute.remove() if value is None else attribute.set(value))
        try:
            with self._transaction() as tx:
                tx.save(self._event_item(before.uuid, entry), condition=self.models.event.pk.does_not_exist())
                if entry.id:
                    marker = Marker(pk=job_pk(before.uuid), sk=marker_sk(entry.id), seq=entry.seq,
                                    name=entry.name, state=after.state, previous_state=before.state)
                    tx.save(marker, condition=Marker.pk.does_not_exist())
                tx.update(self._job_item(before), actions=actions)
        except TransactWriteError as exc:
            raise _translated(exc) from exc

    def commit_rejected(self, job: JobRecord, entry: HistoryEntry) -> bool:
        Job, Marker = self.models.job, self.models.marker
        try:
            with self._transaction() as tx:
                tx.save(self._event_item(job.uuid, entry), condition=self.models.event.pk.does_not_exist())
                if entry.id:
                    refusal = Marker(pk=job_pk(job.uuid), sk=rejection_sk(job.state, entry.id), seq=entry.seq,
                                     name=entry.name, state=job.state, previous_state=job.state)
                    tx.save(refusal, condition=Marker.pk.does_not_exist())
                tx.update(self._job_item(job), actions=[Job.rejections.add(1)])
        except TransactWriteError as exc:
            reasons = [r.code if r else None for r in exc.cancellation_reasons]
            # Items are sent puts first, then the update: [entry, refusal marker, job].
            if entry.id and reasons[1:] == ["ConditionalCheckFailed", None]:
                return False
            raise _translated(exc) from exc
        return True

    def insert_job(self, job: JobRecord, entry: HistoryEntry) -> bool:
        try:
            with self._transaction() as tx:
                tx.save(self._job_item(job))  # PynamoDB adds attribute_not_exists(version)
                tx.save(self._event_item(job.uuid, entry))
        except TransactWriteError as exc:
            error = _translated(exc)
            if isinstance(error, WriteConflict):  # the job exists already: get-or-create
                return False
            raise error from exc
        return True

    def delete_job(self, job: JobRecord) -> None:
        Job = self.models.job
        self._job_item(job).delete(condition=Job.state == job.state)  # version condition added by PynamoDB
        Event = self.models.event
        keys = list(Event.query(job_pk(job.uuid), attributes_to_get=["pk", "sk"], consistent_read=True))
        with Event.batch_write() as batch:
            for key in keys:
                batch.delete(Event(pk=key.pk, sk=key.sk))

    def _transaction(self) -> TransactWrite:
        # Consumed capacity is asked for so benchmarks and metrics can read what an event cost.
        return TransactWrite(connection=self._connection, return_consumed_capacity="TOTAL")

    # ---- reads ----------------------------------------------------------------------

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

    def list_jobs(self, pipeline_uuid: str | None = None, state: str | None = None,
                  since: str | None = None) -> list[JobSummary]:
        Job = self.models.job
        index, prefix = (Job.by_pipeline, f"P#{pipeline_uuid}#") if pipeline_uuid else (Job.catalog, "J#")
        if state and since:
            range_condition = Job.gsi_sk.between(f"{state}#{since}", f"{state}#\uffff")
        elif state:
            range_condition = Job.gsi_sk.startswith(f"{state}#")
        else:
            range_condition = None
        filter_condition = (Job.created >= since) if since and not state else None
        jobs = [
            JobSummary(uuid=i.uuid, pipeline_uuid=i.pipeline_uuid, state=i.state, last_event=i.last_event,
                       created=i.created, updated=i.updated, started=i.started)
            for n in range(INDEX_SHARDS)
            for i in index.query(f"{prefix}{n}", range_condition, filter_condition=filter_condition)
        ]
        return sorted(jobs, key=lambda j: (j.created, j.uuid), reverse=True)

    # ---- pipelines --------------------------------------------------------------------

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

    def get_pipeline(self, uuid: str) -> PipelineRecord | None:
        try:
            item = self.models.pipeline.get(pipeline_pk(uuid), PIPELINE_SK, consistent_read=True)
        except DoesNotExist:
            return None
        return _pipeline_record(item)

    def list_pipelines(self) -> list[PipelineRecord]:
        """Every pipeline, by name. The catalog index gives the keys (it projects only what a listing of
        jobs shows, not ``components`` or ``task``); BatchGetItem reads the items whole, 100 at a time."""
        Pipeline = self.models.pipeline
        keys = [(i.pk, i.sk) for i in Pipeline.catalog.query(PIPELINES_KEY)]
        items = list(Pipeline.batch_get(keys))
        return sorted((_pipeline_record(i) for i in items), key=lambda p: (p.name, p.uuid))

    def find_jobs(self, uuid_prefix: str) -> list[JobSummary]:
        """Jobs whose uuid starts with ``uuid_prefix``, newest first, from the catalog index. Its sort key
        (state#created#uuid) cannot match a uuid prefix, so the prefix is a filter and each partition
        read is read whole, as ``stat`` reads it; but a prefix of 8 hex digits or more names the one shard
        its jobs are in (``identity.shard`` reads those 8), so it reads one partition of the 8."""
        Job = self.models.job
        shards = [shard(uuid_prefix)] if len(uuid_prefix.replace("-", "")) >= 8 else range(INDEX_SHARDS)
        fields = JobSummary.__dataclass_fields__
        matching = Job.uuid.startswith(uuid_prefix)
        found = [JobSummary(**{name: getattr(item, name) for name in fields})
                 for n in shards for item in Job.catalog.query(f"J#{n}", filter_condition=matching)]
        return sorted(found, key=lambda j: (j.created, j.uuid), reverse=True)


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


def _translated(exc: PynamoDBException) -> Exception:
    """A lost race becomes WriteConflict (the flow retries); throttling or a DynamoDB fault that
    outlived botocore's retries becomes StorageUnavailable; anything else stays as it is."""
    codes = {exc.cause_response_code} | {r.code for r in getattr(exc, "cancellation_reasons", None) or [] if r}
    if codes & _RACE_CODES:
        return WriteConflict(str(exc))
    if codes & _UNAVAILABLE_CODES or exc.cause_response_code is None:  # None: no answer at all (network)
        return StorageUnavailable(f"DynamoDB is unavailable ({', '.join(sorted(c for c in codes if c)) or 'no answer'})"
                                  "; nothing was written, retry later")
    return exc

