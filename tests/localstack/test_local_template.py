"""How the local stack reads template.yaml: intrinsics, parameters, Globals, and what it creates or skips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipelinejobs.local import resources
from pipelinejobs.local.template import Template, UnsupportedIntrinsic, substitute
from pipelinejobs.storage.tables import load_template, template_path

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: dev}
  Size: {Type: Number, Default: 5}
  Undeclared: {Type: String}
Globals:
  Function:
    Timeout: 30
    Layers: [!Ref Layer]
    Environment:
      Variables: {SHARED: one, TABLE: !Ref Table}
Resources:
  Table: {Type: AWS::DynamoDB::Table, Properties: {TableName: !Sub "jobs-${Stage}"}}
  Queue: {Type: AWS::SQS::Queue}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 60
      Layers: [!Ref Other]
      Environment:
        Variables:
          TABLE: !Ref Table
          OWN: !Sub "${Queue.Arn}|${AWS::Region}|${!Literal}"
          API: !Sub "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}"
  Api: {Type: AWS::Serverless::HttpApi}
Outputs:
  ApiUrl:
    Value: !Sub "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}"
"""


@pytest.fixture
def template(tmp_path: Path) -> Template:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    created = {("Table", None): "jobs-local", ("Queue", "Arn"): "arn:aws:sqs:us-east-1:123456789012:q",
               ("Queue", None): "http://moto/q"}

    def lookup(logical_id: str, attribute: str | None) -> Any:
        return created[(logical_id, attribute)]

    return Template.load(lookup, path, parameters={"Stage": "local"}, outputs={"ApiUrl": "http://127.0.0.1:8787"})


def test_refs_of_parameters_pseudo_parameters_and_resources(template: Template):
    assert template.resolve({"Ref": "Stage"}) == "local"  # given
    assert template.resolve({"Ref": "Size"}) == 5  # its Default
    assert template.resolve({"Ref": "AWS::Region"}) == "us-east-1"
    assert template.resolve({"Ref": "AWS::AccountId"}) == "123456789012"
    assert template.resolve({"Ref": "Queue"}) == "http://moto/q"
    with pytest.raises(Exception, match="Undeclared has no value"):
        template.resolve({"Ref": "Undeclared"})
    with pytest.raises(Exception, match="no such parameter or resource"):
        template.resolve({"Ref": "Nope"})


def test_getatt_in_both_forms_sub_join_and_novalue(template: Template):
    arn = "arn:aws:sqs:us-east-1:123456789012:q"
    assert template.resolve({"Fn::GetAtt": "Queue.Arn"}) == template.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == arn
    assert template.resolve({"Fn::Sub": "${Queue.Arn}/${Stage}/${!Kept}"}) == f"{arn}/local/${{Kept}}"
    assert template.resolve({"Fn::Sub": ["${A}-${Stage}", {"A": {"Ref": "Size"}}]}) == "5-local"
    assert template.resolve({"Fn::Join": [":", ["a", {"Ref": "Stage"}]]}) == "a:local"
    assert template.resolve({"Keep": 1, "Drop": {"Ref": "AWS::NoValue"}, "List": [{"Ref": "AWS::NoValue"}, 2]}) == {
        "Keep": 1, "List": [2]}


def test_an_intrinsic_it_does_not_know_is_refused_by_name(template: Template):
    with pytest.raises(UnsupportedIntrinsic, match="Fn::If"):
        template.resolve({"Fn::If": ["Cond", "a", "b"]})


def test_an_outputs_expression_takes_the_local_value(template: Template):
    """The orchestrator's API URL is the ApiUrl output's expression: locally the API is served, not created."""
    environment = template.resolve(template.function_properties("Fn")["Environment"]["Variables"])
    assert environment["API"] == "http://127.0.0.1:8787"
    assert environment["OWN"] == "arn:aws:sqs:us-east-1:123456789012:q|us-east-1|${Literal}"


def test_globals_merge_as_sam_merges_them(template: Template):
    properties = template.function_properties("Fn")
    assert properties["Timeout"] == 60  # scalar: the function's wins
    assert properties["Layers"] == [{"Ref": "Layer"}, {"Ref": "Other"}]  # lists add up, globals first
    assert set(properties["Environment"]["Variables"]) == {"SHARED", "TABLE", "OWN", "API"}  # maps merge


