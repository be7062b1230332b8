"""Settings, read from the environment each time they are needed.

Reading per call (it costs microseconds) keeps tests, the local stack and
Lambda honest: whatever the environment says is what is used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import ConfigurationError

#: Jobs are spread over this many index partitions so no GSI key is hot.
INDEX_SHARDS = 8

#: Largest ``data`` accepted with one event, as compact UTF-8 JSON.
#: 32 KiB holds any real callback body (an Agave job record or an AWS Batch
#: state-change event is 2-10 KiB), keeps a transactional event write under
#: ~70 WCU, stays far below DynamoDB's 400 KB item limit, and leaves room in
#: the 256 KB EventBridge/Step Functions payloads that carry event summaries.
MAX_DATA_BYTES = 32 * 1024

#: Deepest ``data`` accepted, counting ``data`` itself as level 1 (``{"a": {}}`` is 2 levels deep).
#: 32 is DynamoDB's limit on nested maps and lists: ``data`` is stored as a JSON string today, so it is not
#: bound by it, but data that fits it could be stored as a native map, and any real callback body is far
#: shallower (an Agave job record or an AWS Batch event nests 4-6 levels). What passes this check can be
#: read back, served and serialised by every JSON reader on the way (Python's stops near 1,000 levels,
#: less the stack its caller has used), so a job is never poisoned by what it was sent.
MAX_DATA_DEPTH = 32


#: The region when the environment names none (boto3 alone would raise NoRegionError).
DEFAULT_REGION = "us-east-1"


def env_region() -> str:
    """The region, read one way everywhere: ``AWS_REGION`` (Lambda sets it; boto3 alone ignores it), then
    ``AWS_DEFAULT_REGION``, then :data:`DEFAULT_REGION`."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


@dataclass(frozen=True)
class Config:
    table: str
    endpoint_url: str | None = None
    region: str | None = None
    api_url: str | None = None
    token_secret: str | None = None
    token_secret_name: str | None = None
    token_ttl_hours: int = 72
    #: Optimistic-locking attempts per event before ConcurrencyConflict.
    max_write_attempts: int = 30
    #: Days a retired job is kept before DynamoDB's TTL may delete it (``retention``); None: for ever.
    retention_days: int | None = None

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ
        table = env.get("PIPELINEJOBS_TABLE")
        if not table:
            raise ConfigurationError("PIPELINEJOBS_TABLE is not set: name the DynamoDB table to use")
        return cls(
            table=table,
            endpoint_url=env.get("AWS_ENDPOINT_URL_DYNAMODB") or env.get("AWS_ENDPOINT_URL") or None,
            region=env_region(),
            api_url=(env.get("PIPELINEJOBS_API_URL") or "").rstrip("/") or None,
            token_secret=env.get("PIPELINEJOBS_TOKEN_SECRET") or None,
            token_secret_name=env.get("PIPELINEJOBS_TOKEN_SECRET_NAME") or None,
            token_ttl_hours=int(env.get("PIPELINEJOBS_TOKEN_TTL_HOURS", "72")),
            max_write_attempts=int(env.get("PIPELINEJOBS_MAX_WRITE_ATTEMPTS", "30")),
            retention_days=int(env.get("PIPELINEJOBS_RETENTION_DAYS") or 0) or None,
        )
