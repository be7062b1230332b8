"""The stream function: committed state changes, told to the world.

It reads the table's DynamoDB Stream, so only what was committed is published
and nothing committed is missed (the stream keeps every change for 24 hours and
the event source mapping retries, then bisects, then parks a failing batch on
its on-failure destination). The template filters the stream to job items
(``sk = JOB``); a change of another kind that reaches here anyway is skipped.

For each change of state it publishes one EventBridge event (a batch's changes
go up to 10 a PutEvents call, in order). A job that enters a completion state has
its cost estimated and kept (:mod:`..costs`) and, if it has a ``callback_url``, its
callback POSTed, signed, each attempt kept (:mod:`.deliveries`); a job that asked for them
(``callback_changes``) has every other change of state POSTed the same way. A record fails on its
own: its change could not be read or published, its cost not kept, or its callback not delivered.
Delivery is at least once: a retried record publishes again, so consumers
deduplicate on ``detail.uuid`` + ``detail.seq``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from .. import fsm, observability, retention
from ..service import get_store
from . import deliveries, publish

#: What became of a record's change before its callback: the change (None: not a change of state), or why
#: it could not be read or published.
Published = dict[str, dict[str, Any] | Exception | None]


def _publish_batch(raw_records: list[dict[str, Any]]) -> Published:
    """Read every record's change, then publish them together: by sequence number, what became of each."""
    outcomes: Published = {}
    for raw in raw_records:
        record = DynamoDBRecord(raw)
        try:
            outcomes[record.dynamodb.sequence_number] = publish.state_change(record)
        except Exception as exc:  # the history entry could not be read (throttled...): this record fails
            outcomes[record.dynamodb.sequence_number] = exc
    pending = [(number, change) for number, change in outcomes.items() if isinstance(change, dict)]
    for (number, _), failure in zip(pending, publish.put_events([change for _, change in pending]), strict=True):
        if failure is not None:
            outcomes[number] = failure
    return outcomes


@observability.lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Publish the batch's changes, then finish each record (its callback); failed records are reported so
    only they (and what follows them in the shard) are retried."""
    published = _publish_batch(event.get("Records", []))

    def finish(record: DynamoDBRecord) -> None:
        change = published[record.dynamodb.sequence_number]
        if isinstance(change, Exception):
            raise change
        if change is None:
            expired = retention.expired_job(record)
            if expired:  # TTL removed a retired job's item: clear the rest of its partition, as a delete does
                get_store().finish_delete(expired)
            return
        observability.correlate(change["uuid"])
        ended = change["to"] in fsm.SETTLED_STATES
        if ended:
            from .. import costs  # only a batch with a job that ended pays for this import (orchestration's spec)

            costs.record(change["uuid"])  # before the callback: a receiver that keeps failing does not hold it up
        job = record.dynamodb.new_image
        if job.get("callback_url") and (ended or job.get("callback_changes")):
            deliveries.deliver(job["callback_url"], change,
                               kind=deliveries.COMPLETION if ended else deliveries.STATE_CHANGE)

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return process_partial_response(event=event, record_handler=finish, processor=processor, context=context)
