"""Issue 14 item 5: completion callbacks signed, verified by the documented recipe, every delivery attempt
kept, a failed delivery retried and redelivered; item 3: the stream function keeps each ended job's cost.

The stream function is fed the real records DynamoDB Local's stream holds; the receiver is a local HTTP
listener; the verification recipe is docs/examples/verify_signature.py, the code docs/operations.md shows."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import test_stream_function as stream_tests
from click.testing import CliRunner
from frontdoors import LambdaContext, LoopbackServer

from pipelinejobs import completion_urls, signing
from pipelinejobs.cli.app import cli
from pipelinejobs.notify import completion, deliveries

import support

#: The stream function's tests' fixtures and their reader of DynamoDB Local's stream.
stream_handler, put_events = stream_tests.stream_handler, stream_tests.put_events
stream_event = stream_tests.stream_event
ROOT = Path(__file__).resolve().parents[3]
RECIPE = ROOT / "docs" / "examples" / "verify_signature.py"


def recipe():
    spec = importlib.util.spec_from_file_location("verify_signature", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def receiving(tables, monkeypatch):
    monkeypatch.setenv(completion_urls.ALLOW_PRIVATE_ENV, "1")  # the receiver is on 127.0.0.1
    monkeypatch.setattr(completion, "BACKOFF_BASE_SECONDS", 0.001)


def hooked_job(url: str, name: str):
    job = support.new_job("signed-callbacks")
    return type(job)(job.pipeline_uuid, {"hooked": name}, callback_url=url).setup()


def cli_json(*args: str) -> tuple[int, object]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout or result.stderr)


def test_a_completion_callback_verifies_with_the_recipe_and_a_tampered_one_does_not(
        stream_handler, put_events, receiving, tables):
    with LoopbackServer(lambda *_: (200, b"{}")) as receiver:
        job = hooked_job(f"{receiver.url}/done", "verified")
        job.run()
        job.finish({"exitCode": 0})
        assert stream_handler(stream_event(tables.table), LambdaContext()) == {"batchItemFailures": []}
    [(_, headers, body)] = receiver.requests
    header = headers[signing.HEADER]
    verify = recipe().verify
    assert verify(job.signing_key, header, body)
    assert json.loads(body)["to"] == "FINISHED"
    tampered = body.replace(b'"FINISHED"', b'"FAILED"')
    assert not verify(job.signing_key, header, tampered)
    other = hooked_job(f"{receiver.url}/done", "another job")
    assert not verify(other.signing_key, header, body)  # each job has its own key
    t = int(header.split(",")[0].removeprefix("t="))
    assert not verify(job.signing_key, header, body, now=t + 301)  # older than 5 minutes: a replay


def test_a_failed_delivery_is_retried_each_attempt_kept(stream_handler, put_events, receiving, tables):
    answers = iter([(503, b"{}"), (200, b"{}")])
    with LoopbackServer(lambda *_: next(answers)) as receiver:
        job = hooked_job(receiver.url, "retried")
        job.run()
        job.fail({"reason": "exit 1"})
        stream_handler(stream_event(tables.table), LambdaContext())
    code, listed = cli_json("callbacks", job.uuid)
    assert code == 0
    [delivery] = listed
    assert delivery["delivered"] is True
    assert [a["status"] for a in delivery["attempts"]] == [503, 200]
    assert all(a["at"] for a in delivery["attempts"])
    first, second = (h[signing.HEADER] for _, h, _ in receiver.requests)
    assert all(recipe().verify(job.signing_key, h, receiver.requests[0][2]) for h in (first, second))


def test_a_delivery_that_kept_failing_is_redelivered(stream_handler, put_events, receiving, tables):
    answer = [(500, b"{}")]
    with LoopbackServer(lambda *_: answer[0]) as receiver:
        job = hooked_job(receiver.url, "redelivered")
        job.run()
        job.finish()
        outcome = stream_handler(stream_event(tables.table), LambdaContext())
        assert len(outcome["batchItemFailures"]) == 1  # the record is retried by Lambda ...
        [failed] = deliveries.deliveries(job.uuid)  # ... and every attempt so far is kept
        assert (failed.delivered, [a["status"] for a in failed.attempts]) == (False, [500] * completion.ATTEMPTS)

        answer[0] = (404, b"{}")  # a refusal is not retried, and the redelivery fails
        code, error = cli_json("callbacks", job.uuid, "--redeliver")
        assert code == 1 and "HTTP 404" in error["message"]

        answer[0] = (204, b"")  # the receiver is back
        code, redelivered = cli_json("callbacks", job.uuid, "--redeliver")
    assert code == 0
    assert redelivered["delivered"] is True
    assert [a["status"] for a in redelivered["attempts"]] == [500] * completion.ATTEMPTS + [404, 204]
    _, headers, body = receiver.requests[-1]
    assert body == failed.body.encode()  # the same notification, signed afresh
    assert recipe().verify(job.signing_key, headers[signing.HEADER], body)
    code, error = cli_json("callbacks", job.uuid, "--redeliver")  # nothing failed any more
    assert code == 3 and error["error"] == "DeliveryNotFound"


def test_the_stream_keeps_an_ended_jobs_cost(stream_handler, put_events, tables):
    job = support.new_job("costs")
    job.run()
    code, running = cli_json("cost", job.uuid)
    assert code == 0 and running["final"] is False  # estimated now, not kept: the job has not ended
    job.finish()
    stream_handler(stream_event(tables.table), LambdaContext())
    code, kept = cli_json("cost", job.uuid)
    assert code == 0 and kept["final"] is True
    assert kept["compute_usd"] == 0  # no task was launched
    assert kept["tracking_usd"] > 0
    assert kept["total_usd"] == pytest.approx(kept["compute_usd"] + kept["tracking_usd"])
    assert kept["tracking"]["events_published"] == 3  # CREATED, RUNNING, FINISHED
    assert kept["prices"] == {"date": "2026-11-26", "region": "us-east-1", "currency": "USD"}
    items = {item["sk"]["S"] for item in support.table_items() if item["pk"]["S"] == f"JOB#{job.uuid}"}
    assert "COST" in items


def test_cost_sums_a_pipelines_ended_jobs(stream_handler, put_events, tables):
    ended = [support.new_job("summed", {"n": n}) for n in range(3)]
    for job in ended:
        job.run()
        job.finish()
    running = support.new_job("summed", {"n": "still running"})
    running.run()
    stream_handler(stream_event(tables.table), LambdaContext())
    each = [cli_json("cost", job.uuid)[1] for job in ended]

    code, summed = cli_json("cost", "--pipeline", "summed")
    assert code == 0
    assert (summed["jobs"], summed["unestimated"]) == (3, 1)  # the running job has no estimate yet
    for amount in ("compute_usd", "tracking_usd", "total_usd"):
        assert summed[amount] == pytest.approx(sum(e[amount] for e in each))
    code, recent = cli_json("cost", "--pipeline", "summed", "--since", "1h")
    assert (code, recent["jobs"]) == (0, 3)
    code, error = cli_json("cost", ended[0].uuid, "--pipeline", "summed")
    assert code == 2 and "one of" in error["message"]


def test_cost_sums_a_workflows_jobs(stream_handler, put_events, tables, monkeypatch):
    from types import SimpleNamespace

    from pipelinejobs import workflows

    ended = [support.new_job("in-a-workflow", {"n": n}) for n in range(2)]
    for job in ended:
        job.run()
        job.fail()
    stream_handler(stream_event(tables.table), LambdaContext())
    graph = {"align": [ended[0].uuid], "count": [ended[1].uuid, ended[1].uuid]}  # a job named twice counts once
    monkeypatch.setattr(workflows, "get", lambda uuid: SimpleNamespace(uuid=uuid, jobs=graph))

    code, summed = cli_json("cost", "--workflow", "wf-1")
    assert code == 0
    assert (summed["jobs"], summed["unestimated"]) == (2, 0)
    assert summed["total_usd"] == pytest.approx(sum(cli_json("cost", j.uuid)[1]["total_usd"] for j in ended))


def test_cost_of_an_unknown_workflow_is_not_found(tables):
    code, error = cli_json("cost", "--workflow", "00000000-0000-0000-0000-000000000000")
    assert code == 3, error


def test_a_job_that_asks_hears_of_every_change_signed(stream_handler, put_events, receiving, tables):
    with LoopbackServer(lambda *_: (200, b"{}")) as receiver:
        first = support.new_job("state-changes")
        job = type(first)(first.pipeline_uuid, {"every": 1}, callback_url=receiver.url, callback_changes=True).setup()
        job.run()
        job.update({"progress": 0.5})  # no change of state: nothing to tell
        job.finish()
        stream_handler(stream_event(tables.table), LambdaContext())
    told = [json.loads(body) for _, _, body in receiver.requests]
    assert [(c["from"], c["to"]) for c in told] == [(None, "CREATED"), ("CREATED", "RUNNING"), ("RUNNING", "FINISHED")]
    verify = recipe().verify
    assert all(verify(job.signing_key, headers[signing.HEADER], body) for _, headers, body in receiver.requests)
    assert [(d.kind, d.delivered) for d in deliveries.deliveries(job.uuid)] == [
        ("state_change", True), ("state_change", True), ("completion", True)]
    assert type(first)._from_record(job.refresh().record).callback_changes is True


def test_asking_for_changes_without_a_callback_url_is_refused_naming_the_field(tables):
    from pipelinejobs.errors import InvalidEvent

    first = support.new_job("state-changes")
    with pytest.raises(InvalidEvent) as refused:
        type(first)(first.pipeline_uuid, {"every": 2}, callback_changes=True).setup()
    assert refused.value.errors[0]["field"] == "callback_changes"
