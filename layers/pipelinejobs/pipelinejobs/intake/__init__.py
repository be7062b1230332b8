"""The events function: PipelineJobEvents that do not come over HTTP.

One function takes three shapes, told apart by their form:

* an SQS batch (``Records`` from ``aws:sqs``): see :mod:`.sqs`;
* an EventBridge "Batch Job State Change", "ECS Task State Change", a failed Lambda task's invocation, a
  "Step Functions Execution Status Change" or a HealthOmics "Run Status Change" or "Task Status Change": see
  :mod:`.aws_events`.
  These come from AWS services through EventBridge rules,
  so they are trusted (no job token); an IAM principal allowed to invoke this
  function could forge one, so grant ``lambda:InvokeFunction`` on it as you
  would admin rights;
* anything else is a PipelineJobEvent invoked directly (the SDK's
  ``LambdaTransport``). It must carry a token, and it is answered like the
  webhook: ``{"statusCode": ..., "body": ...}``, which the transport decodes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import deadline, frontdoor, observability
from ..errors import PipelineJobsError
from . import aws_events


def _is_sqs_batch(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)


def _state_change(event: dict[str, Any]) -> dict[str, Any]:
    """Apply an AWS service's state change: a run named after a pipeline as a workflow of it, else its messages
    in order (a refused one is in the job's history, and the next is applied still), answered as the last one,
    the event's own. Only 5xx errors are raised (Lambda retries async invokes, and what was applied already is a
    duplicate then); an unknown job or pipeline will not appear by retrying."""
    source = event.get("source", "eventbridge")
    tracked = aws_events.tracked_run(event)
    if tracked is not None:
        return _tracked(*tracked, source)
    messages = aws_events.state_change_messages(event)
    if not messages:
        observability.logger().debug("state change names no job: ignored", extra={"source": event.get("source")})
        return {"statusCode": 204, "body": {"ignored": "names no pipelinejobs job (see docs/webhook.md)"}}
    return [_answered(lambda m=message: frontdoor.apply(m, source=source, trusted=True).to_dict())
            for message in messages][-1]


def _tracked(pipeline_uuid: str, events: list[Any], source: str) -> dict[str, Any]:
    """A run named after a pipeline, applied as a workflow of it by the engines' tracker (imported on first use:
    the other paths do not need it); a pipeline that does not exist or is retired is a 404, nothing written."""
    from ..creation import pipeline_for
    from ..engines import tracker
    from ..service import get_store

    return _answered(lambda: tracker.apply(events, pipeline_for(pipeline_uuid, get_store()), source=source))


def _answered(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """200 and what ``work`` returns, or a refusal's status and body; a 5xx is raised (Lambda retries it)."""
    try:
        return {"statusCode": 200, "body": work()}
    except PipelineJobsError as exc:
        if exc.status_code >= 500:
            raise
        return {"statusCode": exc.status_code, "body": exc.to_dict()}


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
