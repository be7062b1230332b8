"""Tokens: HMAC in hourly windows, 72-hour validity, constant-time checks, secrets from AWS."""

from __future__ import annotations

import re
import time

import boto3
import pytest
from moto import mock_aws

from pipelinejobs import tokens
from pipelinejobs.config import Config
from pipelinejobs.errors import ConfigurationError

SECRET = "test-secret"
JOB = "0f8fad5b-d9cb-469f-a165-70867728950e"
OTHER = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
HOUR = 3600


def test_job_token_is_16_lowercase_hex_and_deterministic():
    now = time.time()
    token = tokens.job_token(SECRET, JOB, at=now)
    assert re.fullmatch(r"[0-9a-f]{16}", token)
    assert token == tokens.job_token(SECRET, JOB, at=now)
    assert token != tokens.job_token("other-secret", JOB, at=now)
    assert token != tokens.job_token(SECRET, OTHER, at=now)


@pytest.mark.parametrize(("age_hours", "valid"), [(0, True), (1, True), (70, True), (73, False), (500, False)])
def test_job_token_lives_72_hours(age_hours: float, valid: bool):
    now = time.time()
    token = tokens.job_token(SECRET, JOB, at=now - age_hours * HOUR)
    assert tokens.verify_job_token(SECRET, JOB, token, ttl_hours=72, at=now) is valid


def test_token_window_boundary_is_between_71_and_72_hours():
    issued = 1_000_000 * HOUR + 1800  # half-way through a window
    token = tokens.job_token(SECRET, JOB, at=issued)
    assert tokens.verify_job_token(SECRET, JOB, token, at=issued + 71 * HOUR - 1)
    assert not tokens.verify_job_token(SECRET, JOB, token, at=issued + 72 * HOUR)


def test_token_from_the_future_is_refused():
    now = time.time()
    assert not tokens.verify_job_token(SECRET, JOB, tokens.job_token(SECRET, JOB, at=now + 2 * HOUR), at=now)


def test_other_jobs_token_and_forgeries_are_refused():
    now = time.time()
    assert not tokens.verify_job_token(SECRET, JOB, tokens.job_token(SECRET, OTHER, at=now), at=now)
    assert not tokens.verify_job_token(SECRET, JOB, "0" * 16, at=now)
    assert not tokens.verify_job_token(SECRET, JOB, tokens.job_token("guess", JOB, at=now), at=now)


def test_admin_token_is_32_hex_and_lives_one_to_two_hours():
    now = time.time()
    token = tokens.admin_token(SECRET, at=now)
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert tokens.verify_admin_token(SECRET, token, at=now + HOUR)
    assert not tokens.verify_admin_token(SECRET, token, at=now + 2 * HOUR + 1)
    assert not tokens.verify_admin_token(SECRET, tokens.job_token(SECRET, JOB, at=now), at=now)


def test_secret_from_environment_first():
    assert tokens.secret(Config(table="t", token_secret="env-secret", token_secret_name="/ignored")) == "env-secret"


def test_missing_secret_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="PIPELINEJOBS_TOKEN_SECRET"):
        tokens.secret(Config(table="t"))


@mock_aws
def test_secret_from_ssm_parameter_store(aws_env):
    boto3.client("ssm").put_parameter(Name="/pj/test/token", Value="from-ssm", Type="SecureString")
    assert tokens.secret(Config(table="t", token_secret_name="/pj/test/token")) == "from-ssm"


@mock_aws
def test_secret_from_secrets_manager(aws_env):
    arn = boto3.client("secretsmanager").create_secret(Name="pj-token", SecretString="from-sm")["ARN"]
    assert tokens.secret(Config(table="t", token_secret_name=arn)) == "from-sm"
