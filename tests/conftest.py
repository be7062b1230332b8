"""Shared fixtures: an isolated, fake AWS environment for every test that asks for one."""

from __future__ import annotations

import dataclasses
import os
import secrets
import uuid

import pytest
from hypothesis import HealthCheck, settings

# Property-based tests run a modest number of examples by default, so the suite stays fast;
# HYPOTHESIS_PROFILE=slow runs many more (and with it, rarer inputs). Tests that take
# function-scoped fixtures (a table, a job) reuse them across examples on purpose: each
# example checks that it changed nothing, against a snapshot taken in the example itself.
_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=30, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("slow", max_examples=1000, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@dataclasses.dataclass(frozen=True)
class AwsEnv:
    region: str
    table: str
    token_secret: str
    api_url: str
    endpoint_url: str | None = None  # set only for DynamoDB Local (see tests/integration/conftest.py)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> AwsEnv:
    """Fake credentials and a unique table name, for moto-based unit tests.

    Anything that could point boto3 at a real account or a real endpoint is removed first:
    profiles, session tokens, endpoint overrides, and the user's ~/.aws files.
    """
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)

    env = AwsEnv(
        region="us-east-1",
        table="pj-" + uuid.uuid4().hex[:12],
        token_secret=secrets.token_urlsafe(32),
        # Port 9 (discard): nothing answers, so an accidental real call fails fast.
        api_url="http://127.0.0.1:9/api",
    )
    monkeypatch.setenv("AWS_DEFAULT_REGION", env.region)
    monkeypatch.setenv("AWS_REGION", env.region)  # what the Lambda runtime sets
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("PIPELINEJOBS_TABLE", env.table)
    monkeypatch.setenv("PIPELINEJOBS_TOKEN_SECRET", env.token_secret)
    monkeypatch.setenv("PIPELINEJOBS_API_URL", env.api_url)
    return env
