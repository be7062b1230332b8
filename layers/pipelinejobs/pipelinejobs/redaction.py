"""Redaction: every secret taken out of what is logged, found by what it is rather than by where it is.

A sender chooses how a key is spelled (``"to\\u006ben"`` in JSON text, ``tok%65n=`` in
a query string) and where a token goes (a list, an object, a key of its own), so
matching keys by their spelling misses them. Instead:

* every standalone run of exactly 16, 32 or 48 hex characters (job, admin and pipeline
  tokens) is replaced wherever it appears: keys and values at every depth, raw JSON and
  URL-encoded text, after percent-encoding and ``\\uXXXX`` escapes are undone;
* secrets that have no shape of their own (Step Functions task tokens, ``Authorization``
  values) are replaced whole under any key that names them (``token``, ``taskToken``,
  ``task_token``, ``X-Pipeline-Token``, ``Authorization``; compared decoded, lowercased and
  without punctuation), and after ``...token=``, ``"...token": `` and ``Bearer`` in text.

Hex runs of other lengths are kept: a uuid's groups, 12-hex run ids, 40-hex content ids,
64-hex sha256 digests. What is lost: ids that happen to be 16 or 32 hex characters (an
X-Ray parent segment id, an ECS task id) are redacted too.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

REDACTED = "***"

#: A standalone run of exactly 16, 32 or 48 hex characters: a job, admin or pipeline token (in any case: an
#: uppercased token is the same secret). A uuid's groups (8 and 4 and 12), run ids (12), content ids (40) and
#: sha256 digests (64) are other lengths and are kept; so are runs inside longer ones.
_TOKEN_SHAPED = re.compile(r"(?<![0-9a-f])(?:[0-9a-f]{48}|[0-9a-f]{32}|[0-9a-f]{16})(?![0-9a-f])", re.IGNORECASE)
#: Secrets with no shape of their own (Step Functions task tokens, bearer credentials) are found by their key:
#: ``...token=...`` in a query or form, ``"...token": "..."`` in JSON text or a repr, ``Authorization: ...`` in
#: header text (a colon then a space: ``verify_job_token:52``, a log record's location, is not a key). A key
#: starts where a run of name characters does: searching from every character of a long one would be quadratic.
_KEY = r"(?<![a-z0-9_-])(?:[a-z0-9_-]*token|authorization)"
_SEPARATOR = r"""(?:["']\s*:|\s*=|:(?=\s))\s*["']?"""
_KEYED_SECRET = re.compile(rf"""(?i)({_KEY}{_SEPARATOR})(?:bearer\s+)?[^\s&"',;}}\]]+""")
_BEARER = re.compile(r"(?i)(\bbearer\s+)[^\s&\"',;}\]]+")
#: JSON's ``\uXXXX`` escapes and percent-encoding, which can spell a key or a token without its letters.
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
#: Nothing shorter can hold a secret: the shortest token is 16 characters, the shortest keyed secret ``token=x``.
_SHORTEST_SECRET = 7
_DECODE_ROUNDS = 4  # each encoding can hide the other (%5Cu0074 is \u0074 is t); more is not text anyone sends


def _unescaped(escape: re.Match) -> str:
    code = int(escape[1], 16)
    return escape[0] if 0xD800 <= code <= 0xDFFF else chr(code)  # a lone surrogate could not be logged


def _decoded(text: str) -> str:
    """``text`` with percent-encoding and JSON unicode escapes undone, until nothing changes (bounded)."""
    if "%" not in text and "\\" not in text:
        return text  # nothing encoded: most log text, and the cheap case that keeps logging fast
    for _ in range(_DECODE_ROUNDS):
        decoded = _UNICODE_ESCAPE.sub(_unescaped, unquote(text))
        if decoded == text:
            break
        text = decoded
    return text


def _redact_text(text: str) -> str:
    """``text`` with every token-shaped run and keyed secret replaced. Matching is done on the decoded text;
    when that finds a secret, the decoded text is what is logged (its encoding is not worth a leak)."""
    decoded = _decoded(text)
    if len(decoded) < _SHORTEST_SECRET:
        return text  # too short to hold a token, or a key and a secret after it
    redacted = _TOKEN_SHAPED.sub(REDACTED, decoded)
    folded = decoded.lower()
    if "token" in folded or "authorization" in folded:
        redacted = _KEYED_SECRET.sub(rf"\g<1>{REDACTED}", redacted)
    if "bearer" in folded:
        redacted = _BEARER.sub(rf"\g<1>{REDACTED}", redacted)
    return text if redacted == decoded else redacted


@lru_cache(maxsize=1024)  # log records repeat the same few keys; a sender's odd keys only cost a miss
def is_secret_key(key: Any) -> bool:
    """Whether values under ``key`` are secrets however it is spelled: ``token``, ``taskToken``,
    ``task_token``, ``X-Pipeline-Token``, ``Authorization``, escaped or percent-encoded."""
    name = "".join(c for c in _decoded(str(key)).lower() if c.isalnum())
    return name.endswith("token") or name == "authorization"


def redact(value: Any) -> Any:
    """``value`` with every secret replaced by ``***``: strings (raw JSON and URL-encoded text included),
    dict keys and values and list items at every depth, and whole values under a secret's key."""
    if isinstance(value, dict):
        return {redact(k): REDACTED if is_secret_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _redact_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and _TOKEN_SHAPED.search(str(value)):
        return REDACTED  # an all-digit token sent as a JSON number
    return value


def without(value: Any, secret: str) -> Any:
    """``value`` with every occurrence of one known ``secret`` (in any case) replaced by ``***``: in strings,
    dict keys and list items at every depth. For what is *kept*, not logged: an engine may repeat the address
    it was given, token included, in what it sends (Nextflow's ``commandLine``), and only that secret must go;
    :func:`redact` would also take ids and hashes that merely look like tokens."""
    if not secret:
        return value
    if isinstance(value, dict):
        return {without(k, secret): without(v, secret) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without(v, secret) for v in value]
    if isinstance(value, str) and secret.lower() in value.lower():
        return re.sub(re.escape(secret), REDACTED, value, flags=re.IGNORECASE)
    return value
