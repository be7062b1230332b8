"""The one client factory (pipelinejobs.clients) on moto: the region read one way (``AWS_REGION`` alone is
enough, as Lambda sets it), one retry policy, and the deadline honoured by botocore's retries."""

from __future__ import annotations

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from faults import VirtualClock
from moto import mock_aws

from pipelinejobs import clients, deadline, tokens
from pipelinejobs.config import Config
from pipelinejobs.errors import OutOfTime
from pipelinejobs.sdk.transports import LambdaTransport

REGION = "eu-west-2"


@pytest.fixture
def only_aws_region(aws_env, monkeypatch):
    """The environment Lambda gives a function: AWS_REGION, and no AWS_DEFAULT_REGION."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", REGION)
    tokens._provider.cache_clear()
    with mock_aws():
        yield
    tokens._provider.cache_clear()


def test_the_token_secret_is_fetched_from_ssm_with_only_aws_region_set(only_aws_region):
    boto3.client("ssm", region_name=REGION).put_parameter(Name="/pj/secret", Value="s3cr3t", Type="SecureString")
    config = Config(table="t", token_secret_name="/pj/secret")
    assert tokens.secret(config) == "s3cr3t"


def test_the_token_secret_is_fetched_from_secrets_manager_with_only_aws_region_set(only_aws_region):
    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(Name="pj", SecretString="s3cr3t")["ARN"]
    assert tokens.secret(Config(table="t", token_secret_name=arn)) == "s3cr3t"


@pytest.mark.parametrize("build", [lambda: LambdaTransport("events").client, lambda: clients.client("sqs"),
                                   lambda: clients.client("events"), lambda: clients.client("dynamodb")],
                         ids=["lambda transport", "sqs", "events", "dynamodb"])
def test_every_client_is_in_the_region_aws_region_names_with_the_one_retry_policy(only_aws_region, build):
    client = build()
    assert client.meta.region_name == REGION
    assert client.meta.config.retries["total_max_attempts"] == clients.MAX_ATTEMPTS


@pytest.fixture
def throttled_sqs(only_aws_region):
    """The SQS client, every call answered as throttled; yields the list of requests sent."""
    sqs, sent = clients.client("sqs"), []

    def throttled(request, **_):
        sent.append(request)
        return AWSResponse(request.url, 400, {}, _Raw(b'{"__type": "ThrottlingException", "message": "slow down"}'))

    sqs.meta.events.register("before-send.sqs", throttled, unique_id="test-throttled")
    yield sqs, sent
    sqs.meta.events.unregister("before-send.sqs", unique_id="test-throttled")


def test_a_retry_that_would_outlive_the_deadline_is_not_made(throttled_sqs, monkeypatch):
    """botocore would retry a throttled call 4 times with backoff; with time for one attempt's timeouts (2 s
    connect + 10 s read) and little more, the call ends as OutOfTime, naming what it was retrying."""
    sqs, sent = throttled_sqs
    VirtualClock(monkeypatch, frozen=True)  # 0.5 s of margin: a loaded CI machine spent it before the first attempt
    with deadline.at_most(12.5), pytest.raises(OutOfTime, match="ThrottlingException"):
        sqs.list_queues()
    assert 1 <= len(sent) < clients.MAX_ATTEMPTS


def test_no_attempt_starts_that_could_outlive_the_deadline(throttled_sqs):
    sqs, sent = throttled_sqs
    with deadline.at_most(5.0), pytest.raises(OutOfTime, match="a sqs request"):
        sqs.list_queues()
    assert sent == []


def test_without_a_deadline_the_attempts_are_counted(throttled_sqs, monkeypatch):
    sqs, sent = throttled_sqs
    VirtualClock(monkeypatch)
    with pytest.raises(ClientError, match="ThrottlingException"):
        sqs.list_queues()
    assert len(sent) == clients.MAX_ATTEMPTS


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body


def test_a_forked_child_builds_clients_of_its_own(only_aws_region):
    """Two processes must never read answers off one connection pool: a child gets its own clients."""
    import os

    parent = clients.client("sqs")
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether it was handed the parent's client, then leave at once
        os.write(writer, b"shared" if clients.client("sqs") is parent else b"own")
        os._exit(0)
    os.close(writer)
    said = os.read(reader, 16)
    os.waitpid(pid, 0)
    assert said == b"own"
    assert clients.client("sqs") is parent  # the parent keeps its client
