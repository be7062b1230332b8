"""Retention: a retired job's record may expire, its history with it (docs/operations.md).

With ``PIPELINEJOBS_RETENTION_DAYS`` set (the template's ``RetentionDays``), the event that retires a job
writes ``expires_at`` (epoch seconds, the table's TTL attribute) on the job item, in its own transaction; an
event that brings the job back (``reset``) removes it. DynamoDB's TTL deletes the job item some time after
that (typically within days: TTL is for retention, never for deadlines). Its stream record of that removal
reaches the stream function, which clears the rest of the partition, history and id markers, with the
store's own interrupted-delete path (``JobStore.finish_delete``): what TTL left is exactly what a delete
interrupted after its first request leaves, and the indexes follow the job item.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .records import JobRecord
from .storage.models import JOB_SK, job_uuid

#: A TTL deletion's stream record is made by DynamoDB itself, as this principal.
TTL_PRINCIPAL = "dynamodb.amazonaws.com"


def expires_at(job: JobRecord, now: str, days: int | None) -> int | None:
    """When a job, in its state after an event at ``now`` (ISO 8601 UTC), may expire: ``days`` later if it
    is RETIRED, else never (None)."""
    if not days or job.state != "RETIRED":
        return None
    return int(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp()) + days * 86400


def expired_job(record: Any) -> str | None:
    """The uuid of the job whose item DynamoDB's TTL removed, from a stream record
    (Powertools' ``DynamoDBRecord``); None for any other record."""
    identity = (record.raw_event.get("userIdentity") or {}) if hasattr(record, "raw_event") else {}
    keys = record.dynamodb.keys if record.dynamodb is not None else {}
    if (record.event_name is None or record.event_name.name != "REMOVE" or identity.get("type") != "Service"
            or identity.get("principalId") != TTL_PRINCIPAL or keys.get("sk") != JOB_SK):
        return None
    return job_uuid(keys.get("pk") or "")
