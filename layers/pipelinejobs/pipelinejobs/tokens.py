"""Per-job and admin tokens: HMAC-SHA256 under a secret, in time windows.

A job token is the first 16 hex characters of HMAC-SHA256(secret,
``job|<uuid>|<window>``) where a window is one hour. A token minted in window
*w* is accepted in windows *w* .. *w*+71, so it is valid for at least 71 and at
most 72 hours (``PIPELINEJOBS_TOKEN_TTL_HOURS``) with no state to store or read:
checking a token costs no database request, so unauthenticated traffic cannot
cost us reads. Rotating the secret revokes every token at once.

An admin token is 32 hex characters over ``admin|<window>``; the current and the
previous window are accepted (valid 1-2 hours), as the original's admin tokens.

A pipeline token lets a caller outside AWS create and move one pipeline's jobs
(``POST /jobs``, and events to that pipeline's jobs). It is 48 lowercase hex
characters: 8 of its expiry (hours since the epoch) then 40 of HMAC-SHA256(secret,
``pipeline|<pipeline uuid>|<expiry>``). The expiry travels in the token, so any
lifetime can be chosen when minting and verifying needs nothing but the secret and
the pipeline's uuid. Its form is fixed: log redaction recognises tokens by it.

A viewer token lets a person read every job through the dashboard (``/ui``) and nothing else: the same
form as a pipeline token (8 hex of its expiry, 40 of HMAC-SHA256(secret, ``viewer|<expiry>``)), so it is
minted from the secret and the clock alone, any lifetime up to a month, and redacted from logs by its form.
A viewer token and a pipeline token can never stand for each other: their HMACs are over different subjects.

Every candidate is compared with ``hmac.compare_digest`` and the loop never
exits early, so the time taken does not depend on which (if any) matched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from functools import cache

from .config import Config
from .errors import ConfigurationError

WINDOW_SECONDS = 3600
ADMIN_WINDOWS = 2
#: A pipeline token's default and longest lifetime, in hours: a day covers a working session or a
#: nightly batch, and a year bounds what a leaked token can do (rotating the secret revokes all).
PIPELINE_TOKEN_HOURS = 24
PIPELINE_TOKEN_MAX_HOURS = 366 * 24
PIPELINE_TOKEN = re.compile(r"[0-9a-f]{48}")
#: A viewer token's default and longest lifetime, in hours: a working day, and a month at most (a person who
#: looks for longer is given a new one; rotating the secret revokes them all).
VIEWER_TOKEN_HOURS = 12
VIEWER_TOKEN_MAX_HOURS = 31 * 24


def _window(at: float | None) -> int:
    return int((time.time() if at is None else at) // WINDOW_SECONDS)


def _mac(secret: str, message: str, length: int) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()[:length]


def job_token(secret: str, uuid: str, at: float | None = None) -> str:
    return _mac(secret, f"job|{uuid}|{_window(at)}", 16)


def admin_token(secret: str, at: float | None = None) -> str:
    return _mac(secret, f"admin|{_window(at)}", 32)


def pipeline_token(secret: str, pipeline_uuid: str, hours: int = PIPELINE_TOKEN_HOURS,
                   at: float | None = None) -> str:
    """A token for ``pipeline_uuid`` valid for more than ``hours`` and at most ``hours`` + 1 (its expiry is
    the end of an hour, so the token names an hour, not a second)."""
    if not 1 <= hours <= PIPELINE_TOKEN_MAX_HOURS:
        raise ValueError(f"a pipeline token lives 1 to {PIPELINE_TOKEN_MAX_HOURS} hours, not {hours}")
    return _expiring(secret, f"pipeline|{pipeline_uuid}", hours, at)


def _expiring(secret: str, subject: str, hours: int, at: float | None) -> str:
    """A token for ``subject`` that carries its expiry (the end of the hour ``hours`` from now) and an HMAC over
    both: verifying it needs the secret and the subject only."""
    expiry = _window(at) + hours + 1
    return f"{expiry:08x}" + _mac(secret, f"{subject}|{expiry}", 40)


def _verify_expiring(secret: str, subject: str, token: str, at: float | None) -> bool:
    if not pipeline_token_unexpired(token, at):
        return False
    return hmac.compare_digest(_mac(secret, f"{subject}|{int(token[:8], 16)}", 40), token[8:])


def is_pipeline_token(token: str | None) -> bool:
    """True if ``token`` has a pipeline token's form (whether or not it verifies)."""
    return isinstance(token, str) and PIPELINE_TOKEN.fullmatch(token) is not None


