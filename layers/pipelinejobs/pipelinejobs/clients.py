"""Every boto3 client pipelinejobs builds: one factory, one retry policy, the region read one way.

* **Region**: :func:`pipelinejobs.config.env_region` (``AWS_REGION``, which Lambda
  sets, then ``AWS_DEFAULT_REGION``), passed to every client, so a client never
  fails with ``NoRegionError`` where boto3 alone would not look at ``AWS_REGION``.
* **Endpoint**: ``AWS_ENDPOINT_URL_<SERVICE>``, then ``AWS_ENDPOINT_URL`` (tests,
  the local stack), part of the cache key so no client aimed elsewhere is reused.
* **Retries**: botocore's standard conditions (throttling, transient errors, 5xx,
  connection resets, timeouts) and its exponential backoff, :data:`MAX_ATTEMPTS`
  attempts, bounded by the request's deadline (:mod:`.deadline`): no attempt is
  started that could outlive it (its connect + read timeouts), no backoff sleeps
  past it. Running out of time raises :class:`~pipelinejobs.errors.OutOfTime`
  (a retryable 503) instead of the error that would have been retried.
* **Timeouts**: seconds, not botocore's 60 s read timeout, so a hung connection
  costs one attempt, not the function.

Clients are costly to build (tens of ms), so each process keeps one per service,
region and endpoint.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from botocore.config import Config as BotocoreConfig
from botocore.retries import standard

from . import deadline
from .config import env_region

#: Attempts per request (the first and four retries), for every service.
MAX_ATTEMPTS = 5
#: (connect, read) timeouts in seconds. DynamoDB answers in milliseconds; Lambda's Invoke waits for the
#: invoked function (the events function's timeout is 30 s).
TIMEOUTS = {"default": (2.0, 10.0), "dynamodb": (1.0, 3.0), "lambda": (2.0, 35.0)}


def botocore_config(service: str, **settings: Any) -> BotocoreConfig:
    """The one client configuration: standard retries, bounded timeouts (the region is passed to the client)."""
    connect, read = TIMEOUTS.get(service, TIMEOUTS["default"])
    return BotocoreConfig(connect_timeout=connect, read_timeout=read,
                          retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS}, **settings)


def client(service: str, *, region: str | None = None, endpoint_url: str | None = None) -> Any:
    """The process's client for ``service`` (region and endpoint from the environment unless given)."""
    env = os.environ
    endpoint_url = endpoint_url or env.get(f"AWS_ENDPOINT_URL_{service.upper()}") or env.get("AWS_ENDPOINT_URL")
    return _client(service, region or env_region(), endpoint_url)


@cache
def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    import boto3

    # DynamoDB's requests are built by PynamoDB, which validates them itself: botocore need not again.
    settings = {"parameter_validation": False} if service == "dynamodb" else {}
    built = boto3.client(service, region_name=region, endpoint_url=endpoint_url,
                         config=botocore_config(service, **settings))
    return governed(built)


# A forked child must not share its parent's connections (two processes reading one socket's answers): it
# builds clients of its own, as a new Lambda environment would. Forking is rare (multiprocessing pools, the
# load tests), and the cache is rebuilt on first use.
os.register_at_fork(after_in_child=_client.cache_clear)


def governed(built: Any) -> Any:
    """``built`` with its retries bounded by the deadline (in place of botocore's own retry handler)."""
    events = built.meta.events
    name = built.meta.service_model.service_id.hyphenize()
    config = built.meta.config
    retries = _DeadlineRetries(name, ceiling=config.connect_timeout + config.read_timeout)
    events.unregister(f"needs-retry.{name}", unique_id=f"retry-config-{name}")
    events.register(f"needs-retry.{name}", retries.needs_retry, unique_id=f"retry-config-{name}")
    events.register_first(f"before-send.{name}", retries.before_send, unique_id=f"deadline-{name}")
    return built


class _DeadlineRetries:
    """botocore's standard retry decision and delay, and the deadline's veto on both."""

    def __init__(self, service: str, ceiling: float):
        self._service, self._ceiling = service, ceiling
        self._adapter = standard.RetryEventAdapter()
        self._conditions = standard.StandardRetryConditions(max_attempts=MAX_ATTEMPTS)
        self._backoff = standard.ExponentialBackoff(
            service_name=service, throttling_detector=standard.ThrottlingErrorDetector(self._adapter))

    def before_send(self, request: Any, **_: Any) -> None:
        """An attempt starts only if its timeouts fit before the deadline."""
        deadline.ensure(self._ceiling, f"a {self._service} request")

    def needs_retry(self, **kwargs: Any) -> float | None:
        """The delay before the next attempt, None for no retry; OutOfTime if the retry would not fit."""
        context = self._adapter.create_retry_context(**kwargs)
        if not self._conditions.is_retryable(context):
            return None
        delay = self._backoff.delay_amount(context)
        failure = context.get_error_code() or type(context.caught_exception).__name__
        deadline.ensure(delay + self._ceiling, f"retrying a {self._service} request ({failure})")
        return delay
