"""Settings: one ``Config``, read from the environment once per environment.

Every setting of the Lambda-side code is a field of ``Config``, read here and nowhere else (the CLI and the local
stack, whose interface the environment is, read their own). ``Config.current()`` reads the variables it is made of
(``ENVIRONMENT``) and builds a Config only for a set of values it has not seen: a Lambda environment builds it once
per cold start, while tests and the local stack, which change the environment between calls, get a new one as
soon as it changes. The check is one lookup per variable in the environment's dict (about 3 µs a call).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

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


#: The variables named here by more than one module (settings a test sets by name).
ALLOW_PRIVATE_ENV = "PIPELINEJOBS_CALLBACKS_TO_PRIVATE_ADDRESSES"
PRICES_ENV = "PIPELINEJOBS_PRICES"
#: Every variable a Config is made of: their values are its cache key.
ENVIRONMENT = ("PIPELINEJOBS_TABLE", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL", "AWS_REGION",
               "AWS_DEFAULT_REGION", "PIPELINEJOBS_API_URL", "PIPELINEJOBS_TOKEN_SECRET",
               "PIPELINEJOBS_TOKEN_SECRET_NAME", "PIPELINEJOBS_TOKEN_TTL_HOURS", "PIPELINEJOBS_MAX_WRITE_ATTEMPTS",
               "PIPELINEJOBS_RETENTION_DAYS", "PIPELINEJOBS_EVENT_BUS", "PIPELINEJOBS_DLQ_URL",
               "PIPELINEJOBS_STATE_MACHINE_ARN", "PIPELINEJOBS_LOCAL_DIR", "PIPELINEJOBS_TEMPLATE", ALLOW_PRIVATE_ENV,
               PRICES_ENV)

#: The region when the environment names none (boto3 alone would raise NoRegionError).
DEFAULT_REGION = "us-east-1"


def env_region() -> str:
    """The region, read one way everywhere: ``AWS_REGION`` (Lambda sets it; boto3 alone ignores it), then
    ``AWS_DEFAULT_REGION``, then :data:`DEFAULT_REGION` (as ``Config`` reads it)."""
    return Config.current().region or DEFAULT_REGION


@dataclass(frozen=True)
class Config:
    #: The DynamoDB table; "" when the environment names none (``from_env`` refuses that).
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
    #: The EventBridge bus that state changes are published to (``notify.publish``).
    event_bus: str = "default"
    #: The queue a message no retry can fix is moved to (``intake.sqs``); None: SQS's own redrive.
    dlq_url: str | None = None
    #: The job state machine (``orchestration.launch``); None where nothing is launched.
    state_machine_arn: str | None = None
    #: Where the local launcher keeps its tasks' files (``launchers.local``); None: a temporary directory.
    local_dir: str | None = None
    #: The SAM template tables are made from (``storage.tables``); None: the source tree's template.yaml.
    template: str | None = None
    #: Completion callbacks may go to private addresses (``completion_urls``): for tests and the local stack.
    allow_private_callbacks: bool = False
    #: The user's prices, as JSON or a file's path (``costs.prices``); None: the packaged ones.
    prices: str | None = None

    @classmethod
    def from_env(cls) -> Config:
        """The environment's configuration, which must name a table (every reader and writer of jobs needs one)."""
        config = cls.current()
        if not config.table:
            raise ConfigurationError("PIPELINEJOBS_TABLE is not set: name the DynamoDB table to use")
        return config

    @classmethod
    def current(cls) -> Config:
        """The environment's configuration now, table or not: read once per set of values (see the module doc)."""
        return _read(tuple(map(_RAW.get, _KEYS)))


#: ``os.environ``'s own dict (bytes on POSIX) and the variables' keys in it. The values are looked up there, as
#: ``os.environ.get`` itself does, without its per-call encoding and, for an unset variable, its KeyError: ~0.1 µs
#: a variable instead of ~2 µs, which made the check cost more than the reading it saves. ``os.environ`` and
#: ``putenv`` keep this dict current, so a test's ``monkeypatch.setenv`` is seen.
_RAW: dict = os.environ._data  # type: ignore[attr-defined]
_KEYS = tuple(map(os.environ.encodekey, ENVIRONMENT))  # type: ignore[attr-defined]


@lru_cache(maxsize=16)
def _read(values: tuple[object, ...]) -> Config:
    env = {name: os.environ.decodevalue(value)  # type: ignore[attr-defined]
           for name, value in zip(ENVIRONMENT, values, strict=True) if value}
    return Config(
        table=env.get("PIPELINEJOBS_TABLE", ""),
        endpoint_url=env.get("AWS_ENDPOINT_URL_DYNAMODB") or env.get("AWS_ENDPOINT_URL"),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
        api_url=env.get("PIPELINEJOBS_API_URL", "").rstrip("/") or None,
        token_secret=env.get("PIPELINEJOBS_TOKEN_SECRET"),
        token_secret_name=env.get("PIPELINEJOBS_TOKEN_SECRET_NAME"),
        token_ttl_hours=int(env.get("PIPELINEJOBS_TOKEN_TTL_HOURS", "72")),
        max_write_attempts=int(env.get("PIPELINEJOBS_MAX_WRITE_ATTEMPTS", "30")),
        retention_days=int(env.get("PIPELINEJOBS_RETENTION_DAYS", "0")) or None,
        event_bus=env.get("PIPELINEJOBS_EVENT_BUS", "default"),
        dlq_url=env.get("PIPELINEJOBS_DLQ_URL"),
        state_machine_arn=env.get("PIPELINEJOBS_STATE_MACHINE_ARN"),
        local_dir=env.get("PIPELINEJOBS_LOCAL_DIR"),
        template=env.get("PIPELINEJOBS_TEMPLATE"),
        allow_private_callbacks=env.get(ALLOW_PRIVATE_ENV) == "1",
        prices=env.get(PRICES_ENV),
    )
