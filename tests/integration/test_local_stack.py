"""``pipelinejobs local`` as a process of its own, driven as a user would: the CLI, real HTTP, boto3.

Each stack is started with ``python -m pipelinejobs local`` (the console script's command, run by this
interpreter) and its own discovery file; the CLI reaches it with ``--local``. Waits in the stack are real, so the task
templates here check every second.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from localstack_process import Stack, clean_env, running_stack, start_stack, stop_stack
from sfn_harness import wait_until

from pipelinejobs.local import discovery
from pipelinejobs.local.demo import DEADLINE_S, execution_end
from pipelinejobs.local.stack import RESTART_REASON

POLL = {"first": 1, "factor": 1, "cap": 1}
TASK = [sys.executable, "-m", "pipelinejobs.local.demo_task", "--size-kib", "64"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("local-stack")) as running:
        yield running


def register(stack: Stack, name: str, task: dict[str, Any]) -> str:
    return stack.cli("pipelines", "register", f"{name}-{uuidlib.uuid4().hex[:6]}", "--task", json.dumps(task))["uuid"]


def bus_listener(stack: Stack) -> Callable[[], list[dict[str, Any]]]:
    """A queue subscribed to the stack's notification bus; returns a reader of what it received so far."""
    sqs, events = stack.client("sqs"), stack.client("events")
    name = f"listener-{uuidlib.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.env["PIPELINEJOBS_EVENT_BUS"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["pipelinejobs"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    received: list[dict[str, Any]] = []

    def read() -> list[dict[str, Any]]:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            received.append(json.loads(message["Body"]))
        return received

    return read


# ---- the stack on moto -------------------------------------------------------------------------


def test_the_banner_names_the_endpoints_and_the_discovery_file_reaches_them(stack: Stack):
    banner = stack.output.read_text()
    env = stack.env
    for text in (env["PIPELINEJOBS_API_URL"], env["AWS_ENDPOINT_URL"], "pipelinejobs-local-job", "table",
                 env["PIPELINEJOBS_TABLE"]):
        assert text in banner
    assert next(line for line in banner.splitlines() if line.startswith("ready")).startswith("ready: webhook API")
    assert env["PIPELINEJOBS_STATE_MACHINE_ARN"].endswith(":stateMachine:pipelinejobs-local-job")
    assert stack.http("GET", "/openapi.json")[1]["paths"]
    assert stack.http("GET", "/no/such/route") == (404, {"message": "Not Found"})


def test_cli_runs_a_local_job_from_register_to_history_logs_and_stat(stack: Stack):
    pipeline = register(stack, "it-checksum", {"launcher": "local", "params": {"command": TASK}, "poll": POLL})

    run = stack.cli("submit", pipeline, "--data", '{"sample": "it-1"}')
    job = stack.cli("wait", run["uuid"], "--state", "FINISHED", "--state", "FAILED", "--timeout", "60",
                    "--poll", "0.5")

    assert job["state"] == "FINISHED"
    assert stack.cli("status", run["uuid"])["last_event"] == "finish"
    history = stack.cli("history", run["uuid"])
    assert [e["name"] for e in history] == ["create", "update", "resource", "resource", "run", "finish"]
    [log] = stack.cli("logs", run["uuid"])
    assert f"job {run['uuid']}, attempt 1" in log["output"]["stdout"] and "64 KiB" in log["output"]["stdout"]
    assert [(j["uuid"], j["state"]) for j in stack.cli("stat", "--pipeline", pipeline)] == [(run["uuid"], "FINISHED")]
    execution = stack.client("stepfunctions").describe_execution(executionArn=run["execution_arn"])
    assert execution["status"] == "SUCCEEDED"


def launched_external_job(stack: Stack, name: str) -> tuple[dict[str, Any], str]:
    """A run of an external task (one a runner outside reports on), once its launch step has recorded the task
    token Step Functions waits on; and the job's token."""
    pipeline = register(stack, name, {"launcher": "external", "timeout_seconds": 120})
    run = stack.cli("submit", pipeline, "--data", json.dumps({"sample": name}))
    uuid, token = run["uuid"], stack.token(run["uuid"])

    def launched() -> bool:
        status, page = stack.http("GET", f"/jobs/{uuid}?token={token}")
        return status == 200 and any(e["data"].get("status") == "LAUNCHED" for e in page["history"])

    wait_until(launched, timeout=60, what="the external job's launch")
    return run, token


