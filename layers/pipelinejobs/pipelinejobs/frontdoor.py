"""What every front door does around :func:`pipelinejobs.handle_event`.

The webhook, direct invokes, SQS and EventBridge all apply events here, so each
counts and logs the same way, and each turns an error into the same caller-safe
answer: a status code and the error's own ``to_dict()``, or, for anything
unexpected, a bare 500 whose body says nothing about the internals (the stack
trace goes to the log, never to the caller). A 503 (ConcurrencyConflict,
StorageUnavailable) is passed on as it is: it tells the caller to retry.
"""

from __future__ import annotations

import binascii
from typing import Any

from . import observability
from .errors import InvalidEvent, PipelineJobsError
from .records import Outcome
from .service import handle_event

RETRY_LATER = 503
INTERNAL_ERROR = {"error": "InternalError", "message": "internal error; the request id is in the function's logs"}


def apply(message: Any, *, source: str, trusted: bool = False, pipeline_token: str | None = None) -> Outcome:
    """Apply one PipelineJobEvent as ``handle_event`` does, logging and counting the result."""
    uuid = message.get("uuid") if isinstance(message, dict) else None
    event = (message.get("event") or message.get("name")) if isinstance(message, dict) else None
    observability.correlate(uuid)
    log = observability.logger()
    try:
        outcome = handle_event(message, trusted=trusted, source=source, pipeline_token=pipeline_token)
    except PipelineJobsError as exc:
        observability.count_rejected(event, type(exc).__name__, source)
        level = log.error if exc.status_code >= 500 else log.warning
        level("event refused", extra={"event": observability.event_label(event), "source": source,
                                      "status": exc.status_code, "error": exc.to_dict()})
        raise
    observability.count_applied(outcome.event, source)
    log.info("event applied", extra={"source": source, **outcome.to_dict()})
    return outcome


def error_answer(exc: Exception) -> tuple[int, dict[str, Any]]:
    """The status code and body to answer ``exc`` with; unexpected errors are logged with their trace."""
    if isinstance(exc, PipelineJobsError) and (exc.status_code < 500 or exc.status_code == RETRY_LATER):
        return exc.status_code, exc.to_dict()
    observability.logger().error("unexpected error", exc_info=exc)  # handlers may run outside the except block
    return 500, dict(INTERNAL_ERROR)


def body_text(request: Any) -> str | None:
    """An HTTP request's body as text (``request``: Powertools' API Gateway event). API Gateway sends a body that
    is not text in base64 (``isBase64Encoded``); one that is not base64 after all, or whose bytes are not UTF-8,
    is the sender's fault."""
    try:
        return request.decoded_body
    except binascii.Error:
        raise InvalidEvent.single("(body)", "is marked isBase64Encoded but is not base64") from None
    except UnicodeDecodeError:
        raise InvalidEvent.single("(body)", "is not UTF-8 text") from None
