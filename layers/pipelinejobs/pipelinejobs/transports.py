"""SDK send paths other than direct table access: ``PipelineJob(..., transport=...)``.

``LambdaTransport`` invokes the events function; ``WebhookTransport`` POSTs to
the HTTP API. Both answer with a status code and the body the front door wrote
(``frontdoor.error_answer``), so both decode it the same way: an Outcome, or
the same typed error ``handle_event`` would have raised in-process (with its
``errors``, ``state`` and ``allowed`` intact), so calling code does not care
which path it took.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from . import errors
from .records import Outcome

#: Rebuilds each error a front door may answer with from its ``to_dict()`` body and the job's uuid.
_DECODERS: dict[str, Callable[[dict[str, Any], str], errors.PipelineJobsError]] = {
    "InvalidEvent": lambda b, _: errors.InvalidEvent(b["errors"]),
    "PayloadTooLarge": lambda b, _: errors.PayloadTooLarge(b["errors"]),
    "InvalidTransition": lambda b, uuid: errors.InvalidTransition(uuid, b["state"], b["event"], b["allowed"]),
    "Unauthorized": lambda b, _: errors.Unauthorized(b["message"]),
    "Forbidden": lambda b, _: errors.Forbidden(b["message"]),
    "JobNotFound": lambda _, uuid: errors.JobNotFound(uuid),
    "ConcurrencyConflict": lambda b, _: errors.ConcurrencyConflict(b["message"]),
    "StorageUnavailable": lambda b, _: errors.StorageUnavailable(b["message"]),
    "OutOfTime": lambda b, _: errors.OutOfTime(b["message"]),
}


def answer_error(status: int, body: Any, uuid: str) -> errors.PipelineJobsError:
    """The typed error a front door's (non-200) answer describes."""
    body = body if isinstance(body, dict) else {}
    decoder = _DECODERS.get(body.get("error", ""))
    try:
        if decoder is not None:
            return decoder(body, uuid)
    except (KeyError, TypeError):
        pass  # a body that only looks like ours: reported below as it is
    failure = errors.PipelineJobsError(f"front door answered {status}: {body.get('message', 'no details')}")
    failure.status_code = status
    return failure


def decode_answer(status: int, body: Any, uuid: str) -> Outcome:
    """The Outcome in a 200 answer; else raise the error the answer describes."""
    if status == 200 and isinstance(body, dict) and "seq" in body:
        return Outcome(**{name: body[name] for name in Outcome.__dataclass_fields__ if name in body})
    raise answer_error(status, body, uuid)


class LambdaTransport:
    """Send events by invoking the events function (``lambda:InvokeFunction`` on it is all a caller needs)."""

    def __init__(self, function_name: str, client: Any = None):
        self.function_name = function_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from .clients import client

            self._client = client("lambda")
        return self._client

    def __call__(self, message: dict[str, Any]) -> Outcome:
        response = self.client.invoke(FunctionName=self.function_name, Payload=json.dumps(message).encode())
        answer = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError") or not isinstance(answer, dict):
            # The function itself failed (timeout, crash): not an answer about the event.
            detail = answer.get("errorType", "no answer") if isinstance(answer, dict) else "no answer"
            raise answer_error(502, {"message": f"{self.function_name} failed: {detail}"}, message["uuid"])
        return decode_answer(int(answer.get("statusCode", 502)), answer.get("body"), message["uuid"])


class WebhookTransport:
    """Send events by POSTing them to ``<api_url>/events`` (for callers outside AWS)."""

    def __init__(self, api_url: str, timeout: float = 10.0):
        self.url = api_url.rstrip("/") + "/events"
        self.timeout = timeout

    def __call__(self, message: dict[str, Any]) -> Outcome:
        request = urllib.request.Request(self.url, data=json.dumps(message).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = {"message": raw[:200].decode(errors="replace")}
        return decode_answer(status, body, message["uuid"])
