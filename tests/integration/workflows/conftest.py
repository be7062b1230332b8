"""The ``stack`` fixture: workflows end to end (see tests/workflows_support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from sfn_harness import running
from workflows_support import OutputsLauncher, Stack, template_filters

from pipelinejobs.launchers import LAUNCHERS
from pipelinejobs.local.pollers import StreamPoller
from pipelinejobs.workflows import release


@pytest.fixture
def stack(aws_env, dynamodb_local: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[Stack]:
    """The table (and its stream) in DynamoDB Local, Step Functions in moto, the consumer polling the stream."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODBSTREAMS", dynamodb_local)
    with running(monkeypatch, tmp_path) as harness:
        launcher = OutputsLauncher(harness)
        monkeypatch.setitem(LAUNCHERS, "outputs", launcher)
        dynamodb = boto3.client("dynamodb", endpoint_url=dynamodb_local)
        stream_arn = dynamodb.describe_table(TableName=aws_env.table)["Table"]["LatestStreamArn"]
        batches: list[list[dict[str, Any]]] = []

        def consume(event: dict[str, Any]) -> dict[str, Any]:
            batches.append(event["Records"])
            return release.process(event["Records"])

        poller = StreamPoller(boto3.client("dynamodbstreams", endpoint_url=dynamodb_local), stream_arn, consume,
                              filters=template_filters(), reports_failures=True, batch_size=100)
        poller.idle_s = 0.05
        poller.start()
        try:
            yield Stack(harness, launcher, poller, batches)
        finally:
            poller.stop()

