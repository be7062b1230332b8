"""The CLI on moto: each command's output, --json, and exit codes that scripts can rely on."""

from __future__ import annotations

import json
import os
from unittest import mock

import pytest
from click.testing import CliRunner
from moto import mock_aws

import pipelinejobs as pj
from pipelinejobs.cli.app import cli

from support import new_job


@pytest.fixture(autouse=True)
def moto(aws_env):
    # The CLI sets the environment the SDK reads (--local, --stack): in this process, it is put back after.
    with mock_aws(), mock.patch.dict(os.environ):
        pj.create_tables()
        yield


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_register_then_list_pipelines_as_json():
    code, out, _ = run("--json", "pipelines", "register", "rnaseq", "-c", "align", "-c", "count",
                       "--task", '{"launcher": "local"}')
    assert code == 0
    registered = json.loads(out)
    assert registered["components"] == ["align", "count"] and registered["task"] == {"launcher": "local"}
    code, out, _ = run("--json", "pipelines", "list")
    assert [p["uuid"] for p in json.loads(out)] == [registered["uuid"]]


def test_status_history_and_stat_show_the_job():
    job = new_job().run({"host": "n1"})
    code, out, _ = run("--json", "status", job.uuid)
    assert code == 0 and json.loads(out)["state"] == "RUNNING"
    code, out, _ = run("--json", "history", job.uuid, "--newest-first", "--limit", "1")
    assert [e["name"] for e in json.loads(out)] == ["run"]
    code, out, _ = run("history", job.uuid)
    assert code == 0 and "create" in out and "2 row(s)" in out
    code, out, _ = run("--json", "stat", "--state", "RUNNING")
    assert [j["uuid"] for j in json.loads(out)] == [job.uuid]
    code, out, _ = run("stat", "--pipeline", job.pipeline_uuid)
    assert code == 0 and job.uuid[:8] in out


def test_events_send_with_table_access_and_with_a_token():
    job = new_job()
    code, out, _ = run("--json", "events", "send", job.uuid, "run", "--data", '{"k": 1}', "--id", "x1")
    assert code == 0 and json.loads(out)["state"] == "RUNNING"
    code, out, _ = run("--json", "events", "send", job.uuid, "finish", "--token", job.token)
    assert code == 0 and json.loads(out)["state"] == "FINISHED"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("status", "7c9e6679-7425-40de-944b-e07fc1f90ae7"), 3, "not found"),
        (("events", "send", "{job}", "finish"), 4, "not allowed from CREATED"),
        (("events", "send", "{job}", "run", "--token", "0123456789abcdef"), 5, "invalid or expired token"),
        (("events", "send", "{job}", "run", "--data", "{oops"), 2, "not valid JSON"),
        (("events", "send", "{job}", "run", "--data", "[1]"), 2, "data"),
    ],
)
def test_errors_are_one_line_with_meaningful_exit_codes(args, code: int, message: str):
    job = new_job()
    exit_code, _, err = run(*(a.replace("{job}", job.uuid) for a in args))
    assert exit_code == code
    assert message in err and "Traceback" not in err


def test_wait_returns_the_job_once_in_state():
    job = new_job().run().finish()
    code, out, _ = run("--json", "wait", job.uuid, "--timeout", "5", "--poll", "0.1")
    assert code == 0 and json.loads(out)["state"] == "FINISHED"


def test_wait_times_out_with_exit_6():
    job = new_job()
    code, _, err = run("wait", job.uuid, "--state", "FINISHED", "--timeout", "0.3", "--poll", "0.1")
    assert code == 6 and "is CREATED" in err


def test_fsm_prints_mermaid():
    code, out, _ = run("fsm")
    assert code == 0 and out.startswith("stateDiagram-v2") and "RESET --> CREATED: ready" in out


def test_local_reads_the_running_stacks_discovery_file(aws_env, monkeypatch, tmp_path):
    from pipelinejobs.local import discovery

    monkeypatch.setenv(discovery.STATE_FILE_ENV, str(tmp_path / "local.json"))
    code, _, err = run("--local", "stat")
    assert code == 1 and "no local stack is running" in err
    job = new_job()
    monkeypatch.setenv("PIPELINEJOBS_TABLE", "pj-elsewhere")  # the discovery file must win over this,
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")  # and these, which it does not set,
    monkeypatch.setenv("PIPELINEJOBS_STATE_MACHINE_ARN", "arn:aws:states:us-east-1:1:stateMachine:prod")  # go
    discovery.publish({"PIPELINEJOBS_TABLE": aws_env.table})
    code, out, _ = run("--json", "--local", "stat")
    assert code == 0 and [j["uuid"] for j in json.loads(out)] == [job.uuid]
    assert "PIPELINEJOBS_STATE_MACHINE_ARN" not in os.environ


def test_stack_reads_the_cloudformation_outputs(aws_env, monkeypatch):
    import boto3

    from pipelinejobs.cli.targets import STACK_OUTPUTS

    job = new_job()
    outputs = {key: {"Value": f"value-of-{key}"} for key in STACK_OUTPUTS} | {"TableName": {"Value": aws_env.table}}
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}, "Outputs": outputs}
    boto3.client("cloudformation").create_stack(StackName="pj-test", TemplateBody=json.dumps(template))
    monkeypatch.setenv("PIPELINEJOBS_TABLE", "pj-elsewhere")
    code, out, _ = run("--json", "--stack", "pj-test", "status", job.uuid)
    assert code == 0 and json.loads(out)["uuid"] == job.uuid
    code, _, err = run("--stack", "no-such-stack", "stat")
    assert code != 0 and "no-such-stack" in err and "Traceback" not in err
