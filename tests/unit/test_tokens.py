"""Tokens: HMAC in hourly windows, 72-hour validity, constant-time checks, secrets from AWS."""

from __future__ import annotations

import base64
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


# ---- pipeline tokens (issue 10, item 14) ---------------------------------------------------------


def test_a_pipeline_token_is_48_lowercase_hex_its_expiry_then_its_signature():
    now = 1_000_000 * HOUR + 1800
    token = tokens.pipeline_token(SECRET, JOB, hours=24, at=now)
    assert re.fullmatch(r"[0-9a-f]{48}", token)
    assert int(token[:8], 16) == 1_000_000 + 25  # the end of the hour 24 hours on
    assert tokens.pipeline_token_expiry(token) == (1_000_000 + 25) * HOUR
    assert token != tokens.pipeline_token(SECRET, OTHER, hours=24, at=now)


@pytest.mark.parametrize(("hours", "age_hours", "valid"), [(24, 0, True), (24, 24, True), (24, 25, False),
                                                           (1, 1, True), (1, 2, False)])
def test_a_pipeline_token_lives_its_hours_and_less_than_one_more(hours: int, age_hours: float, valid: bool):
    issued = 1_000_000 * HOUR + 1800
    token = tokens.pipeline_token(SECRET, JOB, hours=hours, at=issued)
    assert tokens.verify_pipeline_token(SECRET, JOB, token, at=issued + age_hours * HOUR) is valid


def test_a_pipeline_token_is_refused_for_another_pipeline_secret_or_expiry():
    token = tokens.pipeline_token(SECRET, JOB)
    assert tokens.verify_pipeline_token(SECRET, JOB, token)
    assert not tokens.verify_pipeline_token(SECRET, OTHER, token)
    assert not tokens.verify_pipeline_token("other-secret", JOB, token)
    later = f"{int(token[:8], 16) + 1000:08x}" + token[8:]  # a longer life, written in by hand
    assert not tokens.verify_pipeline_token(SECRET, JOB, later)
    for malformed in (token.upper(), token[:-1], token + "0", tokens.job_token(SECRET, JOB), "", None):
        assert not tokens.verify_pipeline_token(SECRET, JOB, malformed)


@pytest.mark.parametrize("hours", [0, -1, tokens.PIPELINE_TOKEN_MAX_HOURS + 1])
def test_a_pipeline_tokens_life_is_bounded(hours: int):
    with pytest.raises(ValueError, match="hours"):
        tokens.pipeline_token(SECRET, JOB, hours=hours)


def test_a_pipeline_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch):
    compared = []
    original = tokens.hmac.compare_digest
    monkeypatch.setattr(tokens.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or original(a, b))
    token = tokens.pipeline_token(SECRET, JOB)
    assert not tokens.verify_pipeline_token(SECRET, JOB, token[:8] + "0" * 40)
    assert compared == [(token[8:], "0" * 40)]


# ---- viewer tokens (the dashboard, issue 13) ---------------------------------------------------------------


@pytest.mark.parametrize(("hours", "age_hours", "valid"), [(1, 0, True), (1, 0.99, True), (1, 2.01, False),
                                                          (12, 11.9, True), (12, 13.01, False)])
def test_a_viewer_token_lives_its_hours_and_less_than_one_more(hours: int, age_hours: float, valid: bool):
    now = time.time()
    token = tokens.viewer_token(SECRET, hours=hours, at=now - age_hours * HOUR)
    assert re.fullmatch(r"[0-9a-f]{48}", token)  # the form log redaction already removes
    assert tokens.verify_viewer_token(SECRET, token, at=now) is valid


def test_a_viewer_token_is_neither_a_pipeline_token_nor_another_secrets():
    viewer = tokens.viewer_token(SECRET)
    assert not tokens.verify_viewer_token("other-secret", viewer)
    assert not tokens.verify_pipeline_token(SECRET, JOB, viewer)
    assert not tokens.verify_viewer_token(SECRET, tokens.pipeline_token(SECRET, JOB))
    assert not tokens.verify_viewer_token(SECRET, tokens.admin_token(SECRET))
    with pytest.raises(ValueError, match="hours"):
        tokens.viewer_token(SECRET, hours=tokens.VIEWER_TOKEN_MAX_HOURS + 1)


def test_a_viewer_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch):
    compared = []
    original = tokens.hmac.compare_digest
    monkeypatch.setattr(tokens.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or original(a, b))
    token = tokens.viewer_token(SECRET)
    assert not tokens.verify_viewer_token(SECRET, token[:8] + "0" * 40)
    assert compared == [(token[8:], "0" * 40)]


@pytest.mark.parametrize(("header", "token"), [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None),
                                               ("Bearer", None), ("", None), (None, None)])
def test_the_bearer_token_of_an_authorization_header(header, token):
    assert tokens.bearer(header) == token


@pytest.mark.parametrize(("header", "credentials"), [
    ("Basic " + base64.b64encode(b"pipe:tok").decode(), ("pipe", "tok")),
    ("basic  " + base64.b64encode(b"pipe:tok:en").decode() + " ", ("pipe", "tok:en")),
    ("Basic " + base64.b64encode(b"pipetok").decode(), None), ("Basic " + base64.b64encode(b":tok").decode(), None),
    ("Basic " + base64.b64encode(b"pipe:").decode(), None), ("Basic !!!", None), ("Basic", None),
    ("Bearer abc", None), ("", None), (None, None), ("Basic " + base64.b64encode(b"\xff:\xfe").decode(), None),
])
def test_the_basic_credentials_of_an_authorization_header(header, credentials):
    assert tokens.basic(header) == credentials
