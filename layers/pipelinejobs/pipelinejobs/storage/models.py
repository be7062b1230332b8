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

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from pynamodb.attributes import (
    Attribute,
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
from ..records import JobRecord, JobSummary

JOB_SK = "JOB"
#: Sort key of a deleted job's tombstone: present from the request that deletes the job item until the
#: rest of its partition is gone, so an interrupted delete is seen and finished, never built upon; an
#: admin's delete leaves it for good, as the record of who deleted the job and when.
DELETING_SK = "DELETING"
PIPELINE_SK = "PIPELINE"
PIPELINES_KEY = "PIPELINES"
#: Non-key attributes copied into both indexes: what a `stat` table shows (a job's summary), and a pipeline's name.
INDEX_ATTRIBUTES = [*(f.name for f in dataclasses.fields(JobSummary)), "name"]


#: What the sweep needs of a due job, besides its keys: what the ``fail`` it sends says.
DUE_ATTRIBUTES = ["uuid", "heartbeat_seconds", "last_heartbeat"]


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class FieldRule:
    """How a ``JobRecord`` field is kept on the job item: its attribute, and its value each way."""

    attribute: Callable[[], Attribute]
    #: The record's value as the item holds it; None leaves the attribute off the item.
    stored: Callable[[Any], Any] = _same
    #: The item's value (None when absent) as the record holds it.
    read: Callable[[Any], Any] = _same


#: Rules by a field's annotated type (records.py's annotations are strings), so that a new ``JobRecord`` field of a
#: known type is stored, read back, updated by an event and removed with no other edit; a type with no rule
#: here fails the import of this module, and so every test, until it gets one.
TYPE_RULES: dict[str, FieldRule] = {
    "str": FieldRule(UnicodeAttribute),
    "str | None": FieldRule(partial(UnicodeAttribute, null=True)),
    "int": FieldRule(partial(NumberAttribute, default=0), read=lambda value: int(value or 0)),
    "int | None": FieldRule(partial(NumberAttribute, null=True),
                            read=lambda value: None if value is None else int(value)),
    # A flag is absent unless set: not one byte more on the jobs that leave it false.
    "bool": FieldRule(partial(BooleanAttribute, null=True), stored=lambda value: value or None, read=bool),
    "dict[str, Any]": FieldRule(partial(JSONAttribute, default=dict), read=lambda value: value or {}),
    "dict[str, Any] | None": FieldRule(partial(JSONAttribute, null=True)),
    "list[str]": FieldRule(partial(ListAttribute, of=UnicodeAttribute, default=list),
                           read=lambda value: list(value or [])),
}
#: Fields whose rule is their own, not their type's. The version is the optimistic lock: PynamoDB's version
#: attribute, left unset at 0 ("not stored yet") so that the first save is conditional on the item's absence.
FIELD_RULES: dict[str, FieldRule] = {"version": FieldRule(VersionAttribute, stored=lambda value: value or None,
                                                          read=int)}


def field_rules(record: type) -> dict[str, FieldRule]:
    """The rule of each field of the dataclass ``record``; TypeError naming a field whose type has none."""
    rules = {}
    for field in dataclasses.fields(record):
        rule = FIELD_RULES.get(field.name) or TYPE_RULES.get(str(field.type))
        if rule is None:
            raise TypeError(f"{record.__name__}.{field.name}: no storage rule for its type {field.type!r} "
                            "(add one to storage.models.TYPE_RULES)")
        rules[field.name] = rule
    return rules


#: Every ``JobRecord`` field and how the job item keeps it: the one list the model and both mappings are made from.
JOB_FIELDS: dict[str, FieldRule] = field_rules(JobRecord)


def due_partition(n: int) -> str:
    """The ``due`` index's hash key of shard ``n``: jobs are spread over the shards, so no partition is hot."""
    return f"D#{n}"


def due_shard(uuid: str) -> str:
    """The ``due`` index's hash key of a job."""
    return due_partition(shard(uuid))


JOB_PK_PREFIX = "JOB#"


def job_pk(uuid: str) -> str:
    return f"{JOB_PK_PREFIX}{uuid}"


def job_uuid(pk: str) -> str | None:
    """The uuid of the job whose partition ``pk`` is (None: not a job's)."""
    return pk.removeprefix(JOB_PK_PREFIX) if pk.startswith(JOB_PK_PREFIX) else None


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


def job_keys(job: JobRecord) -> dict[str, str | None]:
    """The job item's keys and its indexes' (None: not in the sparse ``due`` index), derived from the record."""
    n = shard(job.uuid)
    return {"pk": job_pk(job.uuid), "sk": JOB_SK, "gsi1pk": by_pipeline_pk(job.pipeline_uuid, n),
            "gsi2pk": catalog_pk(n), "gsi_sk": gsi_sk(job.state, job.created, job.uuid),
            "due_shard": due_shard(job.uuid) if job.heartbeat_seconds else None}


def job_values(job: JobRecord) -> dict[str, Any]:
    """Every attribute of the job item of ``job``, as stored (None: absent)."""
    return {name: rule.stored(getattr(job, name)) for name, rule in JOB_FIELDS.items()} | job_keys(job)


def job_record(item: Any) -> JobRecord:
    """The record a job item holds."""
    return JobRecord(**{name: rule.read(getattr(item, name)) for name, rule in JOB_FIELDS.items()})


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

    # The job's fields from JOB_FIELDS; its index keys (job_keys) and the indexes beside them.
    JobItem = type(Keyed)("JobItem", (Keyed,), {
        "__module__": __name__, "__qualname__": "JobItem", "Meta": make_meta(),
        **{name: rule.attribute() for name, rule in JOB_FIELDS.items()},
        "due_shard": UnicodeAttribute(null=True), "gsi1pk": UnicodeAttribute(), "gsi2pk": UnicodeAttribute(),
        "gsi_sk": UnicodeAttribute(), "by_pipeline": PipelineJobsIndexByPipeline(), "catalog": CatalogIndex(),
        "due": DueIndex(),
    })

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