def test_webhook_callbacks_with_the_jobs_token_finish_an_external_job(stack: Stack):
    run, token = launched_external_job(stack, "it-external")
    uuid = run["uuid"]
    assert stack.http("POST", f"/jobs/{uuid}/events?token={'0' * 16}&status=RUNNING", b"{}")[0] == 401
    assert stack.http("POST", f"/jobs/{uuid}/events?token={token}&status=RUNNING", b'{"host": "x"}')[1]["state"] == (
        "RUNNING")
    assert stack.http("POST", f"/jobs/{uuid}/events?token={token}&status=FINISHED", b"{}")[1]["state"] == "FINISHED"

    stepfunctions = stack.client("stepfunctions")
    wait_until(lambda: stepfunctions.describe_execution(executionArn=run["execution_arn"])["status"] == "SUCCEEDED",
               timeout=60, what="the execution to succeed once its task token was settled by the callback")
    assert stack.http("GET", f"/jobs/{uuid}?token={token}")[1]["state"] == "FINISHED"


def test_a_rerun_of_an_external_job_counts_the_runners_identical_curl_callbacks(stack: Stack):
    """Issue 10 item 1: curl's RUNNING and FINISHED, byte for byte the first attempt's, move the rerun too."""
    pipeline = register(stack, "it-again", {"launcher": "external", "timeout_seconds": 120})
    run = stack.cli("submit", pipeline, "--data", '{"sample": "it-again"}')
    uuid, token = run["uuid"], stack.token(run["uuid"])
    stepfunctions = stack.client("stepfunctions")

    def report(execution_arn: str, attempt: int) -> list[tuple[int, Any]]:
        """Wait for the attempt's launch, POST the runner's two callbacks, wait for its execution to succeed."""
        def launched() -> bool:
            status, page = stack.http("GET", f"/jobs/{uuid}?token={token}&order=newest")
            return status == 200 and any(e["data"].get("status") == "LAUNCHED" and e["data"].get("attempt") == attempt
                                         for e in page["history"])

        wait_until(launched, timeout=60, what=f"attempt {attempt}'s launch")
        answers = [stack.http("POST", f"/jobs/{uuid}/events?token={token}&status={status}", b"")
                   for status in ("RUNNING", "FINISHED")]
        wait_until(lambda: stepfunctions.describe_execution(executionArn=execution_arn)["status"] == "SUCCEEDED",
                   timeout=60, what=f"attempt {attempt}'s execution to succeed")
        return answers

    answers = report(run["execution_arn"], 1)
    answers += report(stack.cli("rerun", uuid)["execution_arn"], 2)

    assert [(code, body["duplicate"], body["state"]) for code, body in answers] == [
        (200, False, "RUNNING"), (200, False, "FINISHED")] * 2
    assert [e["name"] for e in stack.cli("history", uuid)].count("finish") == 2


def test_curl_shaped_callbacks_with_the_status_in_the_body_finish_an_external_job(stack: Stack):
    """Issue 10 items 2 and 3 through the HTTP adapter: text is kept as text, an unfilled placeholder is refused,
    and a status only in the body (Agave's JSON, then ``curl -d status=FINISHED``) moves the job and settles
    the task token."""
    run, token = launched_external_job(stack, "it-body-status")
    callback = f"/jobs/{run['uuid']}/events?token={token}"
    form = "application/x-www-form-urlencoded"  # what curl -d says, whatever it sends

    status, answer = stack.http("POST", f"{callback}&status=HEARTBEAT", b"NaN", "text/plain")
    assert (status, answer["event"]) == (200, "update")
    assert stack.http("POST", f"{callback}&status=__STATUS__", b"{}")[0] == 400
    status, answer = stack.http("POST", callback, b'{"id": "agave-7", "status": "RUNNING"}')
    assert (status, answer["state"]) == (200, "RUNNING")
    status, answer = stack.http("POST", callback, b'{"progress":0.5}', form)
    assert (status, answer["event"]) == (200, "update")
    status, answer = stack.http("POST", callback, b"status=FINISHED&host=node-3", form)
    assert (status, answer["state"]) == (200, "FINISHED")

    stepfunctions = stack.client("stepfunctions")
    wait_until(lambda: stepfunctions.describe_execution(executionArn=run["execution_arn"])["status"] == "SUCCEEDED",
               timeout=60, what="the execution to succeed once the body's status settled its task token")
    history = stack.http("GET", f"/jobs/{run['uuid']}?token={token}&order=newest&limit=4")[1]["history"]
    assert [entry["data"] for entry in reversed(history)] == [
        {"body": "NaN", "status": "HEARTBEAT"}, {"id": "agave-7", "status": "RUNNING"}, {"progress": 0.5},
        {"status": "FINISHED", "host": "node-3"}]


