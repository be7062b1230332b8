"""template.yaml: what the front doors rely on, and least privilege, checked on the parsed template
(scripts/check-template runs sam validate --lint, cfn-lint and sam build on it as well)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
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
              "batch:DescribeJobs", "batch:ListJobs", "batch:TerminateJob", "ecs:DescribeTaskDefinition",
              "batch:DescribeJobQueues", "batch:DescribeComputeEnvironments"}


def test_the_functions_and_their_thin_handlers_exist():
    assert set(FUNCTIONS) == {"WebhookFunction", "EventsFunction", "StreamFunction", "OrchestratorFunction",
                              "WorkflowsFunction", "SweepFunction"}
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
    assert layer["Metadata"]["BuildMethod"] == "makefile"  # layers/pipelinejobs/Makefile: without cli/ and local/


#: Managed policies the stack offers its users (OperateJobsPolicy: what the CLI's kill and rerun need).
MANAGED_POLICIES = {name: r["Properties"]["PolicyDocument"]["Statement"] for name, r in RESOURCES.items()
                    if r["Type"] == "AWS::IAM::ManagedPolicy"}


@pytest.mark.parametrize("name", sorted(FUNCTIONS) + sorted(MANAGED_POLICIES))
def test_no_function_or_managed_policy_may_scan_delete_or_use_wildcards(name):
    statements = MANAGED_POLICIES[name] if name in MANAGED_POLICIES else _statements(FUNCTIONS[name])
    assert statements, f"{name} has no policy statements"
    for statement in statements:
        assert statement["Effect"] == "Allow"
        if statement["Resource"] == "*":
            assert set(_actions(statement)) <= UNSCOPABLE, statement
        else:  # a wildcard may end a name prefix or stand for an id, never for every resource
            assert '"*"' not in json.dumps(statement["Resource"]), statement
        # Retention (issue 14): only the stream function deletes, and only what TTL left of a retired job.
        deletes = (name, statement.get("Sid")) == ("StreamFunction", "ClearExpiredJobs")
        for action in _actions(statement):
            assert "*" not in action
            assert action != "dynamodb:Scan"
            assert deletes or action != "dynamodb:BatchWriteItem"
            if action == "dynamodb:DeleteItem" and not deletes:  # only a workflow's own items (its queue entries)
                assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["WF#*"]}}


def test_only_the_webhook_reads_history_pages_and_only_the_stream_publishes():
    def actions(name: str) -> set[str]:
        return {a for statement in _statements(FUNCTIONS[name]) for a in _actions(statement)}

    assert "dynamodb:UpdateItem" not in actions("StreamFunction")
    assert "events:PutEvents" in actions("StreamFunction")
    assert "dynamodb:Query" not in actions("EventsFunction")
    webhook = actions("WebhookFunction")
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"} <= webhook


def _mappings(function: str) -> dict[str, dict]:
    return {name: r["Properties"] for name, r in RESOURCES.items()
            if r["Type"] == "AWS::Lambda::EventSourceMapping" and r["Properties"]["FunctionName"] == {"Ref": function}}


def _events_queue_mapping() -> dict:
    [(name, queue)] = _mappings("EventsFunction").items()
    assert name == "EventsFunctionQueue"  # the id SAM gave it: a deployed stack keeps its mapping
    return queue


def test_the_events_queue_reaches_the_events_function_in_batches():
    queue = _events_queue_mapping()
    assert queue["EventSourceArn"] == {"Fn::GetAtt": "EventsQueue.Arn"}
    assert (queue["BatchSize"], queue["MaximumBatchingWindowInSeconds"]) == (10, 1)
    assert queue.get("Enabled", True) is True
    # Lambda's SQS guidance: the queue's visibility timeout at least six times the function's timeout.
    timeout = FUNCTIONS["EventsFunction"].get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"])
    assert RESOURCES["EventsQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout


def test_sqs_reports_partial_batch_failures_and_redrives_to_the_dlq():
    queue = _events_queue_mapping()
    assert queue["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    redrive = RESOURCES["EventsQueue"]["Properties"]["RedrivePolicy"]
    assert redrive == {"deadLetterTargetArn": {"Fn::GetAtt": "EventsDeadLetterQueue.Arn"},
                       "maxReceiveCount": {"Ref": "MaxReceiveCount"}}


def test_a_queue_backlog_drives_at_most_a_capped_concurrency():
    """docs/scaling.md: ~25 invocations are busy at 1,000 events/s; the cap (in Lambda's range) leaves room."""
    queue = _events_queue_mapping()
    assert queue["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "EventsQueueMaximumConcurrency"}}
    cap = TEMPLATE["Parameters"]["EventsQueueMaximumConcurrency"]
    assert (cap["MinValue"], cap["MaxValue"]) == (2, 1000)
    assert 25 < cap["Default"] <= 100


def test_batch_and_ecs_state_changes_reach_the_events_function():
    patterns = [event["Properties"]["Pattern"] for event in FUNCTIONS["EventsFunction"]["Events"].values()
                if event["Type"] == "EventBridgeRule"]
    assert {(p["source"][0], p["detail-type"][0]) for p in patterns} == {
        ("aws.batch", "Batch Job State Change"), ("aws.ecs", "ECS Task State Change"),
        ("lambda", "Lambda Function Invocation Result - Failure")}  # a Lambda task's failure (docs/operations.md)


def test_the_stream_reaches_the_stream_function_filtered_to_job_items():
    [(name, stream)] = _mappings("StreamFunction").items()
    assert name == "StreamFunctionTableStream"  # the id SAM gave it: a deployed stack keeps its mapping
    assert stream["EventSourceArn"] == {"Fn::GetAtt": "JobsTable.StreamArn"}
    assert (stream["StartingPosition"], stream["BatchSize"], stream["MaximumBatchingWindowInSeconds"]) == (
        "TRIM_HORIZON", 25, 1)
    assert stream["BisectBatchOnFunctionError"] is True
    assert (stream["MaximumRetryAttempts"], stream["MaximumRecordAgeInSeconds"]) == (10, 86400)
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": "StreamFailureQueue.Arn"}}}
    changes, expired = [json.loads(f["Pattern"]) for f in stream["FilterCriteria"]["Filters"]]
    assert changes == {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["JOB"]}}}}
    assert expired == {"eventName": ["REMOVE"], "userIdentity": {"type": ["Service"],
                       "principalId": ["dynamodb.amazonaws.com"]}, "dynamodb": {"Keys": {"sk": {"S": ["JOB"]}}}}
    assert RESOURCES["JobsTable"]["Properties"]["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


# ---- least privilege for stream reads ------------------------------------------------------------

#: What Lambda's poller does with a function's role to read a DynamoDB stream.
STREAM_READS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}
#: SAM event types whose translation attaches an AWS managed policy reading every stream (Resource "*").
WILDCARD_STREAM_EVENTS = {"DynamoDB": "AWSLambdaDynamoDBExecutionRole", "Kinesis": "AWSLambdaKinesisExecutionRole"}
#: AWS managed policies that read every DynamoDB stream of the account.
WILDCARD_STREAM_POLICIES = ("AWSLambdaDynamoDBExecutionRole", "AWSLambdaInvocation-DynamoDB")


