"""The workflow's items in the jobs table, and the requests that read and write them.

One partition per workflow, ``pk = WF#<uuid>``:

* ``WORKFLOW``: the workflow: name, spec, state, ``stopped`` (why it stopped starting jobs), ``epoch``
  (how many reruns it had: a stop's sweep acts only in the epoch it was called for),
  ``settled`` and ``complete`` (sets of node names), ``active`` (jobs holding a place under
  max_concurrency). Written by submit, kill, rerun and the release consumer.
* ``WORKFLOW#NODE#<name>``: a node: its spec (pipeline uuid resolved), ``after``, ``children``, ``state``
  (waiting, released, never_run), ``reason``, ``done_after`` (set of finished parents), ``total``,
  ``skipped``, and ``n_<STATE>``: its jobs counted by state. Written by submit and the consumer.
* ``SLOT#<name>#<index, 6 digits>``: one job of a node: its fan-out ``item``, ``uuid``, ``state`` and
  ``seq`` (the job's version last counted: the counting's idempotency marker), ``outputs``, ``never_run``,
  ``holds_place`` (while its job holds a place under max_concurrency).
* ``QUEUE#<name>#<index, 6 digits>``: a job waiting to be launched; ``granted`` once it holds a place;
  deleted once launched.

An engine's run (``engines/tracker.py``) is a workflow whose item and nodes carry ``engine``; its partition
also holds ``ALIAS#``, ``OUT#`` and ``EV#`` items (the tracker's, documented there).

``begins_with(sk, "WORKFLOW")`` reads the workflow and every node, counts included, in one Query. The
workflow item is also in the ``catalog`` index under ``gsi2pk = WORKFLOWS`` with
``gsi_sk = <state>#<created>#<uuid>``, so ``list(state, since)`` is a key condition, never a Scan.

The jobs' own event transactions never touch these items: the consumer writes them from the stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from .. import clients
from ..config import Config
from ..errors import StorageUnavailable

WORKFLOW_SK = "WORKFLOW"
NODE_PREFIX = "WORKFLOW#NODE#"
SLOT_PREFIX = "SLOT#"
QUEUE_PREFIX = "QUEUE#"
CATALOG_KEY = "WORKFLOWS"
CATALOG_INDEX = "catalog"

#: Rounds of a batch read or write whose unprocessed part is sent again (botocore's retries back off in each).
_BATCH_ROUNDS = 5
_serializer, _deserializer = TypeSerializer(), TypeDeserializer()
#: An attribute name in an expression (lowercase; keywords are uppercase, placeholders start with : or #).
_NAME = re.compile(r"(?<![:#\w])([a-z_][a-z0-9_]*)(?![\w(])")
_UNAVAILABLE = {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
                "InternalServerError", "ServiceUnavailable", "TransactionInProgressException"}


def pk(uuid: str) -> str:
    return f"WF#{uuid}"


def node_sk(name: str) -> str:
    return f"{NODE_PREFIX}{name}"


def slot_sk(name: str, index: int) -> str:
    return f"{SLOT_PREFIX}{name}#{index:06d}"


def queue_sk(name: str, index: int) -> str:
    return f"{QUEUE_PREFIX}{name}#{index:06d}"


def gsi_sk(state: str, created: str, uuid: str) -> str:
    return f"{state}#{created}#{uuid}"


def count_attribute(state: str) -> str:
    return f"n_{state}"


def plain(value: Any) -> Any:
    """DynamoDB's Decimals and sets as JSON-able values (ints, floats, sorted lists)."""
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    return value


def to_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def from_attributes(attributes: dict[str, Any] | None) -> dict[str, Any]:
    """An item (or a stream image) as plain Python values; sets stay sets (for ``settled``, ``done_after``)."""
    out = {}
    for key, value in (attributes or {}).items():
        decoded = _deserializer.deserialize(value)
        out[key] = decoded if isinstance(decoded, set) else plain(decoded)
    return out


def aliased(*expressions: str | None) -> tuple[list[str | None], dict[str, str]]:
    """The expressions with every attribute name as a ``#name`` placeholder, and the placeholders: DynamoDB
    reserves hundreds of words (state, total, name...), so no name is written bare."""
    names: dict[str, str] = {}

    def alias(match: re.Match) -> str:
        names[f"#{match.group(1)}"] = match.group(1)
        return f"#{match.group(1)}"

    return [_NAME.sub(alias, e) if e else e for e in expressions], names


