"""The harness itself: ``ddb_env`` must reach the real DynamoDB Local engine, not a mock.

The checks use behaviour moto does not have (short table names refused), so these tests
fail if the fixture silently ends up on the wrong backend.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def ddb(ddb_env):
    # No endpoint_url here on purpose: the client must pick it up from AWS_ENDPOINT_URL.
    client = boto3.client("dynamodb")
    assert client.meta.endpoint_url == ddb_env.endpoint_url
    client.create_table(
        TableName=ddb_env.table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=ddb_env.table, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    return client


def _put(table: str, pk: str) -> dict:
    return {
        "Put": {
            "TableName": table,
            "Item": {"pk": {"S": pk}, "status": {"S": "CREATED"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def test_is_marked_integration(request):
    assert request.node.get_closest_marker("integration") is not None


def test_transaction_reports_consumed_capacity(ddb, ddb_env):
    resp = ddb.transact_write_items(
        TransactItems=[_put(ddb_env.table, "job-1"), _put(ddb_env.table, "job-2")],
        ReturnConsumedCapacity="TOTAL",
    )
    [consumed] = resp["ConsumedCapacity"]
    assert consumed["TableName"] == ddb_env.table
    assert consumed["CapacityUnits"] > 0

    got = ddb.get_item(TableName=ddb_env.table, Key={"pk": {"S": "job-2"}}, ConsistentRead=True)
    assert got["Item"]["status"] == {"S": "CREATED"}


def test_failed_condition_cancels_whole_transaction(ddb, ddb_env):
    ddb.transact_write_items(TransactItems=[_put(ddb_env.table, "job-1")])
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[_put(ddb_env.table, "job-new"), _put(ddb_env.table, "job-1")])
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert "Item" not in ddb.get_item(TableName=ddb_env.table, Key={"pk": {"S": "job-new"}})


def test_two_character_table_name_is_refused(ddb_env):
    client = boto3.client("dynamodb")
    with pytest.raises(ClientError) as err:
        client.create_table(
            TableName="ab",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_each_test_gets_its_own_table(ddb_env):
    # Fresh name per test and nothing created yet: tests cannot see each other's data.
    assert ddb_env.table.startswith("pj-")
    assert ddb_env.table not in boto3.client("dynamodb").list_tables()["TableNames"]
