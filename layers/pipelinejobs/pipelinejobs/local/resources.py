"""Create template.yaml's resources in moto (the table wherever DynamoDB is), as CloudFormation would.

Each resource type the local stack models has a creator below; a resource is created when first
referred to (``!Ref``/``!GetAtt``), so the template's own references give the order. The types
it does not model are skipped knowingly, each for the reason in :data:`SKIPPED`; a type in
neither table is skipped with a warning, so a new kind of resource is noticed at start.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError
from ..storage.tables import table_definition
from .lambda_runtime import InProcessFunction
from .moto_patches import Handler, placeholder_code
from .template import Template, substitute

log = logging.getLogger("pipelinejobs.local")

#: Resource types the local stack does not create, and why that is safe.
SKIPPED: dict[str, str] = {
    "AWS::Serverless::LayerVersion": "the pipelinejobs package is imported from this checkout",
    "AWS::Serverless::HttpApi": "served by pipelinejobs.local.http from the functions' HttpApi events",
    "AWS::IAM::ManagedPolicy": "moto does not enforce IAM; functions run with this process's rights",
    "AWS::Logs::LogGroup": "function logs go to this process's output",
    "AWS::CloudWatch::Alarm": "nothing watches metrics locally",
}

#: Attributes of a created resource: ``None`` is what ``!Ref`` gives.
Attributes = dict[str | None, Any]


@dataclass
class Function:
    """A serverless function as the stack serves it: in-process, with its event sources."""

    logical_id: str
    name: str
    arn: str
    environment: dict[str, str]
    #: The function's ``Events``, unresolved: the stack wires each source by its type.
    events: dict[str, dict[str, Any]]
    #: Set by :meth:`Builder.serve`, once the process has the functions' environment.
    handler: InProcessFunction | None = None


@dataclass
class EventSourceMapping:
    """An ``AWS::Lambda::EventSourceMapping`` of the template: the stack polls its source for its function.
    Nothing is created in moto's Lambda, which would push records itself (see :mod:`.pollers`)."""

    logical_id: str
    #: The logical id of the template function it invokes.
    function: str
    source_arn: str
    #: Its properties, resolved (CloudFormation's names: ``BatchSize``, ``FilterCriteria``, ``DestinationConfig``...).
    properties: dict[str, Any]


@dataclass
class Builder:
    template: Template
    #: boto3 client for a service: DynamoDB's endpoint for dynamodb, moto's for the rest.
    client: Callable[[str], Any]
    role_arn: str
    #: Where in-process handlers are registered for moto's Lambda (``moto_patches.Patches.functions``).
    handlers: MutableMapping[str, Handler]
    created: dict[str, tuple[str, Attributes]] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    mappings: dict[str, EventSourceMapping] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    #: Tables that were there already (a --data-dir or --dynamodb-endpoint of an earlier start): kept as they are.
    kept: set[str] = field(default_factory=set)
    _creating: set[str] = field(default_factory=set)

    def build(self) -> None:
        """Every resource of the template, created or knowingly skipped."""
        for logical_id, resource in self.template.resources.items():
            if resource["Type"] in _CREATORS:
                self.ensure(logical_id)
            else:
                reason = SKIPPED.get(resource["Type"])
                self.skipped[logical_id] = reason or "not modelled locally"
                (log.debug if reason else log.warning)("skipped %s (%s): %s", logical_id, resource["Type"],
                                                       self.skipped[logical_id])

    def serve(self, function: Function) -> InProcessFunction:
        """Import the function's handler and have moto's Lambda call it. Done once the environment is the
        functions' own: modules read it on import (Powertools' Logger takes its service name then)."""
        properties = self.template.function_properties(function.logical_id)
        function.handler = InProcessFunction.load(
            self.template.root / properties["CodeUri"], properties["Handler"], function.name,
            timeout_s=int(properties.get("Timeout", 3)), memory_mb=int(properties.get("MemorySize", 128)),
            region=self.template.region)
        self.handlers[function.name] = function.handler
        return function.handler

    def lookup(self, logical_id: str, attribute: str | None) -> Any:
        """``!Ref`` (attribute None) or ``!GetAtt`` of a resource; the template's references call this."""
        attributes = self.ensure(logical_id)
        if attribute not in attributes:
            what = f"!GetAtt {logical_id}.{attribute}" if attribute else f"!Ref {logical_id}"
            raise ConfigurationError(f"{what}: not known locally (pipelinejobs/local/resources.py)")
        return attributes[attribute]

    def ensure(self, logical_id: str) -> Attributes:
        if logical_id in self.created:
            return self.created[logical_id][1]
        resource_type = self.template.resources[logical_id]["Type"]
        if resource_type not in _CREATORS:
            raise ConfigurationError(f"{logical_id} ({resource_type}) is not created locally: "
                                     f"{SKIPPED.get(resource_type, 'not modelled')}")
        if logical_id in self._creating:
            raise ConfigurationError(f"{logical_id} refers to itself through its properties")
        self._creating.add(logical_id)
        try:
            attributes = _CREATORS[resource_type](self, logical_id)
        finally:
            self._creating.discard(logical_id)
        self.created[logical_id] = (resource_type, attributes)
        log.debug("created %s (%s): %s", logical_id, resource_type, attributes[None])
        return attributes

    def by_attribute(self, attribute: str, value: Any) -> str:
        """The logical id of the created resource whose ``attribute`` is ``value`` (e.g. a queue by its ARN)."""
        for logical_id, (_type, attributes) in self.created.items():
            if attributes.get(attribute) == value:
                return logical_id
        raise ConfigurationError(f"no resource created locally has {attribute} {value}")

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.template.resources[logical_id].get("Properties", {})

    def name(self, logical_id: str, given: Any) -> str:
        """The physical name: the template's, else ``<stack>-<LogicalId>`` as CloudFormation would (less its suffix)."""
        return self.template.resolve(given) if given else f"{self.template.stack_name}-{logical_id}"


