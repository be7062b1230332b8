"""The harness's changes to moto still take effect (tests/sfn_harness.py says why each exists).

If a moto upgrade renames what the harness replaces, these fail first and say which part broke,
rather than every path test failing with "error running docker" or a KeyError deep in moto.
"""

from __future__ import annotations

import json
import threading
import time

import boto3
import moto
import pytest
from sfn_harness import ORCHESTRATOR, Harness

import pipelinejobs
from pipelinejobs.local.moto_patches import MOTO_VERSION


def tiny_machine(harness: Harness, states: dict, name: str) -> str:
    definition = {"StartAt": next(iter(states)), "States": states}
    return harness.sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                            roleArn=harness.role_arn)["stateMachineArn"]


def test_moto_is_the_version_the_harness_patches():
    assert moto.__version__ == MOTO_VERSION


def test_lambda_invocations_run_our_handler_and_report_errors_by_type(sfn: Harness):
    response = boto3.client("lambda").invoke(FunctionName=ORCHESTRATOR, Payload=json.dumps({"action": "nope"}))

    assert response["FunctionError"] == "Handled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert "expected one of launch, check, recover" in error["errorMessage"]


def test_waits_advance_the_simulated_clock_not_the_real_one(sfn: Harness):
    machine = tiny_machine(sfn, {"Nap": {"Type": "Wait", "Seconds": 36000, "End": True}}, "nap")
    before = sfn.clock.now()
    started = time.monotonic()

    run = sfn.sfn.start_execution(stateMachineArn=machine, input="{}")
    assert sfn.finish(run["executionArn"])["status"] == "SUCCEEDED"

    assert time.monotonic() - started < 5
    assert sfn.waits == [36000]
    assert sfn.clock.now() - before == pytest.approx(36000)


def test_a_state_machine_can_run_more_than_once(sfn: Harness):
    machine = tiny_machine(sfn, {"Done": {"Type": "Succeed"}}, "twice")

    runs = [sfn.sfn.start_execution(stateMachineArn=machine, name=f"run-{n}", input="{}") for n in range(2)]

    assert [sfn.finish(r["executionArn"])["status"] for r in runs] == ["SUCCEEDED", "SUCCEEDED"]


def test_two_starts_of_one_name_at_once_are_one_execution(sfn: Harness, monkeypatch: pytest.MonkeyPatch):
    """AWS checks an execution's name atomically; moto checks it, then adds the execution: two starts at once (a
    workflow record handled twice at once) both passed and the job ran twice. The check is slowed here so the
    two starts always overlap."""
    from moto.stepfunctions.models import StateMachine

    machine = tiny_machine(sfn, {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}, "named-once")
    check = StateMachine._handle_name_input_idempotency

    def slow_check(self, *args, **kwargs):
        found = check(self, *args, **kwargs)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(StateMachine, "_handle_name_input_idempotency", slow_check)
    together, arns = threading.Barrier(2), []

    def start() -> None:
        together.wait()
        arns.append(sfn.sfn.start_execution(stateMachineArn=machine, name="job-run", input="{}")["executionArn"])

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(arns) == 2 and len(set(arns)) == 1
    assert len(sfn.sfn.list_executions(stateMachineArn=machine)["executions"]) == 1


def test_service_integration_parameters_reach_boto_with_its_casing(sfn: Harness):
    machine = tiny_machine(sfn, {
        "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
                  "Parameters": {"StateMachineArn.$": "$.target", "Name": "child", "Input": {"from": "parent"}},
                  # As in ContinueAsNew: moto would fail to serialise the response's startDate otherwise.
                  "ResultPath": None, "End": True},
    }, "parent")
    target = tiny_machine(sfn, {"Done": {"Type": "Succeed"}}, "child-machine")

    run = sfn.sfn.start_execution(stateMachineArn=machine, input=json.dumps({"target": target}))

    assert sfn.finish(run["executionArn"])["status"] == "SUCCEEDED"
    [child] = sfn.sfn.list_executions(stateMachineArn=target)["executions"]
    assert json.loads(sfn.sfn.describe_execution(executionArn=child["executionArn"])["input"]) == {"from": "parent"}


