"""Signatures on what pipelinejobs sends out: ``X-PipelineJobs-Signature: t=<unix seconds>,v1=<hex>``.

A receiver of a job's callbacks must be able to tell that a POST came from pipelinejobs and was not
replayed, as Stripe's and GitHub's webhooks let it. ``v1`` is the hex HMAC-SHA256 of ``"<t>.<body>"`` (the
body's exact bytes) under the job's **signing key**; ``t`` is when the attempt was signed, so a receiver
rejects what is older than :data:`TOLERANCE_SECONDS` (a replay), and the body cannot be changed without
the key.

The signing key is derived, as job tokens are (:mod:`.tokens`): the hex HMAC-SHA256 of ``sign|<uuid>`` under
the token secret. So nothing new is stored or read to sign (the stream function holds the secret already for
nothing else but this), every job has a key of its own (one receiver's key verifies no other job's
callbacks), whoever may mint the job's token may obtain it (``job.signing_key``: table access or an admin),
and rotating the secret rotates every key. Its UTF-8 bytes are the HMAC key.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-PipelineJobs-Signature"
#: A receiver rejects a signature older than this (docs/operations.md, "Signed notifications").
TOLERANCE_SECONDS = 300


def signing_key(secret: str, uuid: str) -> str:
    """The job's signing key: 64 hex characters, whose UTF-8 bytes are the HMAC key."""
    return hmac.new(secret.encode(), f"sign|{uuid}".encode(), hashlib.sha256).hexdigest()


def signature(key: str, body: bytes, at: float | None = None) -> str:
    """The header's value for ``body`` signed at ``at`` (default: now)."""
    t = int(time.time() if at is None else at)
    mac = hmac.new(key.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"
