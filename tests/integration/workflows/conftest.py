"""The ``stack`` fixture: workflows end to end (see tests/workflows_support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from sfn_harness import running
from workflows_support import OutputsLauncher, Stack, template_filters

from pipelinejobs import clients, service
from pipelinejobs.launchers import LAUNCHERS
from pipelinejobs.local.pollers import StreamPoller
from pipelinejobs.workflows import release


def running_stack(env, dynamodb_local: str, monkeypatch: pytest.MonkeyPatch, tmp_path,
                  deliveries: int = 1) -> Iterator[Stack]:
    """The table (and its stream) in DynamoDB Local, Step Functions in moto, the consumer polling the stream;
    each batch handed to ``deliveries`` consumers at the same moment (2: every record delivered twice, at once)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODBSTREAMS", dynamodb_local)
    with running(monkeypatch, tmp_path) as harness:
        launcher = OutputsLauncher(harness)
        monkeypatch.setitem(LAUNCHERS, "outputs", launcher)
        dynamodb = boto3.client("dynamodb", endpoint_url=dynamodb_local)
        stream_arn = dynamodb.describe_table(TableName=env.table)["Table"]["LatestStreamArn"]
        batches: list[list[dict[str, Any]]] = []

        def consume(event: dict[str, Any]) -> dict[str, Any]:
            batches.append(event["Records"])
            with ThreadPoolExecutor(max_workers=deliveries) as pool:
                answers = list(pool.map(release.process, [event["Records"]] * deliveries))
            return next((a for a in answers if a["batchItemFailures"]), answers[0])

        poller = StreamPoller(boto3.client("dynamodbstreams", endpoint_url=dynamodb_local), stream_arn, consume,
                              filters=template_filters(), reports_failures=True, batch_size=100)
        poller.idle_s = 0.05
        poller.start()
        try:
            yield Stack(harness, launcher, poller, batches)
        finally:
            poller.stop()
            # Clients built under mock_aws sign with its fake keys, and DynamoDB Local keeps tables per key: a
            # later test's cached client would look in another key's tables.
            clients._client.cache_clear()
            service._store_for.cache_clear()


@pytest.fixture
def stack(aws_env, dynamodb_local: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[Stack]:
    yield from running_stack(aws_env, dynamodb_local, monkeypatch, tmp_path)


@pytest.fixture
def stack_delivering_twice(aws_env, dynamodb_local: str, monkeypatch: pytest.MonkeyPatch,
                           tmp_path) -> Iterator[Stack]:
    """Every batch of stream records is handled twice, by two consumers at the same moment: redelivery, and
    parents finishing together (their records handled concurrently)."""
    yield from running_stack(aws_env, dynamodb_local, monkeypatch, tmp_path, deliveries=2)
