"""The completion callback: POST the change to a job's ``callback_url`` when it is done.

Like gbdx's ``callback=``: the job's creator names a URL, and it hears once the
job ends, without polling. "Ends" is entering a settled state (``fsm.SETTLED_STATES``:
FINISHED, or a terminal one). Each attempt waits at most ``TIMEOUT_SECONDS``;
a 5xx, 408, 429 or network failure is tried again with exponential backoff
(full jitter), and when the attempts run out the error is raised so the stream
record is retried. Any other 4xx, or a redirect (never followed), is the receiver saying
no: logged, not retried. Only http(s) URLs whose host resolves to public addresses are
called, on the very address that was checked (see :mod:`pipelinejobs.completion_urls`).
Each attempt is signed anew (:mod:`pipelinejobs.signing`) and told to ``on_attempt``, which keeps it
(:mod:`.deliveries`).
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult

from .. import completion_urls, observability, signing
from ..errors import InvalidEvent

ATTEMPTS = 4
TIMEOUT_SECONDS = 5.0
BACKOFF_BASE_SECONDS = 0.5
_RETRIED_4XX = {408, 429}


#: Told of each attempt: the answer's status (None: no answer, or not called) and what went wrong, if anything.
AttemptSeen = Callable[[int | None, str | None], None]


class CallbackFailed(RuntimeError):
    """The callback URL did not accept the POST after every attempt."""


def _attempt(parts: SplitResult, body: bytes, signing_key: str | None = None) -> int:
    """One POST, connected to an address of the URL's host that was checked as public just now."""
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    address = completion_urls.public_addresses(parts.hostname, port)[0]
    connection_class = http.client.HTTPSConnection if secure else http.client.HTTPConnection
    connection = connection_class(parts.hostname, port, timeout=TIMEOUT_SECONDS)
    # Connect to the checked address; TLS still verifies the certificate against the host name.
    connection._create_connection = lambda _, *args, **kwargs: socket.create_connection((address, port), *args,
                                                                                        **kwargs)
    headers = {"Content-Type": "application/json", "User-Agent": "pipelinejobs-callback"}
    if signing_key is not None:
        headers[signing.HEADER] = signing.signature(signing_key, body)
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=body,
                           headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def post(url: str, change: dict[str, Any], *, attempts: int = ATTEMPTS, signing_key: str | None = None,
         on_attempt: AttemptSeen = lambda status, problem: None) -> None:
    """POST ``change``, signed with ``signing_key`` if one is given, retrying as the module says."""
    log = observability.logger()
    try:
        parts = completion_urls.check(url)
    except InvalidEvent as exc:  # a job stored before URLs were checked at creation
        log.warning("callback_url not called", extra={"uuid": change["uuid"], "problem": exc.errors[0]["problem"]})
        on_attempt(None, f"not called: callback_url {exc.errors[0]['problem']}")
        return
    body = json.dumps(change).encode()
    problem = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(random.uniform(0, BACKOFF_BASE_SECONDS * 2**attempt))
        try:
            status = _attempt(parts, body, signing_key)
        except completion_urls.ForbiddenAddress as exc:
            log.warning("callback_url not called", extra={"uuid": change["uuid"], "problem": str(exc)})
            on_attempt(None, f"not called: {exc}")
            return
        except (http.client.HTTPException, OSError) as exc:  # TimeoutError and ssl.SSLError are OSErrors
            problem = f"{type(exc).__name__}: {exc}"
            on_attempt(None, problem)
            continue
        on_attempt(status, None if status < 300 else f"HTTP {status}")
        if status < 300:
            log.info("callback delivered", extra={"uuid": change["uuid"], "status": status})
            return
        if status < 500 and status not in _RETRIED_4XX:
            log.warning("callback refused by its receiver (a redirect is not followed)",
                        extra={"uuid": change["uuid"], "status": status})
            return
        problem = f"HTTP {status}"
    raise CallbackFailed(f"callback for job {change['uuid']} failed after {attempts} attempts: {problem}")
