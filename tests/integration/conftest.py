"""Integration tests run against Amazon DynamoDB Local (the real Java engine, from npm).

One DynamoDB Local process is started per test session, in memory, on a free port; each
test gets its own table name through ``ddb_env``, so tests do not see each other's data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults import DynamoDBFaults, VirtualClock

from pipelinejobs import create_tables
from pipelinejobs.local.dynamodb_local import DynamoDBLocal, DynamoDBLocalError

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items, not only this directory's: filter by path.
    # Marking at collection time (not in a fixture) is what lets `-m "not integration"` work.
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start DynamoDB Local for the session and yield its endpoint URL (http://127.0.0.1:PORT)."""
    try:
        server = DynamoDBLocal(log_dir=tmp_path_factory.mktemp("dynamodb_local"))
        endpoint = server.start()
    except DynamoDBLocalError as exc:
        pytest.fail(str(exc))
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualClock:
    """Sleeps cost no wall time; the deadline counts them (tests/faults.py)."""
    return VirtualClock(monkeypatch)


@pytest.fixture
def dynamodb_faults(ddb_env, clock) -> Iterator[DynamoDBFaults]:
    """Faults on the store's DynamoDB client (tests/faults.py), removed when the test ends; backoff sleeps
    on the virtual ``clock``."""
    create_tables()
    faults = DynamoDBFaults()
    try:
        yield faults
    finally:
        faults.clear()


@pytest.fixture
def ddb_env(aws_env, dynamodb_local: str, monkeypatch: pytest.MonkeyPatch):
    """``aws_env`` (fake credentials, unique PIPELINEJOBS_TABLE, ...) pointed at DynamoDB Local.

    Returns the same ``AwsEnv`` with ``endpoint_url`` set; ``.table`` is this test's table name.
    """
    monkeypatch.setenv("AWS_ENDPOINT_URL", dynamodb_local)
    return dataclasses.replace(aws_env, endpoint_url=dynamodb_local)
