"""Launchers against moto's Batch, ECS and Lambda, and the local launcher with real subprocesses.

moto's Batch runs no container without Docker; with ``batch.use_docker`` off it marks a submitted
job SUCCEEDED at once (or FAILED, with MOTO_SIMPLE_BATCH_FAIL_AFTER=0), so these tests check what
we send and how we read what comes back, not a container's life. moto's ECS walks a task through
its statuses one DescribeTasks at a time, which is enough to follow it to STOPPED.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from sfn_harness import moto_batch_queue, running, wait_until

from pipelinejobs.config import MAX_DATA_BYTES
from pipelinejobs.errors import LaunchFailed
from pipelinejobs.launchers import LAUNCHERS, LaunchRequest, Phase
from pipelinejobs.launchers.aws import client
from pipelinejobs.launchers.local import MAX_OUTPUTS_BYTES, OUTPUTS_FILE

UUID = "0b5e4c7e-6a47-5d1c-9f5a-3c2d1e0f9a8b"
ENV = {"PIPELINEJOBS_JOB_UUID": UUID, "PIPELINEJOBS_ATTEMPT": "1"}


def request(params: dict, attempt: int = 1, retried: bool = False) -> LaunchRequest:
    return LaunchRequest(job_uuid=UUID, attempt=attempt, params=params, name=f"pj-{UUID}-{attempt}",
                         env={**ENV, "PIPELINEJOBS_ATTEMPT": str(attempt)}, job={"uuid": UUID, "attempt": attempt},
                         retried=retried)


# ---- local ---------------------------------------------------------------------------------


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PIPELINEJOBS_LOCAL_DIR", str(tmp_path))
    return LAUNCHERS["local"]


def python(code: str) -> dict:
    return {"command": [sys.executable, "-c", code]}


def ended(launcher, handle):
    return wait_until(lambda: (s := launcher.check(handle)).phase in (Phase.SUCCEEDED, Phase.FAILED) and s,
                      what="the task to end")


def test_local_task_output_and_environment_are_kept_per_attempt(local, tmp_path: Path):
    code = "import os; print('attempt', os.environ['PIPELINEJOBS_ATTEMPT'], os.environ['GREETING'])"
    handles = [local.launch(request({**python(code), "env": {"GREETING": "hi"}}, attempt=n)) for n in (1, 2)]

    for launched in handles:
        status = ended(local, launched.handle)
        assert (status.phase, status.exit_code) == (Phase.SUCCEEDED, 0)
    outputs = [Path(launched.log["files"]["stdout"]).read_text() for launched in handles]
    assert outputs == ["attempt 1 hi\n", "attempt 2 hi\n"]
    assert Path(handles[1].handle["directory"]) == tmp_path / UUID / "2"


def test_local_task_failure_reports_the_exit_code_and_keeps_stderr(local):
    launched = local.launch(request(python("import sys; sys.stderr.write('nope'); sys.exit(4)")))

    status = ended(local, launched.handle)

    assert (status.phase, status.exit_code, status.reason) == (Phase.FAILED, 4, "exited with 4")
    assert Path(launched.log["files"]["stderr"]).read_text() == "nope"


def test_local_task_reports_the_json_object_it_writes_to_its_outputs_file(local):
    write = "import json, os; json.dump({'bam': 'a.bam', 'n': 2}, open(os.environ['PIPELINEJOBS_OUTPUTS'], 'w'))"
    status = ended(local, local.launch(request(python(write))).handle)
    assert (status.phase, status.outputs) == (Phase.SUCCEEDED, {"bam": "a.bam", "n": 2})

    assert ended(local, local.launch(request(python("pass"), attempt=2)).handle).outputs is None  # wrote none


def test_local_task_outputs_that_are_not_a_json_object_fail_the_attempt_saying_so(local):
    write = "import os; open(os.environ['PIPELINEJOBS_OUTPUTS'], 'w').write('[1, 2]')"
    status = ended(local, local.launch(request(python(write))).handle)
    assert (status.phase, status.exit_code) == (Phase.FAILED, 0)
    assert status.reason == "outputs.json must hold a JSON object, not list"


def test_local_task_cancel_stops_the_command_and_records_the_signal(local):
    launched = local.launch(request(python("import time; print('started', flush=True); time.sleep(60)")))
    wait_until(lambda: Path(launched.log["files"]["stdout"]).read_text(), what="the command to start")
    assert local.check(launched.handle).phase == Phase.RUNNING

    local.cancel(launched.handle, "killed")

    status = ended(local, launched.handle)
    assert (status.phase, status.exit_code, status.reason) == (Phase.FAILED, -15, "killed by SIGTERM")
    local.cancel(launched.handle, "again")  # harmless once it is gone


def test_a_cancel_before_the_runner_has_started_is_recorded_and_the_command_never_runs(local, tmp_path: Path):
    """The race of a kill right after launch, made certain: the runner's interpreter takes a second to start
    (a sitecustomize that sleeps), and the SIGTERM comes during that second, before any handler of its own."""
    slow_start = tmp_path / "slow-start"
    slow_start.mkdir()
    (slow_start / "sitecustomize.py").write_text("import time\ntime.sleep(1)\n")
    ran = tmp_path / "the-command-ran"
    launched = local.launch(request({**python(f"open({str(ran)!r}, 'w')"), "env": {"PYTHONPATH": str(slow_start)}}))

    local.cancel(launched.handle, "killed")

    status = ended(local, launched.handle)
    assert (status.phase, status.exit_code, status.reason) == (Phase.FAILED, -15, "killed by SIGTERM")
    assert not ran.exists()


def test_stop_all_stops_the_tasks_this_process_launched_that_still_run(local):
    """What the local stack calls as it stops: its tasks do not outlive it."""
    from pipelinejobs.launchers import local as local_module

    local_module.stop_all()  # none of an earlier test's left over
    sleepers = [local.launch(request(python("import time; time.sleep(60)"), attempt=n)) for n in (1, 2)]
    quick = local.launch(request(python("pass"), attempt=3))
    assert ended(local, quick.handle).phase == Phase.SUCCEEDED
    wait_until(lambda: not local_module._alive(quick.handle["pid"]), what="the quick task's runner to exit")

    assert local_module.stop_all() == 2
    for launched in sleepers:
        status = local.check(launched.handle)  # the runners have recorded how they ended: no waiting here
        assert (status.phase, status.reason) == (Phase.FAILED, "killed by SIGTERM")
    assert local_module.stop_all() == 0


def test_a_local_task_that_vanishes_is_failed_not_running_forever(local):
    launched = local.launch(request(python("import time; time.sleep(60)")))
    os.killpg(launched.handle["pid"], signal.SIGKILL)  # the runner too: nobody records an exit code

    status = ended(local, launched.handle)

    assert (status.phase, status.detail) == (Phase.FAILED, "VANISHED")


def test_a_local_command_that_does_not_exist_fails_with_127(local):
    launched = local.launch(request({"command": ["/no/such/program"]}))
    assert ended(local, launched.handle).exit_code == 127
    assert "cannot run '/no/such/program'" in Path(launched.log["files"]["stderr"]).read_text()


def test_a_local_task_outputs_file_that_is_not_json_fails_the_attempt_saying_so(local):
    write = "import os; open(os.environ['PIPELINEJOBS_OUTPUTS'], 'w').write('{not json')"
    status = ended(local, local.launch(request(python(write))).handle)

    assert (status.phase, status.exit_code) == (Phase.FAILED, 0)
    assert status.reason.startswith("outputs.json is not JSON: ")



def test_a_local_task_outputs_file_too_large_for_an_event_fails_the_attempt_naming_the_file_and_limit(local):
    write = "import json, os; json.dump({'big': 'x' * 40000}, open(os.environ['PIPELINEJOBS_OUTPUTS'], 'w'))"
    launched = local.launch(request(python(write)))
    status = ended(local, launched.handle)

    assert (status.phase, status.exit_code, status.outputs) == (Phase.FAILED, 0, None)
    path = Path(launched.handle["directory"]) / OUTPUTS_FILE
    assert status.reason.startswith(f"{path} is 40010 bytes as compact JSON; outputs may take at most "
                                    f"{MAX_OUTPUTS_BYTES} (a finish event's data holds {MAX_DATA_BYTES})")

# ---- AWS Batch -----------------------------------------------------------------------------


@pytest.fixture
def batch(aws_env):
    with mock_aws(config={"batch": {"use_docker": False}}):
        role = boto3.client("iam").create_role(RoleName="batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        yield {**moto_batch_queue(role), "containerOverrides": {"environment": [{"name": "SAMPLE", "value": "s1"}]},
               "tags": {"team": "a"}}


def test_batch_submits_the_params_with_the_jobs_environment(batch):
    launched = LAUNCHERS["batch"].launch(request(batch))

    [job] = boto3.client("batch").describe_jobs(jobs=[launched.handle["job_id"]])["jobs"]
    assert job["jobName"] == f"pj-{UUID}-1"
    environment = {e["name"]: e["value"] for e in job["container"]["environment"]}
    assert environment | {"SAMPLE": "s1", **ENV} == environment
    assert job["tags"] == {"team": "a"}


def test_batch_status_exit_and_log_stream_are_read_back(batch):
    launched = LAUNCHERS["batch"].launch(request(batch))

    status = LAUNCHERS["batch"].check(launched.handle)

    assert (status.phase, status.detail) == (Phase.SUCCEEDED, "SUCCEEDED")
    assert status.log["cloudwatch"]["group"] == "/aws/batch/job"
    assert launched.handle["job_id"] in status.log["cloudwatch"]["stream"]


def test_batch_failure_and_missing_jobs_are_failed(batch, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")
    launched = LAUNCHERS["batch"].launch(request(batch))

    assert LAUNCHERS["batch"].check(launched.handle).phase == Phase.FAILED
    assert LAUNCHERS["batch"].check({"job_id": "no-such-job"}).detail == "MISSING"


def batch_jobs_named(batch: dict, name: str) -> list[str]:
    listed = boto3.client("batch").list_jobs(jobQueue=batch["jobQueue"],
                                            filters=[{"name": "JOB_NAME", "values": [name]}])
    return [job["jobId"] for job in listed["jobSummaryList"]]


def test_a_retried_batch_launch_adopts_the_job_submitted_before_instead_of_submitting_again(batch):
    first = LAUNCHERS["batch"].launch(request(batch))  # ...and the launch step died before recording it

    again = LAUNCHERS["batch"].launch(request(batch, retried=True))

    assert again.handle == first.handle
    assert batch_jobs_named(batch, f"pj-{UUID}-1") == [first.handle["job_id"]]


def test_a_retried_batch_launch_submits_when_nothing_of_its_attempt_was_submitted(batch):
    previous = LAUNCHERS["batch"].launch(request(batch, attempt=1))

    launched = LAUNCHERS["batch"].launch(request(batch, attempt=2, retried=True))

    assert launched.handle != previous.handle
    assert batch_jobs_named(batch, f"pj-{UUID}-2") == [launched.handle["job_id"]]


def test_a_retried_batch_launch_that_may_not_list_jobs_submits_as_before(batch):
    with Stubber(client("batch")) as stub:
        stub.add_client_error("list_jobs", "AccessDeniedException", http_status_code=403)
        stub.add_response("submit_job", {"jobArn": "arn:job", "jobName": f"pj-{UUID}-1", "jobId": "j-1"},
                          {"jobQueue": batch["jobQueue"], "jobDefinition": batch["jobDefinition"], "tags": ANY,
                           "jobName": f"pj-{UUID}-1", "containerOverrides": ANY})
        launched = LAUNCHERS["batch"].launch(request(batch, retried=True))
        stub.assert_no_pending_responses()
    assert launched.handle == {"job_id": "j-1"}


def test_a_first_batch_launch_submits_without_looking(batch, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(type(LAUNCHERS["batch"]), "submitted", lambda *_: pytest.fail("listed jobs on a first launch"))

    LAUNCHERS["batch"].launch(request(batch))
    LAUNCHERS["batch"].launch(request(batch))  # a first launch never looks: two launches, two jobs

    assert len(batch_jobs_named(batch, f"pj-{UUID}-1")) == 2


def test_batch_cancel_terminates_the_job(batch):
    launched = LAUNCHERS["batch"].launch(request(batch))
    with Stubber(client("batch")) as stub:
        stub.add_response("terminate_job", {}, {"jobId": launched.handle["job_id"], "reason": "killed"})
        LAUNCHERS["batch"].cancel(launched.handle, "killed")
        stub.assert_no_pending_responses()


# ---- Amazon ECS ----------------------------------------------------------------------------


@pytest.fixture
def ecs(aws_env, monkeypatch: pytest.MonkeyPatch):
    # moto 5.2.1's awsvpc tasks read an ENI attribute its ENIs lack; give them one.
    monkeypatch.setattr(NetworkInterface, "private_dns_name", property(lambda eni: f"{eni.id}.ec2.internal"),
                        raising=False)
    with mock_aws():
        ec2 = boto3.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
        aws = boto3.client("ecs")
        aws.create_cluster(clusterName="pipelinejobs")
        aws.register_task_definition(
            family="pipelinejobs-align", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
            memory="512", containerDefinitions=[
                {"name": "main", "image": "busybox", "cpu": 256, "memory": 512, "logConfiguration": {
                    "logDriver": "awslogs", "options": {"awslogs-group": "/ecs/align", "awslogs-stream-prefix": "pj",
                                                        "awslogs-region": "us-east-1"}}},
                {"name": "sidecar", "image": "busybox", "essential": False, "cpu": 0, "memory": 64},
            ])
        yield aws, {"cluster": "pipelinejobs", "taskDefinition": "pipelinejobs-align",
                    "networkConfiguration": {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}}}


def test_ecs_runs_a_fargate_task_with_the_jobs_environment_on_essential_containers(ecs):
    aws, params = ecs
    overrides = {"containerOverrides": [{"name": "main", "command": ["align"],
                                         "environment": [{"name": "SAMPLE", "value": "s1"}]}]}

    launched = LAUNCHERS["ecs"].launch(request({**params, "overrides": overrides}))

    [task] = aws.describe_tasks(cluster="pipelinejobs", tasks=[launched.handle["task_arn"]])["tasks"]
    assert (task["launchType"], task["startedBy"]) == ("FARGATE", "pipelinejobs")
    [main] = task["overrides"]["containerOverrides"]
    assert main["command"] == ["align"]
    assert {e["name"]: e["value"] for e in main["environment"]} == {"SAMPLE": "s1", **ENV}
    task_id = launched.handle["task_arn"].rsplit("/", 1)[-1]
    assert launched.log == {"cloudwatch": {"group": "/ecs/align", "stream": f"pj/main/{task_id}"}}


def test_ecs_task_is_followed_to_stopped(ecs):
    _, params = ecs
    launched = LAUNCHERS["ecs"].launch(request(params))

    details = []
    while not details or details[-1].phase not in (Phase.SUCCEEDED, Phase.FAILED):
        details.append(LAUNCHERS["ecs"].check(launched.handle))
        assert len(details) < 10

    assert [s.phase for s in details[:-1]] == [Phase.RUNNING] * (len(details) - 1)
    assert (details[-1].detail, details[-1].phase, details[-1].exit_code) == ("STOPPED", Phase.SUCCEEDED, 0)


def test_ecs_cancel_stops_the_task_and_missing_tasks_are_failed(ecs):
    aws, params = ecs
    launched = LAUNCHERS["ecs"].launch(request(params))

    LAUNCHERS["ecs"].cancel(launched.handle, "killed")

    [task] = aws.describe_tasks(cluster="pipelinejobs", tasks=[launched.handle["task_arn"]])["tasks"]
    assert (task["lastStatus"], task["stoppedReason"]) == ("STOPPED", "killed")
    missing = launched.handle["task_arn"].rsplit("/", 1)[0] + "/00000000000000000000000000000000"
    assert LAUNCHERS["ecs"].check({"cluster": "pipelinejobs", "task_arn": missing}).detail == "MISSING"


def test_ecs_stop_stops_the_task_and_sees_it_stopped(ecs):
    aws, params = ecs
    launched = LAUNCHERS["ecs"].launch(request(params))

    assert LAUNCHERS["ecs"].stop(launched.handle, "killed", confirm_seconds=5, poll_seconds=0) is True

    [task] = aws.describe_tasks(cluster="pipelinejobs", tasks=[launched.handle["task_arn"]])["tasks"]
    assert (task["lastStatus"], task["stoppedReason"]) == ("STOPPED", "killed")  # moto records the StopTask


def test_local_stop_ends_the_command_and_sees_its_end(local):
    launched = LAUNCHERS["local"].launch(request(python("import time; time.sleep(60)")))

    assert LAUNCHERS["local"].stop(launched.handle, "killed", confirm_seconds=10, poll_seconds=0.01) is True

    status = LAUNCHERS["local"].check(launched.handle)
    assert (status.exit_code, status.failure) == (-signal.SIGTERM, "killed")


@pytest.mark.parametrize("name", ["lambda", "external"])
def test_tasks_that_cannot_be_cancelled_say_so_when_stopped(name: str):
    assert LAUNCHERS[name].stop({}, "killed") == "uncancellable"


def test_ecs_refusing_to_place_a_task_is_a_launch_failure(ecs):
    _, params = ecs
    with Stubber(client("ecs")) as stub:
        stub.add_response("describe_task_definition", {"taskDefinition": {"containerDefinitions": [{"name": "main"}]}})
        stub.add_response("run_task", {"tasks": [], "failures": [{"reason": "RESOURCE:MEMORY"}]},
                          {**params, "launchType": "FARGATE", "startedBy": "pipelinejobs", "overrides": ANY,
                           "clientToken": f"pj-{UUID}-1"})
        with pytest.raises(LaunchFailed, match="RESOURCE:MEMORY"):
            LAUNCHERS["ecs"].launch(request(params))


# ---- AWS Lambda and external ---------------------------------------------------------------


def test_lambda_invokes_the_function_asynchronously_with_the_job(aws_env, monkeypatch, tmp_path):
    with running(monkeypatch, tmp_path) as harness:
        received = []
        harness.add_function("pipelinejobs-task-fn", received.append)

        launched = LAUNCHERS["lambda"].launch(request({"FunctionName": "pipelinejobs-task-fn", "Payload": {"x": 1}}))

        assert received == [{"x": 1, "pipelinejobs": {"uuid": UUID, "attempt": 1}}]
        assert launched.handle["function"] == "pipelinejobs-task-fn"
        assert launched.log["cloudwatch"] == {"group": "/aws/lambda/pipelinejobs-task-fn",
                                              "request_id": launched.handle["request_id"]}
        assert LAUNCHERS["lambda"].check(launched.handle).phase == Phase.RUNNING


def test_lambda_invocations_are_asynchronous(aws_env):
    with mock_aws(), Stubber(client("lambda")) as stub:
        stub.add_response("invoke", {"StatusCode": 202, "ResponseMetadata": {"RequestId": "r-1"}},
                          {"FunctionName": "pipelinejobs-task-fn", "InvocationType": "Event", "Payload": ANY})
        launched = LAUNCHERS["lambda"].launch(request({"FunctionName": "pipelinejobs-task-fn"}))
        assert launched.handle["request_id"] == "r-1"


def test_external_tasks_launch_nothing_and_are_watched_through_the_job():
    launched = LAUNCHERS["external"].launch(request({}))
    assert launched.handle == {} and launched.log is None
    assert LAUNCHERS["external"].check(launched.handle).phase == Phase.RUNNING
    assert json.dumps(launched.to_dict())  # it travels in Step Functions state as it is