def test_kill_then_rerun_through_the_cli(stack: Stack):
    pipeline = register(stack, "it-long", {"launcher": "local", "params": {"command": [*TASK, "--sleep", "600"]},
                                           "poll": POLL})
    run = stack.cli("submit", pipeline, "--data", '{"sample": "it-3"}')
    stack.cli("wait", run["uuid"], "--state", "RUNNING", "--timeout", "60", "--poll", "0.5")

    stack.cli("kill", run["uuid"])

    assert stack.cli("status", run["uuid"])["state"] == "FAILED"
    stepfunctions = stack.client("stepfunctions")
    # Stopped by kill; or, had a step run between kill's write and its StopExecution, ended quietly by that step.
    assert execution_end(stepfunctions, run["execution_arn"]) in ("ABORTED", "SUCCEEDED Superseded")
    [attempt] = stack.cli("attempts", run["uuid"])
    exit_code = Path(attempt["handle"]["directory"]) / "exit_code"  # the local runner records how its task ended
    wait_until(exit_code.exists, timeout=10, what="the killed task to end")
    assert exit_code.read_text() == str(-signal.SIGTERM)

    rerun = stack.cli("rerun", run["uuid"], "--override", json.dumps({"params": {"command": TASK}}))
    job = stack.cli("wait", run["uuid"], "--state", "FINISHED", "--state", "FAILED", "--timeout", "60",
                    "--poll", "0.5")

    assert rerun["uuid"] == run["uuid"] and rerun["execution_arn"] != run["execution_arn"]
    assert job["state"] == "FINISHED"
    names = [e["name"] for e in stack.cli("history", run["uuid"])]
    assert names[names.index("fail"):names.index("fail") + 3] == ["fail", "reset", "ready"]
    assert [(a["number"], a["succeeded"]) for a in stack.cli("attempts", run["uuid"])] == [(1, False), (2, True)]


def test_queue_stream_and_eventbridge_doors_move_jobs_and_changes_are_published(stack: Stack):
    """The events queue (its poller and function), a Batch state change (an EventBridge rule on the default bus
    invoking the events function), and the table's stream (the stream function publishing to the bus)."""
    pipeline = register(stack, "it-doors", {"launcher": "external"})
    listener = bus_listener(stack)
    job = stack.cli("submit", pipeline, "--data", '{"sample": "it-4"}')
    uuid, token = job["uuid"], stack.token(job["uuid"])
    sqs = stack.client("sqs")
    queue = sqs.get_queue_url(QueueName="pipelinejobs-local-EventsQueue")["QueueUrl"]
    dead_letters = sqs.get_queue_url(QueueName="pipelinejobs-local-EventsDeadLetterQueue")["QueueUrl"]

    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"uuid": uuid, "event": "run", "token": token}))
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"uuid": uuid, "event": "run", "token": "f" * 16}))
    wait_until(lambda: stack.cli("status", uuid)["state"] == "RUNNING", timeout=60, what="the queued run event")
    parked = wait_until(lambda: sqs.receive_message(QueueUrl=dead_letters, MessageAttributeNames=["All"]).get(
        "Messages"), timeout=60, what="the message with a forged token in the dead-letter queue")
    assert parked[0]["MessageAttributes"]["status"]["StringValue"] == "401"

    stack.client("events").put_events(Entries=[{
        "Source": "aws.batch", "DetailType": "Batch Job State Change",
        "Detail": json.dumps({"jobName": f"job-{uuid}", "jobId": "b-1", "status": "SUCCEEDED"})}])
    wait_until(lambda: stack.cli("status", uuid)["state"] == "FINISHED", timeout=60, what="the Batch state change")

    def published() -> list[dict[str, Any]]:
        received = listener()
        ended = any(e["detail"]["uuid"] == uuid and e["detail"]["to"] == "FINISHED" for e in received)
        return received if ended else []

    changes = wait_until(published, timeout=60, what="the published changes")
    mine = [(e["detail"]["from"], e["detail"]["to"]) for e in changes if e["detail"]["uuid"] == uuid]
    assert mine == [(None, "CREATED"), ("CREATED", "RUNNING"), ("RUNNING", "FINISHED")]
    assert {e["detail-type"] for e in changes} == {"PipelineJob State Change"}


