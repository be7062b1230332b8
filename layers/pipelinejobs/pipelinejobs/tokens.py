"""Per-job and admin tokens: HMAC-SHA256 under a secret, in time windows.

A job token is the first 16 hex characters of HMAC-SHA256(secret,
``job|<uuid>|<window>``) where a window is one hour. A token minted in window
*w* is accepted in windows *w* .. *w*+71, so it is valid for at least 71 and at
most 72 hours (``PIPELINEJOBS_TOKEN_TTL_HOURS``) with no state to store or read:
checking a token costs no database request, so unauthenticated traffic cannot
cost us reads. Rotating the secret revokes every token at once.

An admin token is 32 hex characters over ``admin|<window>``; the current and the
previous window are accepted (valid 1-2 hours), as the original's admin tokens.

Every candidate is compared with ``hmac.compare_digest`` and the loop never
exits early, so the time taken does not depend on which (if any) matched.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from functools import cache

from .config import Config
from .errors import ConfigurationError

WINDOW_SECONDS = 3600
ADMIN_WINDOWS = 2


def _window(at: float | None) -> int:
    return int((time.time() if at is None else at) // WINDOW_SECONDS)


def _mac(secret: str, message: str, length: int) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()[:length]


def job_token(secret: str, uuid: str, at: float | None = None) -> str:
    return _mac(secret, f"job|{uuid}|{_window(at)}", 16)


def admin_token(secret: str, at: float | None = None) -> str:
    return _mac(secret, f"admin|{_window(at)}", 32)


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