#: Reads of an SQS queue's messages: what Lambda's poller does with a function's role (the three SQS's guide lists,
#: AWSLambdaSQSQueueExecutionRole's on queues), and ChangeMessageVisibility, which SAM's SQSPollerPolicy adds.
QUEUE_READS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}
#: What the poller needs of them.
QUEUE_POLLING = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
#: SAM event types whose translation attaches an AWS managed policy reading every queue (Resource "*").
WILDCARD_QUEUE_EVENTS = {"SQS": "AWSLambdaSQSQueueExecutionRole"}
#: AWS managed policies that read every SQS queue of the account.
WILDCARD_QUEUE_POLICIES = ("AWSLambdaSQSQueueExecutionRole", "AmazonSQSFullAccess", "AmazonSQSReadOnlyAccess")


def _getatt(value: object) -> str | None:
    """``X.Attr`` of a ``Fn::GetAtt`` in either form (``"X.Attr"`` or ``["X", "Attr"]``), else None."""
    target = value.get("Fn::GetAtt") if isinstance(value, dict) else None
    return ".".join(target) if isinstance(target, list) else target


def _resources_granting(statements: list[dict], actions: set[str]) -> list:
    """The resources of every statement granting any of ``actions`` (or a wildcard action covering one)."""
    found = []
    for statement in statements:
        granted = _actions(statement)
        if set(granted) & actions or any(a.endswith("*") and any(b.startswith(a[:-1]) for b in actions)
                                         for a in granted):
            resource = statement["Resource"]
            found.extend(resource if isinstance(resource, list) else [resource])
    return found