def test_a_users_execution_moves_its_job_and_ours_are_left_to_orchestration(stack: Stack):
    """Step Functions and HealthOmics rules on the default bus: an execution and a run a user named after their jobs
    end them; an execution of our own job state machine, named after a job too, reaches no job (the rule's
    anything-but, and the function's own check)."""
    pipeline = register(stack, "it-aws-runs", {"launcher": "external"})
    execution, run, ours = (stack.cli("submit", pipeline, "--data", json.dumps({"n": n}))["uuid"] for n in range(3))
    machine = stack.env["PIPELINEJOBS_STATE_MACHINE_ARN"]
    user_machine = machine.rsplit(":", 1)[0] + ":rnaseq-nightly"

    def status_change(machine_arn: str, uuid: str) -> dict[str, Any]:
        arn = f"{machine_arn.replace(':stateMachine:', ':execution:')}:job-{uuid}"
        return {"Source": "aws.states", "DetailType": "Step Functions Execution Status Change",
                "Detail": json.dumps({"executionArn": arn, "stateMachineArn": machine_arn, "name": f"job-{uuid}",
                                      "status": "SUCCEEDED", "startDate": 1795305600000, "stopDate": 1795309200000})}

    stack.client("events").put_events(Entries=[status_change(machine, ours), status_change(user_machine, execution), {
        "Source": "aws.omics", "DetailType": "Run Status Change", "Detail": json.dumps({
            "arn": "arn:aws:omics:us-east-1:123456789012:run/1234567", "runId": "1234567", "runName": f"job-{run}",
            "status": "COMPLETED"})}])
    for uuid in (execution, run):
        wait_until(lambda uuid=uuid: stack.cli("status", uuid)["state"] == "FINISHED", timeout=60, what="the end")
    assert stack.cli("status", ours)["state"] == "CREATED"


def test_the_console_has_a_readable_line_per_request_and_event_and_the_json_goes_to_the_log_file(stack: Stack):
    pipeline = register(stack, "it-console", {"launcher": "external"})
    uuid = stack.cli("submit", pipeline, "--data", '{"sample": "it-7"}')["uuid"]

    assert stack.http("POST", f"/jobs/{uuid}/events?token={'0' * 16}&status=RUNNING", b"{}")[0] == 401

    def said() -> list[str]:
        return stack.output.read_text().splitlines()

    request = re.compile(rf"\d\d:\d\d:\d\d\.\d{{3}} api +POST /jobs/{uuid}/events\?token=\*\*\*&status=RUNNING 401 ")
    wait_until(lambda: any(request.match(line) for line in said()), timeout=30, what="the request's line")
    refused = [line for line in said() if "event refused" in line]
    assert refused and refused[-1].split()[1:5] == ["Webhook", "WARNING", "event", "refused:"]
    assert "status=401" in refused[-1] and "error=missing, invalid or expired token" in refused[-1]
    after_ready = said()[next(n for n, line in enumerate(said()) if line.startswith("ready")):]
    assert not [line for line in after_ready if line.startswith("{") or len(line) > 240]
    logged = [json.loads(line) for line in (stack.state_file.parent / "local.log").read_text().splitlines()]
    refusals = [line for line in logged if line.get("message") == "event refused" and line["source"] == "webhook"]
    assert refusals and {line["function_name"] for line in refusals} == {"pipelinejobs-local-WebhookFunction"}
    [access] = [line for line in logged if line.get("logger") == "pipelinejobs.local.api" and uuid in line["message"]]
    assert "function_name" not in access and "token=***" in access["message"]  # the API's line, not a function's