def pipeline_token_expiry(token: str) -> int:
    """When a pipeline token expires, in seconds since the epoch (read from the token; not verified)."""
    return int(token[:8], 16) * WINDOW_SECONDS


def pipeline_token_unexpired(token: str, at: float | None = None) -> bool:
    """A pipeline token's form and expiry, checked without the secret or any read: a forged token is
    still refused later, by :func:`verify_pipeline_token`."""
    return is_pipeline_token(token) and _window(at) < int(token[:8], 16)


def verify_pipeline_token(secret: str, pipeline_uuid: str, token: str, at: float | None = None) -> bool:
    """True if ``token`` was minted for ``pipeline_uuid`` under ``secret`` and has not expired."""
    return _verify_expiring(secret, f"pipeline|{pipeline_uuid}", token, at)


def viewer_token(secret: str, hours: int = VIEWER_TOKEN_HOURS, at: float | None = None) -> str:
    """A dashboard viewer's token: reads every job, moves none; valid more than ``hours`` and at most one more."""
    if not 1 <= hours <= VIEWER_TOKEN_MAX_HOURS:
        raise ValueError(f"a viewer token lives 1 to {VIEWER_TOKEN_MAX_HOURS} hours, not {hours}")
    return _expiring(secret, "viewer", hours, at)


def verify_viewer_token(secret: str, token: str, at: float | None = None) -> bool:
    """True if ``token`` is an unexpired viewer token minted under ``secret``."""
    return _verify_expiring(secret, "viewer", token, at)


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header's value (the scheme's case does not matter,
    RFC 7235), or None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def basic(authorization: str | None) -> tuple[str, str] | None:
    """The user and password of an ``Authorization: Basic <base64 of user:password>`` header's value (RFC 7617;
    the scheme's case does not matter), or None if it is not one."""
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon and user and password else None


def _matches_any(token: str, candidates) -> bool:
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(candidate, token)
    return matched


def verify_job_token(secret: str, uuid: str, token: str, ttl_hours: int = 72, at: float | None = None) -> bool:
    now = _window(at)
    return _matches_any(token, (_mac(secret, f"job|{uuid}|{w}", 16) for w in range(now - ttl_hours + 1, now + 1)))


def verify_admin_token(secret: str, token: str, at: float | None = None) -> bool:
    now = _window(at)
    return _matches_any(token, (_mac(secret, f"admin|{w}", 32) for w in range(now - ADMIN_WINDOWS + 1, now + 1)))


def secret(config: Config) -> str:
    """The token secret: from the environment locally, else from SSM Parameter
    Store or Secrets Manager through Powertools Parameters (cached 5 minutes)."""
    if config.token_secret:
        return config.token_secret
    if config.token_secret_name:
        return _fetch_secret(config.token_secret_name)
    raise ConfigurationError(
        "no token secret: set PIPELINEJOBS_TOKEN_SECRET, or PIPELINEJOBS_TOKEN_SECRET_NAME "
        "to an SSM parameter name or a Secrets Manager ARN"
    )


@cache
def _provider(name: str):
    # Imported here: only deployed functions need it, and it costs cold-start time. The providers get the
    # clients of clients.py (region, retries, deadline), not Powertools' defaults, which know no region
    # when only AWS_REGION is set.
    from aws_lambda_powertools.utilities import parameters

    from .clients import client

    if name.startswith("arn:aws:secretsmanager:"):
        secrets = parameters.SecretsProvider(boto3_client=client("secretsmanager"))
        return lambda: secrets.get(name, max_age=300)
    ssm = parameters.SSMProvider(boto3_client=client("ssm"))
    return lambda: ssm.get(name, decrypt=True, max_age=300)


def _fetch_secret(name: str) -> str:
    value = _provider(name)()
    if not value:
        raise ConfigurationError(f"token secret {name} is empty")
    return value
