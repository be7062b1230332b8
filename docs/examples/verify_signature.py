"""Verify a pipelinejobs callback's X-PipelineJobs-Signature (standard library only).

signing_key is the job's `job.signing_key` (a string: its UTF-8 bytes are the HMAC key); body is the
request's raw bytes, exactly as received (before any JSON parsing); header is the signature header's value.
"""

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300  # reject a signature older than 5 minutes: a replay


def verify(signing_key: str, header: str, body: bytes, now: float | None = None) -> bool:
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        t = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - t) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(signing_key.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))