def test_log_format_json_keeps_the_json_lines_on_the_console(tmp_path: Path):
    stack = start_stack(tmp_path / "stack", "--log-format", "json")
    try:
        pipeline = register(stack, "it-json", {"launcher": "external"})
        uuid = stack.cli("submit", pipeline, "--data", '{"sample": "it-8"}')["uuid"]
        assert stack.http("POST", f"/jobs/{uuid}/events?token={'0' * 16}&status=RUNNING", b"{}")[0] == 401

        def logged() -> list[dict[str, Any]]:
            return [json.loads(line) for line in stack.output.read_text().splitlines() if line.startswith("{")]

        wait_until(lambda: any(line.get("logger") == "pipelinejobs.local.api" for line in logged()), timeout=30,
                   what="the request's JSON line")
        assert any(line.get("message") == "event refused" and line.get("status") == 401
                   and line.get("function_name") == "pipelinejobs-local-WebhookFunction" for line in logged())
        assert not (tmp_path / "stack" / "local.log").exists()
    finally:
        stop_stack(stack)


def test_a_taken_port_is_one_clear_line(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "pipelinejobs", "local", "--port", str(port)], timeout=60,
                              env=clean_env({discovery.STATE_FILE_ENV: str(tmp_path / "local.json")}),
                              capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and f"127.0.0.1:{port}" in done.stderr
    assert "--port" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "local.json").exists()


# ---- the table in DynamoDB Local ---------------------------------------------------------------


def test_the_table_lives_in_dynamodb_local_with_dynamodb_endpoint_and_tasks_end_with_the_stack(
        dynamodb_local: str, tmp_path: Path):
    stage = f"it{uuidlib.uuid4().hex[:8]}"
    stack = start_stack(tmp_path / "stack", "--dynamodb-endpoint", dynamodb_local, "--stage", stage)
    try:
        env = stack.env
        assert env["AWS_ENDPOINT_URL_DYNAMODB"] == dynamodb_local
        assert env["PIPELINEJOBS_TABLE"] == f"pipelinejobs-{stage}"
        local_tables = boto3.client("dynamodb", endpoint_url=dynamodb_local, region_name="us-east-1",
                                    aws_access_key_id="local", aws_secret_access_key="local").list_tables()
        assert env["PIPELINEJOBS_TABLE"] in local_tables["TableNames"]
        moto_dynamodb = boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                                     aws_access_key_id="local", aws_secret_access_key="local")
        assert env["PIPELINEJOBS_TABLE"] not in moto_dynamodb.list_tables()["TableNames"]
        listener = bus_listener(stack)

        pipeline = register(stack, "it-ddblocal", {"launcher": "local", "params": {"command": TASK}, "poll": POLL})
        run = stack.cli("submit", pipeline, "--data", '{"sample": "it-5"}')
        job = stack.cli("wait", run["uuid"], "--state", "FINISHED", "--state", "FAILED", "--timeout", "60",
                        "--poll", "0.5")

        assert job["state"] == "FINISHED"
        assert [j["uuid"] for j in stack.cli("stat", "--pipeline", pipeline)] == [run["uuid"]]
        status, page = stack.http("GET", f"/jobs/{run['uuid']}?token={stack.token(run['uuid'])}")
        assert status == 200 and page["state"] == "FINISHED"
        wait_until(lambda: any(e["detail"]["uuid"] == run["uuid"] and e["detail"]["to"] == "FINISHED"
                               for e in listener()),
                   timeout=60, what="the change read from DynamoDB Local's stream, published")

        long = register(stack, "it-outlive", {"launcher": "local", "params": {"command": [*TASK, "--sleep", "600"]},
                                              "poll": POLL})
        running = stack.cli("submit", long, "--data", '{"sample": "it-6"}')
        stack.cli("wait", running["uuid"], "--state", "RUNNING", "--timeout", "60", "--poll", "0.5")
        [attempt] = stack.cli("attempts", running["uuid"])
        exit_code = Path(attempt["handle"]["directory"]) / "exit_code"
    finally:
        stop_stack(stack)
    assert exit_code.read_text() == str(-signal.SIGTERM)  # stopped with the stack, not left running


