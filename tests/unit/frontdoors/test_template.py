"""template.yaml: what the front doors rely on, and least privilege, checked on the parsed template
(scripts/check-template runs sam validate --lint, cfn-lint and sam build on it as well)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from pipelinejobs.storage.tables import load_template

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}


def _statements(properties: dict) -> list[dict]:
    """Every inline statement a function gets, and those of the managed policies it references."""
    found = []
    for policy in properties.get("Policies", []):
        if isinstance(policy, dict) and "Ref" in policy:
            policy = RESOURCES[policy["Ref"]]["Properties"]["PolicyDocument"]
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
    return found


def _actions(statement: dict) -> list[str]:
    actions = statement["Action"]
    if isinstance(actions, dict):  # Fn::If [condition, then, else]
        actions = actions["Fn::If"][1:]
    return [actions] if isinstance(actions, str) else actions


#: Actions AWS gives no resource-level permissions (or whose resource, a task token, IAM cannot name):
#: a "*" resource is the only way to grant them.
UNSCOPABLE = {"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat",
              "batch:DescribeJobs", "batch:TerminateJob", "ecs:DescribeTaskDefinition"}


def test_the_functions_and_their_thin_handlers_exist():
    assert set(FUNCTIONS) == {"WebhookFunction", "EventsFunction", "StreamFunction", "OrchestratorFunction"}
    for properties in FUNCTIONS.values():
        module, attribute = properties["Handler"].split(".")
        source = ROOT / properties["CodeUri"] / f"{module}.py"
        assert len(source.read_text().splitlines()) <= 10, f"{source} should stay thin"
        spec = importlib.util.spec_from_file_location(f"handler_of_{source.parent.name}", source)
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        assert callable(getattr(loaded, attribute))


def test_functions_run_python312_with_the_layer_and_the_shared_settings():
    function_globals = TEMPLATE["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.12"
    assert function_globals["Layers"] == [{"Ref": "PipelineJobsLayer"}]
    variables = function_globals["Environment"]["Variables"]
    assert variables["PIPELINEJOBS_TABLE"] == {"Ref": "JobsTable"}
    assert variables["PIPELINEJOBS_TOKEN_SECRET_NAME"] == {"Ref": "TokenSecretName"}
    layer = RESOURCES["PipelineJobsLayer"]
    assert layer["Properties"]["ContentUri"] == "layers/pipelinejobs/"
    assert layer["Metadata"]["BuildMethod"] == "python3.12"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_function_may_scan_delete_or_use_wildcards(name):
    statements = _statements(FUNCTIONS[name])
    assert statements, f"{name} has no policy statements"
    for statement in statements:
        assert statement["Effect"] == "Allow"
        if statement["Resource"] == "*":
            assert set(_actions(statement)) <= UNSCOPABLE, statement
        else:  # a wildcard may end a name prefix or stand for an id, never for every resource
            assert '"*"' not in json.dumps(statement["Resource"]), statement
        for action in _actions(statement):
            assert "*" not in action
            assert action not in {"dynamodb:Scan", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def test_only_the_webhook_reads_history_pages_and_only_the_stream_publishes():
    def actions(name: str) -> set[str]:
        return {a for statement in _statements(FUNCTIONS[name]) for a in _actions(statement)}

    assert "dynamodb:UpdateItem" not in actions("StreamFunction")
    assert "events:PutEvents" in actions("StreamFunction")
    assert "dynamodb:Query" not in actions("EventsFunction")
    webhook = actions("WebhookFunction")
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"} <= webhook


def test_sqs_reports_partial_batch_failures_and_redrives_to_the_dlq():
    queue = FUNCTIONS["EventsFunction"]["Events"]["Queue"]["Properties"]
    assert queue["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    redrive = RESOURCES["EventsQueue"]["Properties"]["RedrivePolicy"]
    assert redrive == {"deadLetterTargetArn": {"Fn::GetAtt": "EventsDeadLetterQueue.Arn"},
                       "maxReceiveCount": {"Ref": "MaxReceiveCount"}}


def test_batch_and_ecs_state_changes_reach_the_events_function():
    patterns = [event["Properties"]["Pattern"] for event in FUNCTIONS["EventsFunction"]["Events"].values()
                if event["Type"] == "EventBridgeRule"]
    assert {(p["source"][0], p["detail-type"][0]) for p in patterns} == {
        ("aws.batch", "Batch Job State Change"), ("aws.ecs", "ECS Task State Change")}


def test_the_stream_reaches_the_stream_function_filtered_to_job_items():
    stream = FUNCTIONS["StreamFunction"]["Events"]["TableStream"]["Properties"]
    assert stream["Stream"] == {"Fn::GetAtt": "JobsTable.StreamArn"}
    assert stream["BisectBatchOnFunctionError"] is True
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "OnFailure" in stream["DestinationConfig"]
    [pattern] = [json.loads(f["Pattern"]) for f in stream["FilterCriteria"]["Filters"]]
    assert pattern["dynamodb"]["Keys"]["sk"] == {"S": ["JOB"]}
    assert RESOURCES["JobsTable"]["Properties"]["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_the_api_is_throttled_and_routes_every_path():
    routes = FUNCTIONS["WebhookFunction"]["Events"].values()
    assert {(r["Properties"]["Method"], r["Properties"]["Path"]) for r in routes} == {
        ("POST", "/jobs/{uuid}/events"), ("POST", "/events"), ("GET", "/jobs/{uuid}"), ("GET", "/openapi.json")}
    settings = RESOURCES["HttpApi"]["Properties"]["DefaultRouteSettings"]
    assert set(settings) == {"ThrottlingBurstLimit", "ThrottlingRateLimit"}


def test_alarms_watch_every_dead_letter_queue_and_every_function():
    watched = {json.dumps(r["Properties"]["Dimensions"][0]["Value"]) for r in RESOURCES.values()
               if r["Type"] == "AWS::CloudWatch::Alarm"}
    queues = {name for name, r in RESOURCES.items() if r["Type"] == "AWS::SQS::Queue" and name != "EventsQueue"}
    expected = {json.dumps({"Fn::GetAtt": f"{q}.QueueName"}) for q in queues}
    expected |= {json.dumps({"Ref": name}) for name in FUNCTIONS}
    expected |= {json.dumps({"Ref": "JobStateMachine"})}  # failed executions
    assert watched == expected


def test_parameters_and_outputs():
    assert {"Stage", "TokenSecretName", "LogLevel"} <= set(TEMPLATE["Parameters"])
    assert {"ApiUrl", "TableName", "LayerArn", "WebhookFunctionName", "EventsFunctionName",
            "StreamFunctionName"} <= set(TEMPLATE["Outputs"])