def test_substitute_replaces_every_placeholder_or_refuses():
    assert substitute('{"Resource": "${Fn}", "x": "${Fn}"}', {"Fn": "arn:1"}) == '{"Resource": "arn:1", "x": "arn:1"}'
    with pytest.raises(KeyError, match="Missing"):
        substitute("${Fn} ${Missing}", {"Fn": "arn"})


# ---- the real template.yaml --------------------------------------------------------------------


def test_every_resource_type_in_template_yaml_is_created_or_knowingly_skipped():
    """A new kind of resource must be taught to the local stack (resources._CREATORS) or listed with a reason."""
    types = {resource["Type"] for resource in load_template()["Resources"].values()}
    unknown = types - set(resources._CREATORS) - set(resources.SKIPPED)
    assert not unknown, f"template.yaml has resource types the local stack neither creates nor skips: {unknown}"


def test_every_value_the_local_stack_uses_resolves_in_template_yaml():
    """Functions' environments and events, the state machine's substitutions and name, the tables' names and the
    client outputs resolve with the intrinsics the local stack knows (any other would fail at start)."""
    refs: list[tuple[str, str | None]] = []

    def lookup(logical_id: str, attribute: str | None) -> str:
        refs.append((logical_id, attribute))
        return f"<{logical_id}.{attribute}>"

    template = Template.load(lookup, parameters={"Stage": "local"}, outputs={"ApiUrl": "http://127.0.0.1:8787"})
    created = [lid for lid, r in template.resources.items() if r["Type"] in resources._CREATORS]
    for logical_id in created:
        resource = template.resources[logical_id]
        if resource["Type"] == "AWS::Serverless::Function":
            properties = template.function_properties(logical_id)
            template.resolve(properties.get("Environment", {}))
            for event in properties.get("Events", {}).values():
                if event["Type"] != "HttpApi":  # routes use Method and Path only
                    template.resolve(event["Properties"])
        else:
            template.resolve({k: v for k, v in resource.get("Properties", {}).items() if k != "Policies"})
    from pipelinejobs.local.stack import CLIENT_OUTPUTS

    outputs = {name: template.resolve(template.body["Outputs"][name]["Value"]) for name in CLIENT_OUTPUTS}
    assert outputs["ApiUrl"] == "http://127.0.0.1:8787"
    assert all(logical_id in created for logical_id, _ in refs), f"refers to resources not created locally: {refs}"


def test_the_state_machine_definition_has_a_substitution_for_every_placeholder():
    machine = load_template()["Resources"]["JobStateMachine"]["Properties"]
    text = (template_path().parent / machine["DefinitionUri"]).read_text()
    substitute(text, dict.fromkeys(machine["DefinitionSubstitutions"], "arn:aws:lambda:us-east-1:1:function:f"))


def test_functions_that_disagree_on_a_variable_cannot_share_the_process():
    from types import SimpleNamespace

    from pipelinejobs.errors import ConfigurationError
    from pipelinejobs.local.resources import Function
    from pipelinejobs.local.stack import LocalStack

    def function(logical_id: str, **environment: str) -> Function:
        return Function(logical_id, logical_id.lower(), f"arn:{logical_id}", environment, {})

    stack = LocalStack()
    functions = {"A": function("A", TABLE="t", ONLY_A="1"), "B": function("B", TABLE="t")}
    stack.builder = SimpleNamespace(functions=functions)
    assert stack._functions_env() == {"TABLE": "t", "ONLY_A": "1"}
    stack.builder.functions["C"] = function("C", TABLE="other")
    with pytest.raises(ConfigurationError, match="TABLE is 't' for A but 'other' for C"):
        stack._functions_env()


# ---- AWS::Lambda::EventSourceMapping -------------------------------------------------------------

MAPPINGS = """
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: fn/, Handler: app.handler, Runtime: python3.12}
  FromStream:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Fn
      EventSourceArn: arn:aws:dynamodb:us-east-1:123456789012:table/jobs/stream/2024-01-01T00:00:00.000
      StartingPosition: TRIM_HORIZON
      BatchSize: 25
      FilterCriteria: {Filters: [{Pattern: '{"eventName": ["INSERT"]}'}]}
  FromQueue:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {FunctionName: !GetAtt Fn.Arn, EventSourceArn: arn:aws:sqs:us-east-1:123456789012:q, BatchSize: 5}
  Disabled:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {FunctionName: !Ref Fn, EventSourceArn: arn:aws:sqs:us-east-1:123456789012:q, Enabled: false}
  FromKinesis:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {FunctionName: !Ref Fn, EventSourceArn: arn:aws:kinesis:us-east-1:123456789012:stream/k}
"""