def _stream_resources(statements: list[dict]) -> list:
    """The resources of every statement granting a stream read."""
    return _resources_granting(statements, STREAM_READS)


def _queue_resources(statements: list[dict]) -> list:
    """The resources of every statement granting a queue read (receive, delete, attributes, visibility)."""
    return _resources_granting(statements, QUEUE_READS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_function_reads_every_stream(name):
    """A SAM DynamoDB (or Kinesis) event would give the role a managed policy reading every stream in the account;
    a stream is wired as an AWS::Lambda::EventSourceMapping instead, its reads granted on that stream alone."""
    properties = FUNCTIONS[name]
    events = {event_id: e["Type"] for event_id, e in properties.get("Events", {}).items()
              if e["Type"] in WILDCARD_STREAM_EVENTS}
    assert not events, (f"{name}: SAM turns {events} into {[WILDCARD_STREAM_EVENTS[t] for t in events.values()]} "
                        "(stream reads on Resource \"*\"); write an AWS::Lambda::EventSourceMapping and a scoped "
                        "statement instead")
    for policy in properties.get("Policies", []):
        named = policy if isinstance(policy, str) else json.dumps(policy)
        assert not any(wildcard in named for wildcard in WILDCARD_STREAM_POLICIES), f"{name}: {policy}"
        if isinstance(policy, dict) and "DynamoDBStreamReadPolicy" in policy:  # SAM's template, "*" for any table
            assert "*" not in json.dumps(policy), f"{name}: {policy}"
    streams = {f"{logical_id}.StreamArn" for logical_id, r in RESOURCES.items() if r["Type"] == "AWS::DynamoDB::Table"}
    for resource in _stream_resources(_statements(properties)):
        assert _getatt(resource) in streams, (
            f"{name}: stream reads on {resource}: grant them on one table's !GetAtt <Table>.StreamArn")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_no_function_reads_every_queue(name):
    """A SAM SQS event would give the role AWSLambdaSQSQueueExecutionRole, which receives and deletes the messages of
    every queue in the account; a queue is wired as an AWS::Lambda::EventSourceMapping instead, its reads granted on
    that queue alone."""
    properties = FUNCTIONS[name]
    events = {event_id: e["Type"] for event_id, e in properties.get("Events", {}).items()
              if e["Type"] in WILDCARD_QUEUE_EVENTS}
    assert not events, (f"{name}: SAM turns {events} into {[WILDCARD_QUEUE_EVENTS[t] for t in events.values()]} "
                        "(queue reads on Resource \"*\"); write an AWS::Lambda::EventSourceMapping and a scoped "
                        "statement instead")
    for policy in properties.get("Policies", []):
        named = policy if isinstance(policy, str) else json.dumps(policy)
        assert not any(wildcard in named for wildcard in WILDCARD_QUEUE_POLICIES), f"{name}: {policy}"
        if isinstance(policy, dict) and "SQSPollerPolicy" in policy:  # SAM's template, "*" for any queue
            assert "*" not in json.dumps(policy), f"{name}: {policy}"
    queues = {f"{logical_id}.Arn" for logical_id, r in RESOURCES.items() if r["Type"] == "AWS::SQS::Queue"}
    for resource in _queue_resources(_statements(properties)):
        assert _getatt(resource) in queues, (
            f"{name}: queue reads on {resource}: grant them on one queue's !GetAtt <Queue>.Arn")


MAPPINGS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Lambda::EventSourceMapping")


@pytest.mark.parametrize("mapping", MAPPINGS)
def test_each_mapping_can_be_polled_and_park_its_failures_with_its_functions_role(mapping):
    """Without SAM's managed policy, the function's own statements must let Lambda's poller read the source
    and send to the OnFailure destination (an event source mapping's destination is sent with that role)."""
    properties = RESOURCES[mapping]["Properties"]
    function = properties["FunctionName"]["Ref"]
    statements = _statements(FUNCTIONS[function])

    def granted(resource: object) -> set[str]:
        return {action for s in statements if resource in (s["Resource"] if isinstance(s["Resource"], list)
                                                           else [s["Resource"]]) for action in _actions(s)}

    source = properties["EventSourceArn"]
    source_type = RESOURCES[_getatt(source).split(".")[0]]["Type"]
    if source_type == "AWS::DynamoDB::Table":
        assert _getatt(source).endswith(".StreamArn")
        assert {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"} <= granted(source)
    else:
        assert (source_type, _getatt(source).split(".")[1]) == ("AWS::SQS::Queue", "Arn"), source
        assert granted(source) >= QUEUE_POLLING
    destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if destination:
        assert "sqs:SendMessage" in granted(destination)


# ---- the same, on the template as CloudFormation receives it (after SAM's translation) ------------

#: Translate with AWS SAM's own translator; managed policies named by ARN or Ref are kept as written (no IAM call).
_TRANSLATE = """
import json, sys
from samtranslator.translator.transform import transform

class KeepManagedPolicies:
    def load(self):
        return {}

with open(sys.argv[1]) as source:
    translated = transform(json.load(source), {}, KeepManagedPolicies())
with open(sys.argv[2], "w") as target:
    json.dump(translated, target)
"""
#: Where scripts/check-template keeps the SAM CLI (and its translator) when the test environment has none.
SAM_PYTHON = ROOT / ".cache" / "sam-venv" / "bin" / "python"


def test_sams_translator_comes_with_the_test_extra():
    """The three checks after SAM's translation run wherever the tests do (they skipped unless
    scripts/check-template had been run first)."""
    assert importlib.util.find_spec("samtranslator") is not None


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """template.yaml translated by samtranslator: in this interpreter if it has it, else the SAM CLI's."""
    python = sys.executable if importlib.util.find_spec("samtranslator") else SAM_PYTHON
    if not Path(python).exists():
        pytest.skip("SAM's translator is not installed: scripts/bootstrap installs it (aws-sam-translator, "
                    "in the test extra), as scripts/check-template installs the SAM CLI")
    body = json.loads(json.dumps(TEMPLATE))
    for resource in body["Resources"].values():  # local paths, replaced as `sam validate` replaces them
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(resource.get("Properties", {}).get(key), str):
                resource["Properties"][key] = f"s3://local/{resource['Properties'][key]}"
    directory = tmp_path_factory.mktemp("sam")
    (directory / "template.json").write_text(json.dumps(body))
    env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
           "SAM_CLI_TELEMETRY": "0"}
    subprocess.run([str(python), "-c", _TRANSLATE, directory / "template.json", directory / "translated.json"],
                   check=True, env=env, timeout=120)
    return json.loads((directory / "translated.json").read_text())


def _role_statements(resources: dict, role: dict) -> list[dict]:
    """A translated role's inline statements and those of the template's managed policies it references."""
    managed = role.get("ManagedPolicyArns", [])
    statements = [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
    return statements + [s for arn in managed if isinstance(arn, dict) and "Ref" in arn
                         for s in resources[arn["Ref"]]["Properties"]["PolicyDocument"]["Statement"]]


def test_after_sams_translation_no_role_reads_every_stream(translated):
    resources = translated["Resources"]
    roles = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    assert {f"{name}Role" for name in FUNCTIONS} <= set(roles)
    for name, role in roles.items():
        managed = role.get("ManagedPolicyArns", [])
        wildcard = [arn for arn in managed
                    if isinstance(arn, str) and arn.rsplit("/", 1)[-1] in WILDCARD_STREAM_POLICIES]
        assert not wildcard, f"{name} gets {wildcard}: stream reads on Resource \"*\""
        for resource in _stream_resources(_role_statements(resources, role)):
            assert "*" not in json.dumps(resource), f"{name}: stream reads on {resource}"
    stream_role = roles["StreamFunctionRole"]
    reads = _stream_resources([s for p in stream_role["Policies"] for s in p["PolicyDocument"]["Statement"]])
    assert [_getatt(resource) for resource in reads] == ["JobsTable.StreamArn"]


def test_after_sams_translation_no_role_reads_every_queue(translated):
    resources = translated["Resources"]
    roles = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    assert {f"{name}Role" for name in FUNCTIONS} <= set(roles)
    for name, role in roles.items():
        wildcard = [arn for arn in role.get("ManagedPolicyArns", [])
                    if isinstance(arn, str) and arn.rsplit("/", 1)[-1] in WILDCARD_QUEUE_POLICIES]
        assert not wildcard, f"{name} gets {wildcard}: queue reads on Resource \"*\""
        for resource in _queue_resources(_role_statements(resources, role)):
            assert "*" not in json.dumps(resource), f"{name}: queue reads on {resource}"
    events_role = roles["EventsFunctionRole"]
    reads = _queue_resources([s for p in events_role["Policies"] for s in p["PolicyDocument"]["Statement"]])
    assert [_getatt(resource) for resource in reads] == ["EventsQueue.Arn"]


#: The AWS managed policies a translated role may carry: logs (SAM's, for every function) and traces (Tracing).
#: Any other (an event type's execution role, most of them on Resource "*") is to be replaced by scoped statements.
BASELINE_MANAGED_POLICIES = {"service-role/AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"}


def test_after_sams_translation_roles_have_no_aws_managed_policy_but_logs_and_traces(translated):
    for name, resource in translated["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            managed = [arn.split(":policy/", 1)[1] for arn in resource["Properties"].get("ManagedPolicyArns", [])
                       if isinstance(arn, str) and ":iam::aws:policy/" in arn]
            extra = set(managed) - BASELINE_MANAGED_POLICIES
            assert not extra, f"{name} gets the AWS managed {sorted(extra)}: grant what it needs on its resources"


def test_the_api_is_throttled_and_routes_every_path():
    routes = FUNCTIONS["WebhookFunction"]["Events"].values()
    assert {(r["Properties"]["Method"], r["Properties"]["Path"]) for r in routes} == {
        ("POST", "/jobs/{uuid}/events"), ("POST", "/events"), ("GET", "/jobs/{uuid}"), ("GET", "/openapi.json"),
        ("POST", "/jobs"),
        # the dashboard (api/dashboard.py)
        ("GET", "/ui"), ("GET", "/ui/static/{name}"), ("GET", "/ui/api/overview"), ("GET", "/ui/api/jobs"),
        ("GET", "/ui/api/jobs/{uuid}"), ("GET", "/ui/api/fsm"), ("GET", "/ui/api/workflows"),
        ("GET", "/ui/api/workflows/{uuid}"),
        # Snakemake's panoptes protocol (api/engines.py)
        *((method, f"/engines/snakemake/{{pipeline}}/{{token}}/{name}") for method, name in (
            ("GET", "create_workflow"), ("GET", "api/service-info"), ("POST", "update_workflow_status"))),
        # Nextflow's weblog, Cromwell's workflow callback, Agave/Tapis notifications (api/engines.py)
        ("POST", "/engines/nextflow/{pipeline}/{token}"), ("POST", "/engines/nextflow"),
        ("POST", "/engines/cromwell/{pipeline}/{token}"), ("POST", "/engines/agave/{pipeline}/{token}")}
    settings = RESOURCES["HttpApi"]["Properties"]["DefaultRouteSettings"]
    assert settings == {"ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
                        "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"}}


def test_the_api_throttle_defaults_take_the_sized_load_within_the_account_quota():
    """docs/scaling.md: 1,000 callbacks/s with headroom, under the account's 10,000 requests/s for HTTP APIs."""
    rate = TEMPLATE["Parameters"]["ApiThrottlingRateLimit"]["Default"]
    burst = TEMPLATE["Parameters"]["ApiThrottlingBurstLimit"]["Default"]
    assert 1000 < rate <= burst <= 10000


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