# ---- --data-dir: the jobs across a restart ----------------------------------------------------


def test_data_dir_keeps_the_jobs_across_a_restart_and_fails_the_runs_the_stop_ended(tmp_path: Path):
    data = tmp_path / "data"
    stack = start_stack(tmp_path / "first", "--data-dir", str(data))
    try:
        assert f"data            {data}" in stack.output.read_text()
        quick = register(stack, "it-kept", {"launcher": "local", "params": {"command": TASK}, "poll": POLL})
        done = stack.cli("submit", quick, "--data", '{"sample": "it-9"}')["uuid"]
        stack.cli("wait", done, "--state", "FINISHED", "--timeout", "60", "--poll", "0.5")
        long = register(stack, "it-stopped", {"launcher": "local", "params": {"command": [*TASK, "--sleep", "600"]},
                                              "poll": POLL})
        running = stack.cli("submit", long, "--data", '{"sample": "it-10"}')["uuid"]
        stack.cli("wait", running, "--state", "RUNNING", "--timeout", "60", "--poll", "0.5")
        token = stack.token(running)
    finally:
        stop_stack(stack)
    [attempt] = (data / "tasks" / running).iterdir()
    assert (attempt / "exit_code").read_text() == str(-signal.SIGTERM)  # its task was stopped with the stack

    again = start_stack(tmp_path / "second", "--data-dir", str(data))
    try:
        banner = again.output.read_text()
        assert "ended runs      1 job(s) this stack was running when it stopped: FAILED" in banner
        assert again.cli("status", done)["state"] == "FINISHED"  # kept as it was
        ended = again.cli("status", running)
        assert ended["state"] == "FAILED"
        last = again.cli("history", running)[-1]
        assert (last["name"], last["data"]["reason"]) == ("fail", RESTART_REASON)
        assert again.token(running) == token  # the data directory keeps its token secret

        rerun = again.cli("rerun", running, "--override", json.dumps({"params": {"command": TASK}}))
        finished = again.cli("wait", running, "--state", "FINISHED", "--state", "FAILED", "--timeout", "60",
                             "--poll", "0.5")
        assert rerun["uuid"] == running and finished["state"] == "FINISHED"
    finally:
        stop_stack(again)


def test_without_data_dir_the_banner_says_the_data_is_in_memory(stack: Stack):
    assert "data            in memory: gone when the stack stops (--data-dir DIR keeps it)" in stack.output.read_text()


# ---- the demo ----------------------------------------------------------------------------------


def test_the_demo_runs_four_jobs_and_a_workflow_to_their_expected_end_and_exits_0(tmp_path: Path):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pipelinejobs", "demo"],
                          env=clean_env({"TMPDIR": str(tmp_path), "COLUMNS": "160"}), capture_output=True,
                          text=True, timeout=240)

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "demo passed" in done.stdout
    for line in ("checksum: job FINISHED", "flaky: job FINISHED", "external: job FINISHED", "killed: job FAILED",
                 "flaky: attempt 1 exited 3, attempt 2 succeeded", "flaky: RUNNING when its attempt 2 was launched",
                 "killed: last event fail with reason killed", "workflow: FINISHED",
                 "workflow counters {'FINISHED': 5}, the jobs' own states {'FINISHED': 5}",
                 "checksum of file-2.bin: 2 attempt(s), the first exited 3, the last succeeded",
                 "report: its data holds the checksum of every file (3 of 3, each equal to the demo's own SHA-256)"):
        assert f"✓ {line}" in done.stdout
    assert "✗" not in done.stdout
    # The graph, as `workflow graph` prints it: every node finished.
    for node in ('n0["generate<br/>FINISHED"]:::finished', 'n1["checksum (3 jobs)<br/>3 FINISHED"]:::finished',
                 'n2["report<br/>FINISHED"]:::finished', "n0 --> n1", "n1 --> n2"):
        assert node in done.stdout
    assert "the workflow's counters (one read): 5 FINISHED" in done.stdout
    assert time.monotonic() - started < DEADLINE_S + 30  # the demo's own bound, and the stack's stop
    assert not list(tmp_path.glob("pipelinejobs-demo-*")), "a passing demo cleans up after itself"
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("demo passed in ") and "pipelinejobs-demo-" not in last  # names nothing it deleted