class FakeLambda:
    """moto's Lambda as the builder uses it: create_function only (a mapping must not create anything in it)."""

    def create_function(self, **request: Any) -> dict[str, str]:
        return {"FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{request['FunctionName']}"}

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"lambda.{name} called: a mapping is polled by the stack, not created in moto")


def built(tmp_path: Path, text: str) -> resources.Builder:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    builder: resources.Builder | None = None
    template = Template.load(lambda logical_id, attribute: builder.lookup(logical_id, attribute), path)
    builder = resources.Builder(template, lambda service: FakeLambda(), "arn:aws:iam::123456789012:role/r", {})
    builder.build()
    return builder


def test_an_event_source_mapping_is_kept_for_the_stack_to_poll(tmp_path: Path):
    builder = built(tmp_path, MAPPINGS)
    assert set(builder.mappings) == {"FromStream", "FromQueue", "Disabled", "FromKinesis"}
    stream = builder.mappings["FromStream"]
    assert (stream.function, stream.source_arn) == ("Fn", MAPPINGS.split("EventSourceArn: ")[1].split("\n")[0])
    assert stream.properties["BatchSize"] == 25 and stream.properties["FilterCriteria"]["Filters"]
    assert builder.mappings["FromQueue"].function == "Fn"  # named by its ARN
    assert builder.lookup("FromStream", None) == builder.lookup("FromStream", "Id")  # Ref and Id: its UUID
    assert "FromStream" not in builder.skipped


def test_a_mapping_to_a_function_outside_the_template_is_refused(tmp_path: Path):
    from pipelinejobs.errors import ConfigurationError

    text = MAPPINGS + """
  Elsewhere:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {FunctionName: someone-elses, EventSourceArn: arn:aws:sqs:us-east-1:123456789012:q}
"""
    with pytest.raises(ConfigurationError, match="Elsewhere: FunctionName someone-elses is not a function"):
        built(tmp_path, text)


def test_the_stack_polls_each_mapping_as_it_polls_a_sam_event_of_its_source(tmp_path: Path, caplog):
    """A DynamoDB stream gets the stream poller, a queue the queue poller, with the mapping's properties; a
    disabled mapping is not polled; a source the stack cannot read is named in a warning."""
    from pipelinejobs.local.stack import LocalStack

    builder = built(tmp_path, MAPPINGS)
    handler = builder.functions["Fn"].handler = object()
    stack = LocalStack()
    stack.builder = builder
    made: list[tuple[str, Any, str, dict]] = []
    stack._stream_poller = lambda h, arn, properties: made.append(("stream", h, arn, properties)) or "stream-poller"
    stack._queue_poller = lambda h, arn, properties: made.append(("queue", h, arn, properties)) or "queue-poller"
    for mapping in builder.mappings.values():
        stack._wire_mapping(mapping)

    assert stack.pollers == ["stream-poller", "queue-poller"]
    assert [(kind, h is handler, arn) for kind, h, arn, _ in made] == [
        ("stream", True, builder.mappings["FromStream"].source_arn),
        ("queue", True, "arn:aws:sqs:us-east-1:123456789012:q")]
    assert made[0][3]["StartingPosition"] == "TRIM_HORIZON" and made[1][3]["BatchSize"] == 5
    assert "FromKinesis: source arn:aws:kinesis:us-east-1:123456789012:stream/k is not served locally" in caplog.text


