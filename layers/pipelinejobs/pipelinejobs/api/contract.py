"""The webhook's contract: the committed OpenAPI document, read at run time.

``openapi.json`` beside this module is the source of truth for what the API
takes and answers. It is written by hand (contract first) and the code reads it
rather than restating it: query parameters are coerced and checked against the
schemas it declares, and a job is served through the ``JobView`` schema's
properties, an allow-list (a field added to the job record, such as
orchestration's task token, which is a credential, is not served until the
document names it). Tests hold the document and the routes to each other, and
schemathesis holds the answers to the document.

Reading the document instead of declaring parameters with Powertools' OpenAPI
validation keeps pydantic out of the webhook's cold start (about 50 ms, the
difference between meeting and missing its cold-import goal).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from .. import events
from ..errors import InvalidEvent
from ..events import TOO_DEEP, nested_too_deeply
from ..records import HistoryEntry, JobRecord

DOCUMENT = "openapi.json"
#: The document's URI for schema references: a parameter's ``#/components/...`` is resolved in it.
_BASE = "urn:pipelinejobs:webhook"


def document_text() -> str:
    return resources.files(__package__).joinpath(DOCUMENT).read_text()


@cache
def document() -> dict[str, Any]:
    return json.loads(document_text())


@cache
def _operations() -> dict[str, dict[str, Any]]:
    return {operation["operationId"]: operation
            for methods in document()["paths"].values() for operation in methods.values()}


def _validator(schema: dict[str, Any]):
    """A validator of ``schema``, whose ``#/components/...`` references are resolved in the document."""
    from jsonschema import Draft202012Validator  # OpenAPI 3.1's schema dialect
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    registry = Registry().with_resource(_BASE, DRAFT202012.create_resource(document()))
    return Draft202012Validator(schema, registry=registry)


def _absolute(schema: dict[str, Any]) -> dict[str, Any]:
    reference = schema.get("$ref", "")
    return {**schema, "$ref": _BASE + reference} if reference.startswith("#") else schema


@cache
def _query_validator(operation_id: str):
    parameters = [p for p in _operations()[operation_id].get("parameters", []) if p["in"] == "query"]
    return _validator({"type": "object", "properties": {p["name"]: _absolute(p["schema"]) for p in parameters}})


@cache
def _body_validator(operation_id: str):
    return _validator(_absolute(_operations()[operation_id]["requestBody"]["content"]["application/json"]["schema"]))


def body(operation_id: str, value: Any) -> dict[str, Any]:
    """The operation's JSON request body, checked against its schema in the document; else ``InvalidEvent`` (400)
    naming every field at fault."""
    if not isinstance(value, dict):
        raise InvalidEvent.single("(body)", f"must be a JSON object, not {type(value).__name__}")
    errors = sorted(_body_validator(operation_id).iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        raise InvalidEvent([{"field": field, "problem": _body_problem(error)}
                            for error in errors for field in events.field_of(error)])
    return value


def _body_problem(error) -> str:
    if error.validator == "additionalProperties":
        return "is not a field of this request"
    if error.validator == "pattern":
        return f"is not in the documented form: {error.schema.get('description', error.validator_value)}"
    return events.problem(error)


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    """A query string's text as its declared type: only integers need it here (and a word that is not one stays
    text, so the schema check names it)."""
    if schema.get("type") == "integer" and value.lstrip("-").isascii() and value.lstrip("-").isdigit():
        return int(value)
    return value


def query(operation_id: str, given: Mapping[str, str] | None) -> dict[str, Any]:
    """The operation's declared query parameters, coerced, checked and with their defaults.

    Parameters the operation does not declare are ignored, as API Gateway would. Raises
    ``InvalidEvent`` (400) naming every parameter at fault.
    """
    validator = _query_validator(operation_id)
    declared = validator.schema["properties"]
    values = {name: _coerce(text, declared[name]) for name, text in (given or {}).items() if name in declared}
    problems = [{"field": str(error.path[0]), "problem": _problem(error)}
                for error in sorted(validator.iter_errors(values), key=lambda e: list(e.path))]
    if problems:
        raise InvalidEvent(problems)
    defaults = {name: schema["default"] for name, schema in declared.items() if "default" in schema}
    return {**dict.fromkeys(declared), **defaults, **values}


def _problem(error) -> str:
    if error.validator == "type" and error.validator_value == "integer":
        return f"must be an integer, not {events.shown(error.instance)}"
    return events.problem(error)  # the token's and event's schemas are the PipelineJobEvent's: the same words


def served(schema_name: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``record`` that the document's ``schema_name`` schema lists, and no others."""
    return {name: record[name] for name in document()["components"]["schemas"][schema_name]["properties"]
            if name in record}


def servable(record: JobRecord | HistoryEntry) -> JobRecord | HistoryEntry:
    """``record`` with its data as served: the depth limit intake holds, held on the way out too. Data deeper
    (stored before intake refused it, or given to a job's setup) is summarised by its keys, as change
    notifications summarise large data, so that the job stays readable rather than failing every read."""
    if not nested_too_deeply(record.data):
        return record
    return dataclasses.replace(record, data={"truncated": True, "problem": TOO_DEEP, "keys": sorted(record.data)[:100]})