def test_concurrent_transactions_lose_no_write(sfn: Harness):
    pipeline = pipelinejobs.register_pipeline("contended")
    job = pipelinejobs.PipelineJob(pipeline.uuid, {"n": 1}).setup().run()
    writers, updates = 3, 8

    def write(worker: int) -> None:
        for n in range(updates):
            pipelinejobs.get_job(job.uuid).update({"worker": worker, "n": n})

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    history = pipelinejobs.get_job(job.uuid).history
    assert [e.seq for e in history] == list(range(1, 2 + writers * updates + 1))
    assert pipelinejobs.get_job(job.uuid).record.version == len(history)


def test_a_cancelled_transaction_leaves_the_tables_stream_readable(sfn: Harness):
    """moto rolls a cancelled transaction back to a copy of the table, stream included: a reader's shard iterator
    (which holds the stream it was made on) was left on the old one, seeing the cancelled write's record and
    nothing after it."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = pipelinejobs.Config.from_env().table
    dynamodb = boto3.client("dynamodb")
    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables
    stream, seen = tables[table].stream_shard, len(tables[table].stream_shard.items)
    key = {"pk": {"S": "T#cancelled"}, "sk": {"S": "x"}}
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": key}},
            {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "T#none"}, "sk": {"S": "x"}},
                                "ConditionExpression": "attribute_exists(pk)"}}])
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "T#after"}, "sk": {"S": "x"}})

    assert tables[table].stream_shard is stream
    assert [record.to_json()["dynamodb"]["Keys"]["pk"]["S"] for record in stream.items[seen:]] == ["T#after"]
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key)


def test_eventbridge_rules_deliver_to_lambda_targets(sfn: Harness):
    """moto 5.2.1 raises NotImplementedError for a Lambda target; the template's EventBridgeRule events need it."""
    delivered: list[dict] = []
    arn = sfn.add_function("pipelinejobs-test-rule-target", delivered.append)
    events = boto3.client("events")
    events.put_rule(Name="batch-changes", EventPattern=json.dumps({"source": ["aws.batch"]}))
    events.put_targets(Rule="batch-changes", Targets=[{"Id": "fn", "Arn": arn}])

    answer = events.put_events(Entries=[
        {"Source": "aws.batch", "DetailType": "Batch Job State Change", "Detail": json.dumps({"status": "RUNNING"})},
        {"Source": "aws.ecs", "DetailType": "ECS Task State Change", "Detail": "{}"},  # not matched by the rule
    ])

    assert answer["FailedEntryCount"] == 0
    deadline = time.monotonic() + 10
    while not delivered and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # a wrongly delivered second event would have arrived by now
    assert [(e["source"], e["detail-type"], e["detail"]) for e in delivered] == [
        ("aws.batch", "Batch Job State Change", {"status": "RUNNING"})]


def test_stop_execution_aborts_an_execution_waiting_for_a_task_token(sfn: Harness):
    """moto marks the program stopped but leaves a .waitForTaskToken Task waiting (RUNNING until its timeout);
    moto_patches interrupts the wait, so a kill ends the execution ABORTED, as AWS does."""
    sfn.add_function("pipelinejobs-token-sink", lambda event: {})
    arn = boto3.client("lambda").get_function(FunctionName="pipelinejobs-token-sink")["Configuration"]["FunctionArn"]
    machine = tiny_machine(sfn, {"Await": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "TimeoutSeconds": 3600,
        "Parameters": {"FunctionName": arn, "Payload": {"token.$": "$$.Task.Token"}}, "End": True}}, "awaits-token")
    execution = sfn.sfn.start_execution(stateMachineArn=machine)["executionArn"]
    deadline = time.monotonic() + 10
    while not any(e["type"] == "TaskSubmitted" for e in sfn.history(execution)):
        assert time.monotonic() < deadline, "the Task never started waiting"
        time.sleep(0.02)

    sfn.sfn.stop_execution(executionArn=execution, error="Killed", cause="test")

    assert sfn.finish(execution, timeout=10)["status"] == "ABORTED"
