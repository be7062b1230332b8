"""A job item's stream record as a "PipelineJob State Change" EventBridge event.

The detail is ``{uuid, pipeline, from, to, event, seq, updated, data}``:
``from`` is None for a job just created; ``data`` summarises the data of the
history entry that made the change (the entry whose ``seq`` is the job's new
version), cut down to its keys if it is large, so the event stays small. A
``fail``'s class (``failure``, pipelinejobs.failures) is also given on its own,
so it is there however large the data.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from ..clients import client
from ..config import Config
from ..events import compact_json
from ..service import get_store
from ..storage.models import JOB_SK

SOURCE = "pipelinejobs"
DETAIL_TYPE = "PipelineJob State Change"
#: Event data up to this size (compact JSON) is published whole; larger data is summarised by its keys.
SUMMARY_MAX_BYTES = 2048


def _plain(value: Any) -> Any:
    """Stream images hold Decimals; EventBridge wants JSON."""
    return json.loads(json.dumps(value, default=lambda v: int(v) if v == int(v) else float(v)))


def summarize(data: dict[str, Any]) -> dict[str, Any]:
    size = len(compact_json(data).encode())
    if size <= SUMMARY_MAX_BYTES:
        return data
    return {"truncated": True, "bytes": size, "keys": sorted(data)[:100]}


def _entry_data(uuid: str, seq: int) -> dict[str, Any]:
    entries = get_store(Config.from_env()).history(uuid, after=seq - 1, limit=1).entries
    return entries[0].data if entries and entries[0].seq == seq else {}


def state_change(record: DynamoDBRecord) -> dict[str, Any] | None:
    """The change a job item's stream record made, or None if it is not a job's change of state."""
    stream = record.dynamodb
    if stream is None or record.event_name is None or record.event_name.name not in ("INSERT", "MODIFY"):
        return None
    new, old = stream.new_image, stream.old_image
    if new.get("sk") != JOB_SK or new.get("state") == old.get("state"):
        return None
    seq = int(new["version"])
    data = _entry_data(new["uuid"], seq)
    return _plain({
        "uuid": new["uuid"], "pipeline": new.get("pipeline_uuid"), "from": old.get("state"), "to": new["state"],
        "event": new.get("last_event"), "seq": seq, "updated": new.get("updated"), "data": summarize(data),
        **({"failure": data["failure"]} if "failure" in data else {}),
    })


def _events() -> Any:
    return client("events")


#: PutEvents takes at most 10 entries a call.
MAX_ENTRIES = 10


class PublishFailed(RuntimeError):
    """EventBridge did not take a change: its stream record is retried."""


def put_events(changes: list[dict[str, Any]]) -> list[PublishFailed | None]:
    """Publish changes, up to ``MAX_ENTRIES`` a PutEvents call, in order. Returns, for each change, None if
    EventBridge took it, else why not: a refused entry fails its own change, a failed call its whole chunk."""
    bus = Config.current().event_bus
    outcomes: list[PublishFailed | None] = []
    for start in range(0, len(changes), MAX_ENTRIES):
        chunk = changes[start:start + MAX_ENTRIES]
        entries = [{"Source": SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps(change), "EventBusName": bus,
                    "Resources": []} for change in chunk]
        try:
            answer = _events().put_events(Entries=entries)
        except Exception as exc:  # throttled, or unreachable after botocore's retries: every change in the call
            outcomes += [PublishFailed(f"PutEvents failed: {exc}")] * len(chunk)
            continue
        if not answer.get("FailedEntryCount"):
            outcomes += [None] * len(chunk)
            continue
        results = answer["Entries"]  # one per entry, in order; a refused one has an ErrorCode
        outcomes += [PublishFailed(f"PutEvents refused the change: {result['ErrorCode']} "
                                   f"{result.get('ErrorMessage', '')}") if result.get("ErrorCode") else None
                     for result in results]
    return outcomes