def values(mapping: dict[str, Any]) -> dict[str, Any]:
    """Expression attribute values, serialised."""
    return {k: _serializer.serialize(v) for k, v in mapping.items()}


def error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    return (response or {}).get("Error", {}).get("Code") if isinstance(response, dict) else None


def cancellation_codes(exc: BaseException) -> list[str | None]:
    response = getattr(exc, "response", None) or {}
    return [reason.get("Code") if reason.get("Code") != "None" else None
            for reason in response.get("CancellationReasons", [])]


class Table:
    """The requests workflows make, on the jobs table (the client of clients.py: its retries and timeouts)."""

    def __init__(self, config: Config | None = None):
        self.config = config or Config.from_env()
        self.name = self.config.table
        self.client = clients.client("dynamodb", region=self.config.region, endpoint_url=self.config.endpoint_url)

    # ---- reads ----------------------------------------------------------------------

    def get(self, uuid: str, sk: str) -> dict[str, Any] | None:
        answer = self._call("get_item", TableName=self.name, Key=to_attributes({"pk": pk(uuid), "sk": sk}),
                            ConsistentRead=True)
        return from_attributes(answer["Item"]) if "Item" in answer else None

    def query(self, uuid: str, prefix: str, *, limit: int | None = None,
              projection: str | None = None) -> Iterator[dict[str, Any]]:
        """Items of the workflow whose sort key starts with ``prefix``, in key order, page by page."""
        request: dict[str, Any] = {
            "TableName": self.name, "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": values({":pk": pk(uuid), ":prefix": prefix}),
        }
        if projection:
            request["ProjectionExpression"] = projection
        if limit:
            request["Limit"] = limit
        while True:
            answer = self._call("query", **request)
            yield from map(from_attributes, answer.get("Items", []))
            if limit or "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def get_many(self, uuid: str, sks: list[str]) -> Iterator[dict[str, Any]]:
        """The items of the workflow with these sort keys that exist (BatchGetItem, 100 at a time)."""
        for start in range(0, len(sks), 100):
            keys = [to_attributes({"pk": pk(uuid), "sk": sk}) for sk in sks[start:start + 100]]
            request: dict[str, Any] = {self.name: {"Keys": keys, "ConsistentRead": True}}
            for _ in range(_BATCH_ROUNDS):
                answer = self._call("batch_get_item", RequestItems=request)
                yield from map(from_attributes, answer.get("Responses", {}).get(self.name, []))
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise StorageUnavailable("DynamoDB left items of a batch read unread; retry later")

    def catalog(self, state: str | None, since: str | None) -> Iterator[dict[str, Any]]:
        condition, names = "gsi2pk = :key", {":key": CATALOG_KEY}
        if state and since:
            condition += " AND gsi_sk BETWEEN :low AND :high"
            names |= {":low": f"{state}#{since}", ":high": f"{state}#\uffff"}
        elif state:
            condition += " AND begins_with(gsi_sk, :state)"
            names[":state"] = f"{state}#"
        request: dict[str, Any] = {"TableName": self.name, "IndexName": CATALOG_INDEX,
                                   "KeyConditionExpression": condition, "ExpressionAttributeValues": values(names)}
        while True:
            answer = self._call("query", **request)
            for item in map(from_attributes, answer.get("Items", [])):
                if not since or state or item.get("created", "") >= since:
                    yield item
            if "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    # ---- writes ---------------------------------------------------------------------

    def put_new(self, item: dict[str, Any]) -> bool:
        """Put ``item`` if no item has its key; False if one had."""
        try:
            self._call("put_item", TableName=self.name, Item=to_attributes(item),
                       ConditionExpression="attribute_not_exists(sk)")
        except _ConditionFailed:
            return False
        return True

    def update(self, uuid: str, sk: str, expression: str, *, condition: str | None = None,
               names: dict[str, str] | None = None, params: dict[str, Any] | None = None,
               returns: str = "NONE") -> dict[str, Any] | None:
        """One UpdateItem; None if its condition failed, else the attributes asked for with ``returns``."""
        (expression, condition), aliases = aliased(expression, condition)
        request: dict[str, Any] = {"TableName": self.name, "Key": to_attributes({"pk": pk(uuid), "sk": sk}),
                                   "UpdateExpression": expression, "ReturnValues": returns}
        if aliases or names:
            request["ExpressionAttributeNames"] = {**aliases, **(names or {})}
        if condition:
            request["ConditionExpression"] = condition
        if params:
            request["ExpressionAttributeValues"] = values(params)
        try:
            answer = self._call("update_item", **request)
        except _ConditionFailed:
            return None
        return from_attributes(answer.get("Attributes"))

    def put_many(self, rows: list[dict[str, Any]]) -> None:
        """Put these items, whatever was there (BatchWriteItem, 25 at a time)."""
        for start in range(0, len(rows), 25):
            request: dict[str, Any] = {self.name: [{"PutRequest": {"Item": to_attributes(row)}}
                                                   for row in rows[start:start + 25]]}
            for _ in range(_BATCH_ROUNDS):
                request = self._call("batch_write_item", RequestItems=request).get("UnprocessedItems") or {}
                if not request:
                    break
            else:
                raise StorageUnavailable("DynamoDB left items of a batch write unwritten; retry later")

    def delete(self, uuid: str, sk: str) -> None:
        self._call("delete_item", TableName=self.name, Key=to_attributes({"pk": pk(uuid), "sk": sk}))

    def transact(self, actions: list[dict[str, Any]]) -> bool:
        """TransactWriteItems of ``actions`` (each ``{"Update"|"Put"|"Delete"|"ConditionCheck": {...}}``
        without TableName); False if a condition failed (nothing written). A conflict with another
        transaction is retried by botocore's standard retries, then raised as StorageUnavailable."""
        for action in actions:
            next(iter(action.values()))["TableName"] = self.name
        try:
            self._call("transact_write_items", TransactItems=actions)
        except _ConditionFailed:
            return False
        return True

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**request)
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise _ConditionFailed() from exc
        except self.client.exceptions.TransactionCanceledException as exc:
            codes = set(cancellation_codes(exc)) - {None}
            if codes and codes <= {"ConditionalCheckFailed"}:
                raise _ConditionFailed() from exc
            raise StorageUnavailable(f"DynamoDB cancelled a workflow transaction ({', '.join(sorted(codes))}); "
                                     "retry later") from exc
        except Exception as exc:
            if error_code(exc) in _UNAVAILABLE or getattr(exc, "response", 1) is None:
                raise StorageUnavailable(f"DynamoDB is unavailable ({error_code(exc) or exc}); retry later") from exc
            raise


