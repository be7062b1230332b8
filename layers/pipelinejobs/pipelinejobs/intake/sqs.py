"""PipelineJobEvents from an SQS queue, with partial batch failure reporting.

The retry policy follows from what a retry can change:

* applied, duplicate, or refused by the FSM (409, recorded in the job's
  history): done; the message is deleted;
* a bad message (400, 401, 403, 404, 413): no retry can fix it, so it is moved
  to the dead-letter queue at once, with the error as message attributes, rather
  than being received N more times first;
* anything else (503 ConcurrencyConflict, throttling, a bug): reported as a
  batch item failure, so SQS delivers it again and, after ``maxReceiveCount``
  receives, the redrive policy moves it to the dead-letter queue.

The batch shares the invocation's deadline (:mod:`pipelinejobs.deadline`): a
record whose retries reach it, and every record not begun by then, ends as an
OutOfTime (503) batch item failure, so the function answers before its timeout
and only those records are delivered again, never the whole batch.

Without ``PIPELINEJOBS_DLQ_URL`` a bad message takes the retry path too, and the
redrive policy still stops it: nothing is retried forever, nothing is dropped.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from .. import frontdoor
from ..clients import client
from ..config import Config
from ..errors import InvalidTransition, PipelineJobsError


def _dead_letter(record: SQSRecord, error: PipelineJobsError) -> None:
    """Move a message no retry can fix to the dead-letter queue; without one, let SQS retry it."""
    queue_url = Config.current().dlq_url
    if not queue_url:
        raise error
    attributes = {"error": type(error).__name__, "status": str(error.status_code), "message": str(error)[:1024]}
    client("sqs").send_message(
        QueueUrl=queue_url, MessageBody=record.body,
        MessageAttributes={name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    )


def _handle_record(record: SQSRecord) -> None:
    try:
        message = json.loads(record.body)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply for Python's parser
        message = record.body  # not JSON: handle_event refuses it as an InvalidEvent, like any bad message
    try:
        frontdoor.apply(message, source="sqs")
    except InvalidTransition:
        return  # recorded in the job's history; a retry would be refused the same way
    except PipelineJobsError as exc:
        if exc.status_code >= 500:
            raise
        _dead_letter(record, exc)


def handle_batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Apply each record; answer with the ``batchItemFailures`` SQS should deliver again."""
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(event=event, record_handler=_handle_record, processor=processor,
                                    context=context)
