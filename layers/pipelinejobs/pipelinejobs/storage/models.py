"""PynamoDB models of the single pipelinejobs table.

One table holds every item type, keyed ``pk``/``sk``:

| item | pk | sk |
| --- | --- | --- |
| job | ``JOB#<uuid>`` | ``JOB`` |
| history entry | ``JOB#<uuid>`` | ``EV#<seq, 12 digits>`` |
| idempotency marker | ``JOB#<uuid>`` | ``ID#<event id>`` (applied) or ``RJ#<state>#<event id>[#<scope>]`` (refused) |
| delete in progress | ``JOB#<uuid>`` | ``DELETING`` (while a deleted job's partition is cleared) |
| pipeline | ``PIPELINE#<uuid>`` | ``PIPELINE`` |

A job's history lives beside it in the same partition, never inside it, so the
job item stays the same size however long the history grows. Two GSIs list
jobs without a Scan; their hash keys carry a shard number so no key is hot:

* ``pipeline-jobs``: ``gsi1pk = P#<pipeline>#<shard>``
* ``catalog``: ``gsi2pk = J#<shard>`` for jobs, ``PIPELINES`` for pipelines

Both sort on ``gsi_sk = <state>#<created>#<uuid>`` (pipelines: ``<name>#<uuid>``),
so "jobs in state S", "created since T" and "of pipeline P" are key conditions.

A third GSI, ``due``, is sparse: ``due_shard = D#<shard>`` and ``due_at`` (a deadline) are on a job item only
while the job is live with a heartbeat (``heartbeats``), so the sweep reads the jobs that are due and no others.
A retired job's item may carry ``expires_at`` (epoch seconds), the table's TTL attribute (retention).
A deleted job's tombstone records ``deleted_at`` and ``deleted_by``; an admin's delete keeps it.
The index definitions here must match ``template.yaml``; a unit test checks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from ..clients import MAX_ATTEMPTS, TIMEOUTS
from ..config import env_region
from ..identity import shard

JOB_SK = "JOB"
#: Sort key of a deleted job's tombstone: present from the request that deletes the job item until the
#: rest of its partition is gone, so an interrupted delete is seen and finished, never built upon; an
#: admin's delete leaves it for good, as the record of who deleted the job and when.
DELETING_SK = "DELETING"
PIPELINE_SK = "PIPELINE"
PIPELINES_KEY = "PIPELINES"
#: Non-key attributes copied into both indexes: what a `stat` table shows.
INDEX_ATTRIBUTES = ["uuid", "pipeline_uuid", "state", "last_event", "created", "updated", "started", "name"]


#: What the sweep needs of a due job, besides its keys: what the ``fail`` it sends says.
DUE_ATTRIBUTES = ["uuid", "heartbeat_seconds", "last_heartbeat"]


def due_partition(n: int) -> str:
    """The ``due`` index's hash key of shard ``n``: jobs are spread over the shards, so no partition is hot."""
    return f"D#{n}"


def due_shard(uuid: str) -> str:
    """The ``due`` index's hash key of a job."""
    return due_partition(shard(uuid))


def job_pk(uuid: str) -> str:
    return f"JOB#{uuid}"


def event_sk(seq: int) -> str:
    return f"EV#{seq:012d}"


def marker_sk(event_id: str) -> str:
    return f"ID#{event_id}"


def rejection_sk(state: str, event_id: str, scope: str | None = None) -> str:
    """A refusal's marker: once per id and state, and per scope for a derived id (``#`` is in no event id)."""
    return f"RJ#{state}#{event_id}" + (f"#{scope}" if scope else "")


def pipeline_pk(uuid: str) -> str:
    return f"PIPELINE#{uuid}"


def gsi_sk(state: str, created: str, uuid: str) -> str:
    return f"{state}#{created}#{uuid}"


def by_pipeline_pk(pipeline_uuid: str, shard: int) -> str:
    """The by-pipeline index's partition holding shard ``shard`` of a pipeline's jobs."""
    return f"P#{pipeline_uuid}#{shard}"


def catalog_pk(shard: int) -> str:
    """The catalog index's partition holding shard ``shard`` of every job."""
    return f"J#{shard}"


@dataclass(frozen=True)
class Models:
    job: type[Model]
    event: type[Model]
    marker: type[Model]
    pipeline: type[Model]
    tombstone: type[Model]

    def all(self) -> tuple[type[Model], ...]:
        return self.job, self.event, self.marker, self.pipeline, self.tombstone


