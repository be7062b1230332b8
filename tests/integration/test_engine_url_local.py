"""``pipelinejobs --local engine-url`` against the local stack run as its own process (issue 12, item 4): the address
it prints is the one an engine uses as it is, and the token in it is in none of the stack's log lines.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid as uuidlib
from collections.abc import Iterator
from typing import Any

import pytest
from localstack_process import Stack, running_stack

from pipelinejobs import tokens


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("engine-url-stack")) as running:
        yield running


def call(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    """``method url`` as an engine sends it (JSON, no header of ours), and the answer."""
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(), method=method,
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_printed_address_tracks_a_run_and_its_token_is_never_logged(stack: Stack):
    name = f"engine-url-{uuidlib.uuid4().hex[:8]}"
    pipeline = stack.cli("pipelines", "register", name)["uuid"]

    url = stack.cli("engine-url", "cromwell", "--pipeline", name, "--hours", "2")["url"]  # by name: one read
    token = url.rsplit("/", 1)[1]
    assert url == f"{stack.env['PIPELINEJOBS_API_URL']}/engines/cromwell/{pipeline}/{token}"
    assert tokens.verify_pipeline_token(stack.env["PIPELINEJOBS_TOKEN_SECRET"], pipeline, token)

    run = str(uuidlib.uuid4())
    status, answer = call("POST", url, {"workflowId": run, "state": "Succeeded", "outputs": {"w.out": 5}})
    assert status == 200, answer
    assert stack.cli("workflow", "status", answer["workflow"])["state"] == "FINISHED"

    snakemake = stack.cli("engine-url", "snakemake", "--pipeline", pipeline)["url"]
    assert call("GET", f"{snakemake}/api/service-info") == (200, {"status": "running"})
    forged = snakemake.rsplit("/", 1)[0] + "/" + tokens.pipeline_token("not-the-secret", pipeline)
    assert call("GET", f"{forged}/api/service-info")[0] == 401

    logged = stack.output.read_text().lower()
    assert f"/engines/cromwell/{pipeline}/***" in logged  # the requests were logged, their tokens taken out
    for address in (url, snakemake, forged):
        assert address.rsplit("/", 1)[1] not in logged
    assert not re.search(r"(?<![0-9a-f])[0-9a-f]{48}(?![0-9a-f])", logged)
