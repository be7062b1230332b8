"""The unit-test harness: ``aws_env`` is isolated from any real AWS setup and works with moto."""

from __future__ import annotations

import os

import boto3
from moto import mock_aws


def test_aws_env_is_fake_and_isolated(aws_env):
    assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "local"
    assert os.environ["PIPELINEJOBS_TABLE"] == aws_env.table
    assert os.environ["PIPELINEJOBS_TOKEN_SECRET"] == aws_env.token_secret
    assert os.environ["PIPELINEJOBS_API_URL"] == aws_env.api_url
    assert aws_env.endpoint_url is None
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        assert name not in os.environ


def test_moto_table_roundtrip(aws_env):
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=aws_env.table,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName=aws_env.table, Item={"pk": {"S": "job-1"}})
        assert client.get_item(TableName=aws_env.table, Key={"pk": {"S": "job-1"}})["Item"]
