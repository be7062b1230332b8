"""A released job's runner can report by curling its callback URL, as a job started with ``orchestration.start``
can (DynamoDB Local + the real ASL in moto + the webhook's handler)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from frontdoors import LambdaContext, callback_request, conforming_webhook
from workflows_support import Stack, task_token_of

import pipelinejobs
from pipelinejobs import workflows
from pipelinejobs.config import Config
from pipelinejobs.runner_status import STATUS_PLACEHOLDER


def test_a_released_jobs_execution_input_carries_a_webhook_url_the_webhook_accepts(stack: Stack):
    stack.pipeline("step")
    pipelinejobs.register_pipeline("outside", task={"launcher": "external"})  # reports back by itself
    wf = workflows.submit({"name": "curls-back", "jobs": {
        "a": {"pipeline": "outside"},
        "b": {"pipeline": "step", "after": ["a"]},
    }})
    [a] = stack.until(lambda: workflows.get(wf.uuid).jobs["a"], what="a released")
    stack.until(lambda: task_token_of(a), what="a waiting on its token")
    [execution] = [e for e in stack.executions() if e["name"].startswith(a)]

    url = json.loads(stack.sfn.sfn.describe_execution(executionArn=execution["executionArn"])["input"])["webhook_url"]

    parts, query = urlsplit(url), parse_qs(urlsplit(url).query)
    assert url.startswith(f"{Config.from_env().api_url}/jobs/{a}/events?")
    assert query["status"] == [STATUS_PLACEHOLDER] and parts.path.endswith(f"/jobs/{a}/events")
    webhook = conforming_webhook()
    for status in ("RUNNING", "SUCCEEDED"):  # the runner, as curl would call it
        response = webhook(callback_request(a, {"token": query["token"][0], "status": status}, None), LambdaContext())
        assert response["statusCode"] == 200, response
    done = stack.wait(wf.uuid)
    assert (done.state, done.counts) == ("FINISHED", {"FINISHED": 2})
