"""The completion callback: POST the change to a job's ``callback_url`` when it is done.

Like gbdx's ``callback=``: the job's creator names a URL, and it hears once the
job ends, without polling. "Ends" is entering a completion state (FINISHED, or
one only an admin's reset leaves). Each attempt waits at most ``TIMEOUT_SECONDS``;
a 5xx, 408, 429 or network failure is tried again with exponential backoff
(full jitter), and when the attempts run out the error is raised so the stream
record is retried. Any other 4xx is the receiver saying no: logged, not retried.
Only http(s) URLs are called, never file: or other schemes urllib knows.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from typing import Any

from .. import fsm, observability

CALLBACK_STATES = fsm.TERMINAL_STATES | {"FINISHED"}
ATTEMPTS = 4
TIMEOUT_SECONDS = 5.0
BACKOFF_BASE_SECONDS = 0.5
_RETRIED_4XX = {408, 429}


class CallbackFailed(RuntimeError):
    """The callback URL did not accept the POST after every attempt."""


def _attempt(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "pipelinejobs-callback"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def post(url: str, change: dict[str, Any], *, attempts: int = ATTEMPTS) -> None:
    log = observability.logger()
    if not url.lower().startswith(("https://", "http://")):
        log.warning("callback_url is not http(s): not called", extra={"uuid": change["uuid"]})
        return
    body = json.dumps(change).encode()
    problem = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(random.uniform(0, BACKOFF_BASE_SECONDS * 2**attempt))
        try:
            status = _attempt(url, body)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
            continue
        if status < 400:
            log.info("callback delivered", extra={"uuid": change["uuid"], "status": status})
            return
        if status < 500 and status not in _RETRIED_4XX:
            log.warning("callback refused by its receiver", extra={"uuid": change["uuid"], "status": status})
            return
        problem = f"HTTP {status}"
    raise CallbackFailed(f"callback for job {change['uuid']} failed after {attempts} attempts: {problem}")
