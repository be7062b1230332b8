"""``pipelinejobs token pipeline`` and ``pipelinejobs callback`` as subprocesses (issue 10, item 14).

The environment points every AWS endpoint at a port where nothing answers: a command that made a request
would fail, so these show that minting needs only the secret and the clock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from pipelinejobs import tokens

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
    assert pipelinejobs(aws_env, "token", "pipeline", PIPELINE, "--hours", "0").returncode == 2


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
