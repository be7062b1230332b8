"""The events function: PipelineJobEvents that do not come over HTTP.

One function takes three shapes, told apart by their form:

* an SQS batch (``Records`` from ``aws:sqs``): see :mod:`.sqs`;
* an EventBridge "Batch Job State Change", "ECS Task State Change", a failed Lambda task's invocation, a
  "Step Functions Execution Status Change" or a HealthOmics "Run Status Change": see :mod:`.aws_events`.
  These come from AWS services through EventBridge rules,
  so they are trusted (no job token); an IAM principal allowed to invoke this
  function could forge one, so grant ``lambda:InvokeFunction`` on it as you
  would admin rights;
* anything else is a PipelineJobEvent invoked directly (the SDK's
  ``LambdaTransport``). It must carry a token, and it is answered like the
  webhook: ``{"statusCode": ..., "body": ...}``, which the transport decodes.
"""

from __future__ import annotations

from typing import Any

from .. import deadline, frontdoor, observability
from ..errors import PipelineJobsError
from . import aws_events


def _is_sqs_batch(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)


def _state_change(event: dict[str, Any]) -> dict[str, Any]:
    """Apply an AWS service's state change: its messages in order (a refused one is in the job's history, and the
    next is applied still), answered as the last one, the event's own. Only 5xx errors are raised (Lambda retries
    async invokes, and the messages applied already are duplicates then); an unknown job will not appear by
    retrying."""
    messages = aws_events.state_change_messages(event)
    if not messages:
        observability.logger().debug("state change names no job: ignored", extra={"source": event.get("source")})
        return {"statusCode": 204, "body": {"ignored": "names no pipelinejobs job (see docs/webhook.md)"}}
    return [_applied(message, event.get("source", "eventbridge")) for message in messages][-1]


def _applied(message: dict[str, Any], source: str) -> dict[str, Any]:
    try:
        outcome = frontdoor.apply(message, source=source, trusted=True)
    except PipelineJobsError as exc:
        if exc.status_code >= 500:
            raise
        return {"statusCode": exc.status_code, "body": exc.to_dict()}
    return {"statusCode": 200, "body": outcome.to_dict()}


def _direct(event: Any) -> dict[str, Any]:
    try:
        return {"statusCode": 200, "body": frontdoor.apply(event, source="invoke").to_dict()}
    except Exception as exc:  # every failure becomes an answer the transport decodes
        status, body = frontdoor.error_answer(exc)
        return {"statusCode": status, "body": body}


@observability.lambda_entry
def handler(event: Any, context: Any) -> dict[str, Any]:
    with deadline.from_lambda(context):  # retries end before the function does (see pipelinejobs.deadline)
        return _dispatch(event, context)


def _dispatch(event: Any, context: Any) -> dict[str, Any]:
    if _is_sqs_batch(event):
        from .sqs import handle_batch  # imported on first use: the batch utility is not on the other paths

        return handle_batch(event, context)
    if aws_events.is_state_change(event):
        return _state_change(event)
    return _direct(event)