class _ConditionFailed(Exception):
    """Internal: a write's condition did not hold."""


def update_action(uuid: str, sk: str, expression: str, *, condition: str | None = None,
                  names: dict[str, str] | None = None, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """An Update of a transaction."""
    (expression, condition), aliases = aliased(expression, condition)
    body: dict[str, Any] = {"Key": to_attributes({"pk": pk(uuid), "sk": sk}), "UpdateExpression": expression}
    if aliases or names:
        body["ExpressionAttributeNames"] = {**aliases, **(names or {})}
    if condition:
        body["ConditionExpression"] = condition
    if params:
        body["ExpressionAttributeValues"] = values(params)
    return {"Update": body}


def put_action(item: dict[str, Any], condition: str | None = "attribute_not_exists(sk)") -> dict[str, Any]:
    body: dict[str, Any] = {"Item": to_attributes(item)}
    if condition:
        (condition,), aliases = aliased(condition)
        body |= {"ConditionExpression": condition, "ExpressionAttributeNames": aliases}
    return {"Put": body}


def check_action(uuid: str, sk: str, condition: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ConditionCheck of a transaction: the transaction's writes happen only while ``condition`` holds."""
    (condition,), aliases = aliased(condition)
    body: dict[str, Any] = {"Key": to_attributes({"pk": pk(uuid), "sk": sk}), "ConditionExpression": condition}
    if aliases:
        body["ExpressionAttributeNames"] = aliases
    if params:
        body["ExpressionAttributeValues"] = values(params)
    return {"ConditionCheck": body}


def delete_action(uuid: str, sk: str, condition: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"Key": to_attributes({"pk": pk(uuid), "sk": sk})}
    if condition:
        (condition,), aliases = aliased(condition)
        body |= {"ConditionExpression": condition, "ExpressionAttributeNames": aliases}
    return {"Delete": body}
