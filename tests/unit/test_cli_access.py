"""``pipelinejobs token pipeline``, ``pipelinejobs callback`` (issue 10, item 14) and ``pipelinejobs engine-url``
(issue 12, item 4) as subprocesses.

The environment points every AWS endpoint at a port where nothing answers: a command that made a request
would fail, so these show that minting needs only the secret and the clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from pipelinejobs import tokens
from pipelinejobs.local import discovery

PIPELINE = "8a5c9bbb-c2a1-5a4d-8582-a405913c287f"
NOWHERE = "http://127.0.0.1:9"


def pipelinejobs(aws_env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelinejobs", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "AWS_ENDPOINT_URL": NOWHERE, "AWS_MAX_ATTEMPTS": "1"})


def test_a_pipeline_token_for_a_uuid_is_minted_with_no_request(aws_env):
    started = time.time()
    done = pipelinejobs(aws_env, "token", "pipeline", PIPELINE, "--hours", "5", "--json")

    assert done.returncode == 0, done.stderr
    token = json.loads(done.stdout)["token"]
    assert list(json.loads(done.stdout)) == ["token"]
    assert tokens.verify_pipeline_token(aws_env.token_secret, PIPELINE, token)
    assert started + 5 * 3600 < tokens.pipeline_token_expiry(token) <= time.time() + 6 * 3600


def test_the_global_json_flag_works_too_and_a_bad_hours_is_exit_2(aws_env):
    done = pipelinejobs(aws_env, "--json", "token", "pipeline", PIPELINE)
    assert tokens.verify_pipeline_token(aws_env.token_secret, PIPELINE, json.loads(done.stdout)["token"])
    refused = pipelinejobs(aws_env, "token", "pipeline", PIPELINE, "--hours", "0")
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1  # no click warning first


def test_a_person_sees_the_token_its_pipeline_and_when_it_expires(aws_env):
    done = pipelinejobs(aws_env, "token", "pipeline", PIPELINE)
    assert done.returncode == 0, done.stderr
    assert PIPELINE in done.stdout and "expires" in done.stdout


def test_a_viewer_token_is_minted_with_no_request_and_lives_its_hours(aws_env):
    started = time.time()
    done = pipelinejobs(aws_env, "token", "viewer", "--hours", "3", "--json")
    assert done.returncode == 0, done.stderr
    token = json.loads(done.stdout)["token"]
    assert tokens.verify_viewer_token(aws_env.token_secret, token)
    assert started + 3 * 3600 < tokens.pipeline_token_expiry(token) <= time.time() + 4 * 3600
    shown = pipelinejobs(aws_env, "token", "viewer")
    assert shown.returncode == 0 and "expires" in shown.stdout
    assert pipelinejobs(aws_env, "token", "viewer", "--hours", "0").returncode == 2


def test_the_current_admin_token_is_printed_for_an_admin(aws_env):
    done = pipelinejobs(aws_env, "token", "admin", "--json")
    assert done.returncode == 0, done.stderr
    assert tokens.verify_admin_token(aws_env.token_secret, json.loads(done.stdout)["token"])


# ---- engine-url: the address an engine is given, the token inside it -------------------------------------

ENGINES = ["snakemake", "nextflow", "cromwell", "agave"]


def token_of(url: str, prefix: str) -> str:
    """The token in an engine's address, checked to sit where the routes expect it."""
    assert url.startswith(prefix), url
    return url[len(prefix):].partition("?")[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_address_carries_a_pipeline_token_minted_with_no_request(aws_env, engine):
    started = time.time()
    done = pipelinejobs(aws_env, "engine-url", engine, "--pipeline", PIPELINE, "--hours", "5", "--json")

    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert list(answer) == ["url"]
    token = token_of(answer["url"], f"{aws_env.api_url}/engines/{engine}/{PIPELINE}/")
    assert tokens.verify_pipeline_token(aws_env.token_secret, PIPELINE, token)
    assert started + 5 * 3600 < tokens.pipeline_token_expiry(token) <= time.time() + 6 * 3600
    query = answer["url"].partition("?")[2]
    assert query == ("status=${JOB_STATUS}&job=${JOB_ID}" if engine == "agave" else "")


def test_the_text_output_is_the_address_alone_and_how_to_use_it_goes_to_stderr(aws_env):
    done = pipelinejobs(aws_env, "engine-url", "snakemake", "--pipeline", PIPELINE)

    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert done.stdout == url + "\n"  # `--logger-panoptes-address "$(pipelinejobs engine-url ...)"` works
    token = token_of(url, f"{aws_env.api_url}/engines/snakemake/{PIPELINE}/")
    assert tokens.verify_pipeline_token(aws_env.token_secret, PIPELINE, token)
    assert f"--logger panoptes --logger-panoptes-address '{url}'" in done.stderr
    assert "expires" in done.stderr


def test_nextflow_is_told_of_weblog_basic_token_in_the_text_output_only(aws_env):
    shown = pipelinejobs(aws_env, "engine-url", "nextflow", "--pipeline", PIPELINE)
    assert shown.returncode == 0, shown.stderr
    token = token_of(shown.stdout.strip(), f"{aws_env.api_url}/engines/nextflow/{PIPELINE}/")
    assert f"-with-weblog '{shown.stdout.strip()}'" in shown.stderr
    assert f"url = '{aws_env.api_url}/engines/nextflow'\n    basicToken = '{PIPELINE}:{token}'" in shown.stderr

    as_json = pipelinejobs(aws_env, "--json", "engine-url", "NextFlow", "--pipeline", PIPELINE)  # any case
    assert as_json.returncode == 0, as_json.stderr
    assert "basicToken" not in as_json.stdout + as_json.stderr
    assert list(json.loads(as_json.stdout)) == ["url"]


@pytest.mark.parametrize(("args", "says"), [
    (["engine-url", "airflow", "--pipeline", PIPELINE], "'airflow' is not one of 'snakemake', 'nextflow', "
                                                        "'cromwell', 'agave'"),
    (["engine-url", "snakemake", "--pipeline", PIPELINE, "--hours", "0"], "--hours"),
    (["engine-url", "snakemake", "--pipeline", PIPELINE, "--hours", "9000"], "--hours"),
    (["engine-url", "snakemake", "--pipeline", PIPELINE, "--hours", "a day"], "--hours"),
    (["engine-url", "snakemake"], "--pipeline"),
    (["engine-url", "--pipeline", PIPELINE], "Missing argument 'ENGINE'. Choose from: snakemake, nextflow"),
])
def test_a_bad_engine_or_hours_is_a_one_line_usage_error_exit_2(aws_env, args, says):
    done = pipelinejobs(aws_env, *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert says in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1


def test_without_the_apis_address_it_says_where_to_get_it(aws_env, monkeypatch):
    monkeypatch.delenv("PIPELINEJOBS_API_URL")
    done = pipelinejobs(aws_env, "engine-url", "cromwell", "--pipeline", PIPELINE)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "PIPELINEJOBS_API_URL" in done.stderr and "--local" in done.stderr and "Traceback" not in done.stderr


def test_local_takes_the_local_stacks_address_and_secret(aws_env, monkeypatch, tmp_path):
    monkeypatch.setenv(discovery.STATE_FILE_ENV, str(tmp_path / "local.json"))
    discovery.publish({"PIPELINEJOBS_TABLE": "pj-local", "PIPELINEJOBS_API_URL": "http://127.0.0.1:8787",
                       "PIPELINEJOBS_TOKEN_SECRET": "the-local-one"})

    for args in (["engine-url", "cromwell", "--local"], ["--local", "engine-url", "cromwell"]):
        done = pipelinejobs(aws_env, *args, "--pipeline", PIPELINE, "--json")
        assert done.returncode == 0, done.stderr
        token = token_of(json.loads(done.stdout)["url"], f"http://127.0.0.1:8787/engines/cromwell/{PIPELINE}/")
        assert tokens.verify_pipeline_token("the-local-one", PIPELINE, token)
        assert not tokens.verify_pipeline_token(aws_env.token_secret, PIPELINE, token)
