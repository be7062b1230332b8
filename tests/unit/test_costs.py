"""Issue 14 item 3: a job's cost from its launcher's resources and durations, at prices that are data.

The services' answers are botocore Stubber responses shaped as AWS documents them (checked against each
API's model), so each launcher's arithmetic is pinned to the prices of the day (REFERENCE.md §9)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from pipelinejobs.costs import compute, estimate, prices
from pipelinejobs.errors import ConfigurationError
from pipelinejobs.records import HistoryEntry

START, STOP = "2026-11-26T00:00:00.000Z", "2026-11-26T01:00:00.000Z"  # one hour


def stubbed(monkeypatch, service: str, *responses: tuple[str, dict]) -> Stubber:
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    for method, response in responses:
        stubber.add_response(method, response)
    stubber.activate()
    monkeypatch.setattr(compute, "client", lambda name: client if name == service else pytest.fail(name))
    return stubber


def entry(seq: int, name: str, data: dict, state: str, date: str = START, source: str = "stepfunctions",
          **extra) -> HistoryEntry:
    return HistoryEntry(seq=seq, date=date, name=name, data=data, state=state, source=source, **extra)


def test_an_ecs_fargate_task_costs_its_vcpu_and_memory_for_its_running_time(monkeypatch):
    task = {"taskArn": "arn:aws:ecs:us-east-1:1:task/c/abc", "cpu": "1024", "memory": "2048",
            "launchType": "FARGATE", "startedAt": datetime(2026, 11, 26, tzinfo=UTC),
            "stoppedAt": datetime(2026, 11, 26, 1, tzinfo=UTC), "lastStatus": "STOPPED"}
    stubbed(monkeypatch, "ecs", ("describe_tasks", {"tasks": [task], "failures": []}))
    cost = compute.price(compute.Task("ecs", {"cluster": "c", "task_arn": task["taskArn"]}), prices.current())
    assert cost.seconds == 3600
    assert cost.usd == pytest.approx(0.04048 + 2 * 0.004445)
    assert cost.basis == "fargate x86_64: 1 vCPU, 2 GB"


def test_a_batch_job_on_ec2_costs_its_share_of_the_instance(monkeypatch):
    job = {"jobId": "j-1", "jobName": "pj", "jobQueue": "arn:q", "status": "SUCCEEDED", "jobDefinition": "d",
           "startedAt": 1_764_115_200_000, "stoppedAt": 1_764_118_800_000, "platformCapabilities": ["EC2"],
           "container": {"resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}]}}
    queue = {"jobQueueName": "q", "jobQueueArn": "arn:q", "state": "ENABLED", "priority": 1,
             "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "arn:ce"}]}
    environment = {"computeEnvironmentName": "ce", "computeEnvironmentArn": "arn:ce", "type": "MANAGED",
                   "computeResources": {"type": "SPOT", "minvCpus": 0, "maxvCpus": 16, "subnets": ["s"],
                                        "instanceRole": "r", "instanceTypes": ["optimal", "m5.large"]}}
    stubbed(monkeypatch, "batch", ("describe_jobs", {"jobs": [job]}), ("describe_job_queues", {"jobQueues": [queue]}),
            ("describe_compute_environments", {"computeEnvironments": [environment]}))
    cost = compute.price(compute.Task("batch", {"job_id": "j-1"}), prices.current())
    assert cost.resources["share"] == 0.5  # 1 of 2 vCPUs (2 of 8 GiB is less)
    assert cost.usd == pytest.approx(0.096 / 2)
    assert "spot" in cost.note


def test_a_lambda_task_costs_its_gb_seconds_and_a_request(monkeypatch):
    stubbed(monkeypatch, "lambda", ("get_function_configuration",
                                    {"FunctionName": "f", "MemorySize": 1024, "Architectures": ["arm64"]}))
    task = compute.Task("lambda", {"function": "f", "request_id": "r"}, started=START,
                        stopped="2026-11-26T00:00:10.000Z")
    cost = compute.price(task, prices.current())
    assert cost.usd == pytest.approx(10 * 1 * 0.0000133334 + 0.0000002)


def test_a_task_that_cannot_be_looked_up_is_left_unpriced_saying_why(monkeypatch):
    stubbed(monkeypatch, "ecs", ("describe_tasks", {"tasks": [], "failures": [{"arn": "a", "reason": "MISSING"}]}))
    cost = compute.price(compute.Task("ecs", {"cluster": "c", "task_arn": "a"}, START, STOP), prices.current())
    assert (cost.usd, cost.seconds) == (None, 3600)
    assert "no longer knows" in cost.note


def test_the_history_names_each_task_orchestrated_or_reported_by_aws():
    entries = [
        entry(1, "create", {}, "CREATED", source="sdk"),
        entry(2, "resource", {"attempt": 1, "launcher": "local", "status": "LAUNCHED", "handle": {"pid": 7},
                              "started": START}, "CREATED"),
        entry(3, "fail", {"attempt": 1, "stopped": STOP}, "FAILED", date=STOP),
        entry(4, "run", {"source": "aws.batch", "jobId": "j-2", "status": "RUNNING"}, "RUNNING", source="eventbridge"),
        entry(5, "finish", {"source": "aws.batch", "jobId": "j-2", "status": "SUCCEEDED"}, "FINISHED",
              date="2026-11-26T02:00:00.000Z", source="eventbridge"),
    ]
    entries += [  # an orchestrated ECS task, which its state-change events name by its cluster's ARN
        entry(6, "resource", {"attempt": 2, "launcher": "ecs", "status": "LAUNCHED", "started": START,
                              "handle": {"cluster": "c", "task_arn": "arn:aws:ecs:us-east-1:1:task/c/t"}}, "RUNNING"),
        entry(7, "fail", {"source": "aws.ecs", "taskArn": "arn:aws:ecs:us-east-1:1:task/c/t",
                          "clusterArn": "arn:aws:ecs:us-east-1:1:cluster/c"}, "FAILED", date=STOP,
              source="eventbridge"),
    ]
    found = estimate.tasks(entries)
    assert [(t.launcher, t.handle, t.started, t.stopped) for t in found] == [
        ("local", {"pid": 7}, START, STOP), ("batch", {"job_id": "j-2"}, START, "2026-11-26T02:00:00.000Z"),
        ("ecs", {"cluster": "c", "task_arn": "arn:aws:ecs:us-east-1:1:task/c/t"}, START, STOP)]


def test_tracking_counts_what_pipelinejobs_did_and_a_local_task_costs_nothing():
    entries = [
        entry(1, "create", {}, "CREATED", source="sdk"),
        entry(2, "update", {"run_id": "r", "task": {"launcher": "local", "poll": {"first": 10, "factor": 2,
                                                                                    "cap": 900}}},
              "CREATED", source="sdk", id="r.start"),
        entry(3, "resource", {"attempt": 1, "launcher": "local", "status": "LAUNCHED", "handle": {"pid": 7},
                              "started": START}, "CREATED", id="launched"),
        entry(4, "run", {"status": "RUNNING"}, "RUNNING", source="webhook", id="c1"),
        entry(5, "finish", {"attempt": 1, "stopped": STOP}, "FINISHED", date=STOP, id="finish"),
    ]
    estimated = estimate.job_estimate("u", entries, prices.current())
    usage = estimated["tracking"]
    assert usage["events_published"] == 3  # CREATED, RUNNING, FINISHED
    assert usage["lambda_invocations"] == 3 + 3  # the orchestrator twice, the webhook once; the stream 3 times
    assert usage["api_requests"] == 1
    checks = 10  # waits of 10, 20, 40, ..., 640, then 900 s: past an hour at the 10th check
    assert usage["state_transitions"] == estimate.ATTEMPT_TRANSITIONS + 3 * checks
    assert estimated["compute_usd"] == 0 and estimated["complete"] is True
    assert 0 < estimated["tracking_usd"] < 0.001
    assert estimated["total_usd"] == pytest.approx(estimated["tracking_usd"])


@pytest.mark.parametrize("data", [{"task": "align"}, {"task": {"poll": "fast"}}, {"task": {"poll": {"every": 5}}},
                                  {"task": {"poll": {"first": "soon"}}},
                                  {"launcher": "local", "handle": {"pid": 7}, "started": 5, "stopped": ["x"]}])
def test_an_estimate_never_fails_on_what_a_clients_data_holds(data):
    """A client's update may hold anything under any key: the stream function estimates every job that ends,
    and an estimate that raised would hold that stream record (and every later one) for ever."""
    entries = [entry(1, "create", {}, "CREATED", source="sdk"), entry(2, "run", {}, "RUNNING", source="webhook"),
               entry(3, "update", data, "RUNNING", source="webhook", id="u1"),
               entry(4, "finish", {}, "FINISHED", date=STOP, source="webhook")]
    estimated = estimate.job_estimate("u", entries, prices.current())
    assert estimated["tracking"]["api_requests"] == 3 and estimated["total_usd"] >= 0


def test_a_users_prices_file_overrides_the_packaged_prices(tmp_path, monkeypatch):
    mine = tmp_path / "prices.json"
    mine.write_text(json.dumps({"date": "2027-01-01", "region": "eu-west-1",
                                "fargate": {"x86_64": {"vcpu_hour": 0.05}}}))
    monkeypatch.setenv(prices.PRICES_ENV, str(mine))
    current = prices.current()
    assert (current["date"], current["region"]) == ("2027-01-01", "eu-west-1")
    assert current["fargate"]["x86_64"] == {"vcpu_hour": 0.05, "gb_hour": 0.004445}  # the rest stays


def test_prices_may_be_given_inline_as_a_functions_environment_can(monkeypatch):
    monkeypatch.setenv(prices.PRICES_ENV, '{"region": "eu-west-1", "lambda": {"request": 0.0000003}}')
    assert (prices.current()["region"], prices.current()["lambda"]["request"]) == ("eu-west-1", 0.0000003)


def test_a_prices_file_with_a_bad_value_is_refused_naming_it(tmp_path, monkeypatch):
    mine = tmp_path / "prices.json"
    mine.write_text(json.dumps({"ec2": {"m5.large": {"hour": "cheap"}}}))
    monkeypatch.setenv(prices.PRICES_ENV, str(mine))
    with pytest.raises(ConfigurationError, match=r"prices\.ec2\.m5\.large\.hour must be a number"):
        prices.current()
