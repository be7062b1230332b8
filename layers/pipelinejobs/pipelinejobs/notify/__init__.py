"""The stream function: committed state changes, told to the world.

It reads the table's DynamoDB Stream, so only what was committed is published
and nothing committed is missed (the stream keeps every change for 24 hours and
the event source mapping retries, then bisects, then parks a failing batch on
its on-failure destination). The template filters the stream to job items
(``sk = JOB``); a change of another kind that reaches here anyway is skipped.

For each change of state it publishes one EventBridge event and, when the job
enters a completion state and has a ``callback_url``, POSTs the callback.
Delivery is at least once: a retried record publishes again, so consumers
deduplicate on ``detail.uuid`` + ``detail.seq``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from .. import observability
from . import callback, publish


def _handle_record(record: DynamoDBRecord) -> None:
    change = publish.state_change(record)
    if change is None:
        return
    observability.correlate(change["uuid"])
    publish.put_event(change)
    url = record.dynamodb.new_image.get("callback_url") if record.dynamodb else None
    if url and change["to"] in callback.CALLBACK_STATES:
        callback.post(url, change)


@observability.lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handle each stream record; failed ones are reported so only they (and what follows) are retried."""
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return process_partial_response(event=event, record_handler=_handle_record, processor=processor,
                                    context=context)
