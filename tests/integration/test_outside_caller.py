"""A caller outside AWS (issue 10, item 14): the SDK with only the API's URL and a pipeline token.

The local stack runs as its own process (``localstack_process``); the admin's CLI mints the token, and the
caller's SDK runs in a subprocess whose environment holds nothing of AWS or pipelinejobs: no table, no
credentials, no secret, no endpoint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid as uuidlib
from collections.abc import Iterator

import pytest
from localstack_process import Stack, clean_env, running_stack

from pipelinejobs import identity, tokens
from pipelinejobs.runner_status import STATUS_PLACEHOLDER

CALLER = """
import json, sys
from pipelinejobs import PipelineJob, WebhookTransport

api, token, pipeline = sys.argv[1:]
transport = WebhookTransport(api, token=token)
job = PipelineJob(pipeline, {"sample": "outside"}, transport=transport).setup()
again = PipelineJob(pipeline, {"sample": "outside"}, transport=transport).setup()
job.run({"host": "elsewhere"}).finish()
print(json.dumps({"uuid": job.uuid, "again": again.uuid, "token": job.token, "callback": job.callback,
                  "state": job.refresh().state, "history": [entry.name for entry in job.history]}))
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("outside-stack")) as running:
        yield running


def outside_env(home: str) -> dict[str, str]:
    """Nothing that could reach AWS or the table: no AWS_* or PIPELINEJOBS_* variables, no ~/.aws."""
    env = clean_env({"HOME": home, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                     "AWS_EC2_METADATA_DISABLED": "true"})
    assert not [name for name in env if name.startswith("PIPELINEJOBS_") or name in (
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION")]
    return env


@pytest.mark.parametrize("by", ["name", "uuid"])
def test_the_sdk_creates_and_moves_a_job_with_only_the_api_url_and_a_pipeline_token(stack: Stack, tmp_path, by):
    name = f"outside-{uuidlib.uuid4().hex[:8]}"
    pipeline = stack.cli("pipelines", "register", name, "--task", json.dumps({"launcher": "external"}))["uuid"]
    token = stack.cli("token", "pipeline", name, "--hours", "2")["token"]
    assert tokens.verify_pipeline_token(stack.env["PIPELINEJOBS_TOKEN_SECRET"], pipeline, token)

    done = subprocess.run([sys.executable, "-c", CALLER, stack.env["PIPELINEJOBS_API_URL"], token,
                           name if by == "name" else pipeline],
                          env=outside_env(str(tmp_path)), capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr[-4000:]
    job = json.loads(done.stdout)
    uuid = identity.job_uuid(pipeline, {"sample": "outside"}, [])
    assert (job["uuid"], job["again"]) == (uuid, uuid)
    assert (job["state"], job["history"]) == ("FINISHED", ["create", "run", "finish"])
    assert tokens.verify_job_token(stack.env["PIPELINEJOBS_TOKEN_SECRET"], uuid, job["token"])
    assert job["callback"] == (f"{stack.env['PIPELINEJOBS_API_URL']}/jobs/{uuid}/events?token={job['token']}"
                               f"&status={STATUS_PLACEHOLDER}")
    assert stack.cli("status", uuid)["state"] == "FINISHED"


def test_the_callback_command_shows_the_url_and_token_the_api_hands_out(stack: Stack):
    name = f"outside-{uuidlib.uuid4().hex[:8]}"
    pipeline = stack.cli("pipelines", "register", name, "--task", json.dumps({"launcher": "external"}))["uuid"]
    job = stack.cli("submit", pipeline, "--data", '{"sample": "cb"}')

    shown = stack.cli("callback", job["uuid"])

    assert tokens.verify_job_token(stack.env["PIPELINEJOBS_TOKEN_SECRET"], job["uuid"], shown["token"])
    assert shown["url"] == (f"{stack.env['PIPELINEJOBS_API_URL']}/jobs/{job['uuid']}/events?token={shown['token']}"
                            f"&status={STATUS_PLACEHOLDER}")
    status, answer = stack.http("POST", shown["url"].removeprefix(stack.env["PIPELINEJOBS_API_URL"])
                                .replace(STATUS_PLACEHOLDER, "RUNNING"), b"{}")
    assert (status, answer["state"]) == (200, "RUNNING")
    assert stack.cli("callback", str(uuidlib.uuid4()), expect=3).returncode == 3