def _table(builder: Builder, logical_id: str) -> Attributes:
    name = builder.name(logical_id, builder.properties(logical_id).get("TableName"))
    dynamodb = builder.client("dynamodb")
    try:
        dynamodb.create_table(TableName=name, **table_definition(logical_id, builder.template.body))
    except dynamodb.exceptions.ResourceInUseException:
        builder.kept.add(logical_id)
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    table = dynamodb.describe_table(TableName=name)["Table"]
    return {None: name, "Arn": table["TableArn"], "StreamArn": table.get("LatestStreamArn")}


def _queue(builder: Builder, logical_id: str) -> Attributes:
    properties = builder.template.resolve(builder.properties(logical_id))
    name = builder.name(logical_id, properties.pop("QueueName", None))
    properties.pop("Tags", None)
    # CloudFormation's property names are SQS's attribute names; SQS wants every value as a string.
    attributes = {key: _attribute_text(value) for key, value in properties.items()}
    sqs = builder.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {None: url, "Arn": arn, "QueueName": name, "QueueUrl": url}


def _attribute_text(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _event_bus(builder: Builder, logical_id: str) -> Attributes:
    name = builder.name(logical_id, builder.properties(logical_id).get("Name"))
    arn = builder.client("events").create_event_bus(Name=name)["EventBusArn"]
    return {None: name, "Arn": arn, "Name": name}


def _function(builder: Builder, logical_id: str) -> Attributes:
    template = builder.template
    properties = template.function_properties(logical_id)
    name = builder.name(logical_id, properties.get("FunctionName"))
    environment = {key: str(value) for key, value in
                   template.resolve(properties.get("Environment", {}).get("Variables", {})).items()}
    timeout, memory = int(properties.get("Timeout", 3)), int(properties.get("MemorySize", 128))
    arn = builder.client("lambda").create_function(
        FunctionName=name, Runtime=properties["Runtime"], Role=builder.role_arn, Handler=properties["Handler"],
        Code={"ZipFile": placeholder_code()}, Timeout=timeout, MemorySize=memory,
        Description=properties.get("Description", ""), Environment={"Variables": environment},
    )["FunctionArn"]
    builder.functions[logical_id] = Function(logical_id, name, arn, environment, properties.get("Events", {}))
    return {None: name, "Arn": arn}


def _event_source_mapping(builder: Builder, logical_id: str) -> Attributes:
    properties = builder.template.resolve(builder.properties(logical_id))
    target = properties["FunctionName"]  # a name, an ARN (with or without a version or alias), or a partial ARN
    name = target.split(":function:", 1)[-1].split(":", 1)[0]
    function = next((f.logical_id for f in builder.functions.values() if f.name == name or f.arn == target), None)
    if function is None:
        raise ConfigurationError(f"{logical_id}: FunctionName {target} is not a function of the template, "
                                 "so nothing can serve it locally")
    mapping_id = str(uuid.uuid4())  # what Lambda names a mapping (its Ref and Id)
    builder.mappings[logical_id] = EventSourceMapping(logical_id, function, properties["EventSourceArn"], properties)
    return {None: mapping_id, "Id": mapping_id}


def _state_machine(builder: Builder, logical_id: str) -> Attributes:
    template = builder.template
    properties = builder.properties(logical_id)
    name = builder.name(logical_id, properties.get("Name"))
    if "DefinitionUri" in properties:
        definition = (template.root / properties["DefinitionUri"]).read_text()
    else:
        definition = json.dumps(properties["Definition"])
    substitutions = template.resolve(properties.get("DefinitionSubstitutions", {}))
    arn = builder.client("stepfunctions").create_state_machine(
        name=name, definition=substitute(definition, substitutions), roleArn=builder.role_arn,
        type=properties.get("Type", "STANDARD"),
    )["stateMachineArn"]
    return {None: arn, "Arn": arn, "Name": name}


_CREATORS: dict[str, Callable[[Builder, str], Attributes]] = {
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Serverless::Function": _function,
    "AWS::Lambda::EventSourceMapping": _event_source_mapping,
    "AWS::Serverless::StateMachine": _state_machine,
}