def test_template_yamls_events_queue_and_stream_are_polled_for_their_functions_with_the_mappings_settings():
    """template.yaml feeds the events queue and the table's stream to their functions through
    AWS::Lambda::EventSourceMapping resources (no SAM SQS or DynamoDB event): the stack polls each for its function,
    with the batch size and partial batch failures the mapping states."""
    from pipelinejobs.local.stack import LocalStack

    queue_arn = "arn:aws:sqs:us-east-1:123456789012:pipelinejobs-local-EventsQueue"
    stream_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/pipelinejobs-local/stream/2024-01-01T00:00:00.000"
    template: Template | None = None

    def lookup(logical_id: str, attribute: str | None) -> str:
        if (logical_id, attribute) == ("EventsQueue", "Arn"):
            return queue_arn
        if (logical_id, attribute) == ("JobsTable", "StreamArn"):
            return stream_arn
        if attribute is None and template.resources[logical_id]["Type"] == "AWS::Serverless::Function":
            return f"pipelinejobs-local-{logical_id}"
        return f"arn:aws:sqs:us-east-1:123456789012:pipelinejobs-local-{logical_id}"  # the failure queue

    template = Template.load(lookup, parameters={"Stage": "local"}, outputs={"ApiUrl": "http://127.0.0.1:8787"})
    builder = resources.Builder(template, lambda service: FakeLambda(), "arn:aws:iam::123456789012:role/r", {})
    for logical_id, resource in template.resources.items():
        if resource["Type"] == "AWS::Serverless::Function":
            name = f"pipelinejobs-local-{logical_id}"
            builder.functions[logical_id] = resources.Function(
                logical_id, name, f"arn:aws:lambda:us-east-1:123456789012:function:{name}", {},
                template.function_properties(logical_id).get("Events", {}), handler=object())
    for logical_id, resource in template.resources.items():
        if resource["Type"] == "AWS::Lambda::EventSourceMapping":
            resources._event_source_mapping(builder, logical_id)
    assert not any(event["Type"] in ("SQS", "DynamoDB") for function in builder.functions.values()
                   for event in function.events.values())

    stack = LocalStack()
    stack.builder = builder
    made: dict[str, tuple[Any, str, dict]] = {}
    stack._queue_poller = lambda h, arn, properties: made.setdefault("queue", (h, arn, properties)) and "queue"
    stack._stream_poller = lambda h, arn, properties: made.setdefault(
        "workflows" if h is builder.functions["WorkflowsFunction"].handler else "stream",
        (h, arn, properties)) and "stream"
    for mapping in builder.mappings.values():
        stack._wire_mapping(mapping)

    assert sorted(stack.pollers) == ["queue", "stream", "stream"]
    handler, arn, properties = made["workflows"]
    assert arn == stream_arn and properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    handler, arn, properties = made["queue"]
    assert (handler, arn) == (builder.functions["EventsFunction"].handler, queue_arn)
    assert (properties["BatchSize"], properties["FunctionResponseTypes"]) == (10, ["ReportBatchItemFailures"])
    handler, arn, properties = made["stream"]
    assert (handler, arn) == (builder.functions["StreamFunction"].handler, stream_arn)
    assert properties["BatchSize"] == 25 and properties["DestinationConfig"]["OnFailure"]["Destination"]


# ---- Schedule events (the sweep) ----------------------------------------------------------------


def test_template_yamls_sweep_is_called_every_minute_by_the_local_stack():
    """SweepFunction's ``Schedule`` event (rate(1 minute)) becomes a poller calling it at that rate."""
    from types import SimpleNamespace

    from pipelinejobs.local.schedules import SchedulePoller
    from pipelinejobs.local.stack import LocalStack

    template = load_template()
    events = template["Resources"]["SweepFunction"]["Properties"]["Events"]
    function = resources.Function("SweepFunction", "pipelinejobs-local-sweep", "arn:sweep", {}, events)
    stack = LocalStack()
    stack.builder = SimpleNamespace(template=SimpleNamespace(resolve=lambda value: value))
    handler = object()

    stack._wire(function, handler)

    [poller] = stack.pollers
    assert isinstance(poller, SchedulePoller) and poller.function is handler
    assert (poller.idle_s, poller.name) == (60, "schedule:pipelinejobs-local-sweep-EveryMinute")


@pytest.mark.parametrize(("expression", "seconds"), [("rate(1 minute)", 60), ("rate(5 minutes)", 300),
                                                     ("rate(2 hours)", 7200), ("rate(1 day)", 86400)])
def test_a_schedules_rate_is_read_in_seconds(expression, seconds):
    from pipelinejobs.local.schedules import period_seconds

    assert period_seconds(expression) == seconds


def test_a_cron_schedule_is_refused_by_name():
    from pipelinejobs.local.schedules import period_seconds

    with pytest.raises(ValueError, match=r"cron\(0 \* \* \* \? \*\)"):
        period_seconds("cron(0 * * * ? *)")
