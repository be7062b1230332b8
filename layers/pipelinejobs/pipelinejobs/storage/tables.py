"""Create the table(s) from ``template.yaml``: one definition for AWS and for local.

Tests and the local stack call :func:`create_tables`, which reads every
``AWS::DynamoDB::Table`` in the SAM template and creates it at the configured
endpoint under the configured name. It is idempotent: an existing table is kept.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import ConfigurationError

#: Properties of AWS::DynamoDB::Table that CreateTable takes as they are.
_CREATE_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes",
                      "BillingMode", "ProvisionedThroughput", "StreamSpecification")
JOBS_TABLE_LOGICAL_ID = "JobsTable"


def template_path() -> Path:
    """``PIPELINEJOBS_TEMPLATE`` or the template.yaml of the source tree this package is in."""
    template = Config.current().template
    if template:
        return Path(template)
    for parent in Path(__file__).resolve().parents:
        if (parent / "template.yaml").is_file():
            return parent / "template.yaml"
    raise ConfigurationError("template.yaml not found: set PIPELINEJOBS_TEMPLATE to its path")


def load_template(path: Path | None = None) -> dict[str, Any]:
    """Parse a SAM/CloudFormation template, keeping intrinsic tags (``!Sub``...) as ``{"Fn::Sub": ...}``."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def intrinsic(loader, suffix, node):
        name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    Loader.add_multi_constructor("!", intrinsic)
    return yaml.load((path or template_path()).read_text(), Loader=Loader)


def table_definition(logical_id: str = JOBS_TABLE_LOGICAL_ID, template: dict | None = None) -> dict[str, Any]:
    """The CreateTable arguments (less TableName) of one table in the template."""
    resource = (template or load_template())["Resources"][logical_id]
    if resource["Type"] != "AWS::DynamoDB::Table":
        raise ConfigurationError(f"{logical_id} in template.yaml is not an AWS::DynamoDB::Table")
    properties = resource["Properties"]
    definition = {key: properties[key] for key in _CREATE_TABLE_KEYS if key in properties}
    if "StreamSpecification" in definition:  # CloudFormation implies StreamEnabled; the API wants it said
        definition["StreamSpecification"] = {"StreamEnabled": True, **definition["StreamSpecification"]}
    return definition


def create_tables(config: Config | None = None) -> list[str]:
    """Create the jobs table at the configured endpoint if it does not exist; return its name."""
    from ..clients import client as aws_client

    config = config or Config.from_env()
    client = aws_client("dynamodb", region=config.region, endpoint_url=config.endpoint_url)
    with contextlib.suppress(client.exceptions.ResourceInUseException):  # already there: idempotent
        client.create_table(TableName=config.table, **table_definition())
    client.get_waiter("table_exists").wait(TableName=config.table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return [config.table]
