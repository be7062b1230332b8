"""Hypothesis strategies for hostile input, shared by the schema and the front-door property tests.

Odd text (NUL, right-to-left overrides, byte-order marks, emoji and joiners, combining
marks), JSON that Python reads but nothing downstream can store or send (lone surrogates,
NaN, nesting past the depth limit or thousands deep), tokens that are not the job's, uuids with path tricks, and
query values carrying injections. Each strategy that needs a job's uuid or the token secret
is a function of them, drawn inside the test with ``st.data()``.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from hypothesis import strategies as st

from pipelinejobs import tokens
from pipelinejobs.config import MAX_DATA_DEPTH

#: The event schema's token pattern: a token that does not match is malformed (400), one that does is checked (401).
TOKEN_PATTERN = re.compile(r"[0-9a-f]{16}|[0-9a-f]{32}")

#: NUL, RTL override, RTL mark, RTL isolate, BOM, an emoji, a ZWJ sequence, a combining mark, a noncharacter.
ODD_CHARS = ["\x00", "\u202e", "\u200f", "\u2067", "\ufeff", "\U0001f600", "\U0001f469\u200d\U0001f52c", "e\u0301",
             "\uffff", "\n", "\r"]
#: What shells, templates, SQL and query strings might act on, if anything ever interpreted a value.
INJECTIONS = ["'", '"', "' OR '1'='1", "${jndi:ldap://x/a}", "${7*7}", "{{7*7}}", "$(id)", "`id`", "; rm -rf /",
              "\n", "\r\nX-Injected: 1", "&token=", "%26token%3D", "<script>alert(1)</script>", "\x00", "%00"]
#: Pieces of paths that try to leave /jobs/{uuid}.
PATH_TRICKS = ["..", "../", "..%2F", "..%2f", "%2e%2e", "%2E%2E%2F", "%2F", "/", "\\", "%5C", "%00", ";", "?", "#",
               " ", "%20", ".", "~", "\u202e", "events", "jobs"]

odd_text = st.lists(st.characters(blacklist_categories=("Cs",)) | st.sampled_from(ODD_CHARS), max_size=30).map("".join)

#: JSON values any JSON parser accepts and DynamoDB, EventBridge and every log line can hold.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False, allow_infinity=False)
    | odd_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(odd_text, json_values, max_size=5)


def nested(depth: int) -> dict[str, Any]:
    """An object ``depth`` levels deep, built without recursion."""
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def deep_json_text(depth: int) -> str:
    """JSON text nested ``depth`` levels deep (as a sender can post it; Python cannot write it)."""
    return '{"a":' * depth + "{}" + "}" * depth


#: Data Python's json reads (from ``"\\ud800"`` escapes, ``NaN``) but that is not JSON anything else takes.
unrepresentable_data = st.one_of(
    st.builds(lambda s: {"x": s}, st.characters(whitelist_categories=("Cs",))),      # a lone surrogate
    st.builds(lambda s: {s: 1}, st.characters(whitelist_categories=("Cs",))),        # ... as a key
    st.sampled_from([{"x": float("nan")}, {"x": float("inf")}, {"x": [float("-inf")]}]),
)
#: Deeper than Python's json goes (about 1,000 levels).
too_deep = st.integers(5_000, 20_000)
#: Data Python reads and writes, but nested deeper than the data depth limit (``nested(n)`` is n + 1 levels deep).
past_the_depth_limit = st.integers(MAX_DATA_DEPTH, 500).map(nested)


def bad_tokens(secret: str, uuid: str) -> st.SearchStrategy[str | None]:
    """Tokens that must not authorise an event on ``uuid``: missing, forged, expired, another job's,
    the job's own with a character changed, and malformed ones (injections, odd text, wrong case)."""
    good = tokens.job_token(secret, uuid)
    hours = st.integers(72, 24 * 365 * 3)
    return st.one_of(
        st.none(),
        st.from_regex(TOKEN_PATTERN, fullmatch=True),                                  # forged, job or admin shape
        hours.map(lambda h: tokens.job_token(secret, uuid, at=time.time() - h * 3600)),  # expired
        st.uuids().map(lambda other: tokens.job_token(secret, str(other))),            # another job's
        st.integers(0, 15).map(lambda i: good[:i] + ("0" if good[i] != "0" else "1") + good[i + 1:]),
        st.sampled_from([good.upper(), f" {good}", f"{good}\n", good[:-1], good + "0", f"{good},{good}"]),
        st.builds(lambda junk, at: good[:at] + junk + good[at:], st.sampled_from(INJECTIONS) | odd_text,
                  st.integers(0, 16)).filter(lambda t: t != good),
    )


def bad_pipeline_tokens(secret: str, pipeline_uuid: str, other_pipeline: str) -> dict[str, str]:
    """Tokens that must not open ``pipeline_uuid``'s engine routes (each a 401, the same answer), by what is wrong
    with them: forged, expired, another pipeline's, edited, malformed, or another kind of token. Each is text that
    can stand in a URL's path."""
    good = tokens.pipeline_token(secret, pipeline_uuid)
    return {
        "forged": good[:8] + secrets.token_hex(20),
        "forged under another secret": tokens.pipeline_token("not-the-secret", pipeline_uuid),
        "expired": tokens.pipeline_token(secret, pipeline_uuid, hours=1, at=time.time() - 3 * 3600),
        "expiry pushed back": f"{int(good[:8], 16) + 1:08x}" + good[8:],
        "other pipeline's": tokens.pipeline_token(secret, other_pipeline),
        "a character changed": good[:-1] + ("0" if good[-1] != "0" else "1"),
        "uppercased": good.upper(),
        "too short": good[:-1],
        "too long": good + "0",
        "not hex": "g" + good[1:],
        "admin's": tokens.admin_token(secret),
        "a viewer's": tokens.viewer_token(secret),
        "a job's": tokens.job_token(secret, pipeline_uuid),
    }


def path_tricks(uuid: str) -> st.SearchStrategy[str]:
    """A uuid path segment with tricks around or inside the job's own uuid."""
    pieces = st.lists(st.sampled_from([*PATH_TRICKS, uuid, uuid.upper(), uuid.replace("-", "%2D")]),
                      min_size=1, max_size=5)
    return pieces.map("".join).filter(lambda s: s != uuid)


def status_of_token(token: str | None) -> int:
    """What a bad token must get: 400 (naming ``token``) if it cannot be a token at all, else 401."""
    return 400 if token is not None and not TOKEN_PATTERN.fullmatch(token) else 401