@cache
def bind(table: str, host: str | None, region: str | None) -> Models:
    """Model classes bound to one table and endpoint.

    Built per binding (and cached) rather than configured globally, because
    PynamoDB keeps table name and connection on the class: tests, the local
    stack and Lambda each get classes of their own that cannot leak into others.
    """

    def make_meta() -> type:
        # host is set for tests and the local stack; in Lambda it is None (the real endpoint). The store
        # hands every model the client of clients.py; these settings are the same policy, should PynamoDB
        # ever build a client of its own.
        connect, read = TIMEOUTS["dynamodb"]
        settings = {"table_name": table, "host": host, "region": region or env_region(),
                    "max_retry_attempts": MAX_ATTEMPTS - 1, "connect_timeout_seconds": connect,
                    "read_timeout_seconds": read}
        return type("Meta", (), settings)

    class PipelineJobsIndex(GlobalSecondaryIndex):
        class Meta:
            projection = IncludeProjection(INDEX_ATTRIBUTES)

    class PipelineJobsIndexByPipeline(PipelineJobsIndex):
        class Meta(PipelineJobsIndex.Meta):
            index_name = "pipeline-jobs"

        gsi1pk = UnicodeAttribute(hash_key=True)
        gsi_sk = UnicodeAttribute(range_key=True)

    class CatalogIndex(PipelineJobsIndex):
        class Meta(PipelineJobsIndex.Meta):
            index_name = "catalog"

        gsi2pk = UnicodeAttribute(hash_key=True)
        gsi_sk = UnicodeAttribute(range_key=True)

    class DueIndex(GlobalSecondaryIndex):
        class Meta:
            index_name = "due"
            projection = IncludeProjection(DUE_ATTRIBUTES)

        due_shard = UnicodeAttribute(hash_key=True)
        due_at = UnicodeAttribute(range_key=True)

    class Keyed(Model):
        Meta = make_meta()
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)

    class JobItem(Keyed):
        Meta = make_meta()
        uuid = UnicodeAttribute()
        pipeline_uuid = UnicodeAttribute()
        state = UnicodeAttribute()
        last_event = UnicodeAttribute()
        created = UnicodeAttribute()
        updated = UnicodeAttribute()
        started = UnicodeAttribute(null=True)
        path = UnicodeAttribute()
        data = JSONAttribute(default=dict)
        parents = ListAttribute(of=UnicodeAttribute, default=list)
        callback_url = UnicodeAttribute(null=True)
        callback_changes = BooleanAttribute(null=True)  # absent unless asked for: no byte more on other jobs
        rejections = NumberAttribute(default=0)
        run_id = UnicodeAttribute(null=True)
        execution_arn = UnicodeAttribute(null=True)
        attempt = NumberAttribute(default=0)
        launch = JSONAttribute(null=True)
        task_token = UnicodeAttribute(null=True)
        generation = NumberAttribute(default=0)
        last_heartbeat = UnicodeAttribute(null=True)
        workflow = JSONAttribute(null=True)
        heartbeat_seconds = NumberAttribute(null=True)
        due_shard = UnicodeAttribute(null=True)
        due_at = UnicodeAttribute(null=True)
        expires_at = NumberAttribute(null=True)
        version = VersionAttribute()
        gsi1pk = UnicodeAttribute()
        gsi2pk = UnicodeAttribute()
        gsi_sk = UnicodeAttribute()
        by_pipeline = PipelineJobsIndexByPipeline()
        catalog = CatalogIndex()
        due = DueIndex()

    class EventItem(Keyed):
        Meta = make_meta()
        seq = NumberAttribute()
        date = UnicodeAttribute()
        name = UnicodeAttribute()
        data = JSONAttribute(default=dict)
        state = UnicodeAttribute()
        applied = BooleanAttribute(default=True)
        event_id = UnicodeAttribute(null=True)
        reason = UnicodeAttribute(null=True)
        source = UnicodeAttribute(null=True)

    class MarkerItem(Keyed):
        """Remembers an event id and the outcome it produced (see records.IdMarker); for a derived id, also the
        job's scope it was applied in (absent: a sender's own id, one event forever)."""

        Meta = make_meta()
        seq = NumberAttribute()
        name = UnicodeAttribute()
        state = UnicodeAttribute()
        previous_state = UnicodeAttribute()
        scope = UnicodeAttribute(null=True)

    class TombstoneItem(Keyed):
        """Says the job of this partition was deleted, when and (an admin's delete, whose tombstone stays as its
        record) by whom; without ``deleted_by``, that the rest of the partition is being cleared."""

        Meta = make_meta()
        deleted_at = UnicodeAttribute(null=True)
        deleted_by = UnicodeAttribute(null=True)

    class PipelineItem(Keyed):
        Meta = make_meta()
        uuid = UnicodeAttribute()
        name = UnicodeAttribute()
        description = UnicodeAttribute(default="")
        components = JSONAttribute(default=list)
        task = JSONAttribute(null=True)
        active = BooleanAttribute(default=True)
        created = UnicodeAttribute()
        updated = UnicodeAttribute()
        gsi2pk = UnicodeAttribute(default=PIPELINES_KEY)
        gsi_sk = UnicodeAttribute()
        catalog = CatalogIndex()

    return Models(job=JobItem, event=EventItem, marker=MarkerItem, pipeline=PipelineItem, tombstone=TombstoneItem)
