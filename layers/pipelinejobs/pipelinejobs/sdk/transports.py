"""SDK send paths other than direct table access: ``PipelineJob(..., transport=...)``.

``LambdaTransport`` invokes the events function; ``WebhookTransport`` POSTs to
the HTTP API. Both answer with a status code and the body the front door wrote
(``frontdoor.error_answer``), so both decode it the same way: an Outcome, or
the same typed error ``handle_event`` would have raised in-process (with its
``errors``, ``state`` and ``allowed`` intact), so calling code does not care
which path it took.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from .. import errors
from ..records import HistoryEntry, JobRecord, Outcome

#: Rebuilds each error a front door may answer with from its ``to_dict()`` body and the job's uuid.
_DECODERS: dict[str, Callable[[dict[str, Any], str], errors.PipelineJobsError]] = {
    "InvalidEvent": lambda b, _: errors.InvalidEvent(b["errors"]),
    "PayloadTooLarge": lambda b, _: errors.PayloadTooLarge(b["errors"]),
    "InvalidTransition": lambda b, uuid: errors.InvalidTransition(uuid, b["state"], b["event"], b["allowed"]),
    "Unauthorized": lambda b, _: errors.Unauthorized(b["message"]),
    "Forbidden": lambda b, _: errors.Forbidden(b["message"]),
    "JobNotFound": lambda _, uuid: errors.JobNotFound(uuid),
    "PipelineNotFound": lambda b, _: errors.PipelineNotFound(b["pipeline"], b["reason"]),
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
            from ..clients import client

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
    """Talk to the webhook API (for callers outside AWS): events by ``POST /events``; and, for a
    ``PipelineJob``, creating its job (``POST /jobs``) and reading it (``GET /jobs/{uuid}``).

    ``token`` (a pipeline token, or an admin token) goes in the ``Authorization`` header, never in a URL: it is
    what lets ``setup`` create jobs, and it moves the pipeline's jobs when a message carries no job token. With
    it, a job needs no table, AWS credentials or secret. A request that gets no answer (refused, reset, timed
    out, a name that does not resolve) raises ServiceUnreachable."""

    def __init__(self, api_url: str, timeout: float = 10.0, *, token: str | None = None):
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.token = token

    @property
    def url(self) -> str:
        return self.api_url + "/events"

    def _request(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        """The status and JSON body of the API's answer, whatever the status."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token or self.token:
            headers["Authorization"] = f"Bearer {token or self.token}"
        request = urllib.request.Request(self.api_url + path, method=method, headers=headers,
                                         data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:  # no answer at all
            reason = getattr(exc, "reason", None) or exc
            raise errors.ServiceUnreachable(f"{method} {self.api_url}{path.split('?')[0]}: no answer ({reason})") \
                from exc
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, {"message": raw[:200].decode(errors="replace")}

    def __call__(self, message: dict[str, Any]) -> Outcome:
        return decode_answer(*self._request("POST", "/events", message), message["uuid"])

    def create_job(self, pipeline: str, data: dict[str, Any] | None = None, *, parents: list[str] | None = None,
                   callback_url: str | None = None, heartbeat_seconds: int | None = None) -> dict[str, Any]:
        """``POST /jobs``: the job (get-or-create) as the server answers, with its ``token`` and ``callback``."""
        request = {"pipeline": pipeline, "data": data or {}, "parents": list(parents or [])}
        optional = {"callback_url": callback_url, "heartbeat_seconds": heartbeat_seconds}
        status, body = self._request("POST", "/jobs", request | {k: v for k, v in optional.items() if v})
        if status in (200, 201) and isinstance(body, dict) and "token" in body:
            return body
        raise answer_error(status, body, "")

    def _page(self, uuid: str, token: str, after: int | None = None, limit: int = 500) -> dict[str, Any]:
        query = urllib.parse.urlencode({"limit": limit, **({"after": after} if after else {})})
        status, body = self._request("GET", f"/jobs/{uuid}?{query}", token=token)
        if status == 200 and isinstance(body, dict) and "history" in body:
            return body
        raise answer_error(status, body, uuid)

    def read_job(self, uuid: str, token: str) -> JobRecord:
        """``GET /jobs/{uuid}`` with the job's (or an admin) token: the job as the API shows it."""
        return job_record(self._page(uuid, token, limit=1))

    def iter_history(self, uuid: str, token: str) -> Iterator[HistoryEntry]:
        """The job's whole history, oldest first, a page (500 entries) a request."""
        cursor = None
        while True:
            page = self._page(uuid, token, after=cursor)
            yield from (HistoryEntry(**entry) for entry in page["history"])
            cursor = page["next_cursor"]
            if cursor is None:
                return


def job_record(view: dict[str, Any]) -> JobRecord:
    """A job as the API serves it (``JobView``, or ``POST /jobs``' answer), as the SDK's record: the fields the
    API does not serve (orchestration's) keep their defaults."""
    return JobRecord(**{name: view[name] for name in JobRecord.__dataclass_fields__ if name in view})
