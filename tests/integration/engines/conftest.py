"""Engine runs tracked as workflows, in DynamoDB Local with the release consumer fed by its real stream (as the
local stack does), so node counts and states are the ones readers see."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from sfn_harness import wait_until
from workflows_support import template_filters

from pipelinejobs import clients, create_tables, service
from pipelinejobs.local.pollers import StreamPoller
from pipelinejobs.workflows import release


def until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """``predicate``'s value once it is true (the consumer writes node counts a moment after the events)."""
    return wait_until(predicate, timeout, what, interval=0.05)


@pytest.fixture
def consumer(ddb_env, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """The table in DynamoDB Local with the release consumer polling its stream; yields :func:`until`."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODBSTREAMS", ddb_env.endpoint_url)
    clients._client.cache_clear()
    service._store_for.cache_clear()
    create_tables()
    dynamodb = boto3.client("dynamodb", endpoint_url=ddb_env.endpoint_url)
    stream_arn = dynamodb.describe_table(TableName=ddb_env.table)["Table"]["LatestStreamArn"]
    poller = StreamPoller(boto3.client("dynamodbstreams", endpoint_url=ddb_env.endpoint_url), stream_arn,
                          lambda event: release.process(event["Records"]), filters=template_filters(),
                          reports_failures=True, batch_size=100)
    poller.idle_s = 0.05
    poller.start()
    try:
        yield until
    finally:
        poller.stop()
        clients._client.cache_clear()
        service._store_for.cache_clear()
