"""Event source mappings, done locally: poll a queue or a table's stream and invoke the function.

moto can push SQS messages and stream records to a Lambda function itself, but it does so inside
the request that wrote them (a DynamoDB write would wait for the stream function's completion
callbacks), with none of the mapping's settings (batch size, filter, partial batch failures), and
not at all for a table in DynamoDB Local. So, as Lambda's own pollers do, these threads read the
queue (ReceiveMessage) or the stream (DescribeStream, GetShardIterator, GetRecords: the same calls
against moto or DynamoDB Local), build the event Lambda would, and call the function in-process:

* SQS: a batch of up to ``BatchSize``; on success every message is deleted except those named in
  ``batchItemFailures`` (with ``ReportBatchItemFailures``); on an error none is, so each comes back
  after its visibility timeout and the queue's redrive policy applies.
* DynamoDB stream: records matching ``FilterCriteria`` (the EventBridge pattern syntax, matched
  by moto's own matcher), ``BatchSize`` at a time per shard. A failed batch is retried from its
  first failed record up to ``MaximumRetryAttempts`` times (with backoff), then its description
  goes to the ``OnFailure`` destination queue and the shard moves on. (``BisectBatchOnFunctionError``
  is not modelled: the retry starts at the failed record instead.)
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.events.models import EventPattern

log = logging.getLogger("pipelinejobs.local")

Function = Callable[[Any], Any]


def call(function: Function, event: Any, what: str) -> tuple[Any, bool]:
    """Invoke as Lambda does for a mapping: (result, True), or (None, False) if the handler raised."""
    try:
        return function(event), True
    except Exception:
        log.exception("%s: the function failed; the batch will be retried", what)
        return None, False


def failed_ids(result: Any, reports_failures: bool) -> set[str] | None:
    """The ``itemIdentifier`` of each ``batchItemFailures`` entry; None if the answer is not a valid report
    (Lambda then treats the whole batch as failed)."""
    if not reports_failures or not isinstance(result, dict) or not result.get("batchItemFailures"):
        return set()
    try:
        return {str(item["itemIdentifier"]) for item in result["batchItemFailures"]}
    except (KeyError, TypeError):
        return None


class Poller(threading.Thread):
    """A daemon thread calling :meth:`poll` until stopped; an error is logged and polling goes on."""

    idle_s = 0.2

    def __init__(self, name: str):
        super().__init__(name=name, daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.poll()
            except Exception:
                log.exception("%s: polling failed", self.name)
                busy = False
            if not busy:
                self.stopping.wait(self.idle_s)

    def poll(self) -> bool:
        """One round; True if there was work (poll again at once)."""
        raise NotImplementedError

    def stop(self) -> None:
        self.stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=10)


class QueuePoller(Poller):
    def __init__(self, sqs: Any, queue_url: str, queue_arn: str, function: Function, *, batch_size: int = 10,
                 reports_failures: bool = False, region: str = "us-east-1"):
        super().__init__(f"sqs:{queue_arn.rsplit(':', 1)[-1]}")
        self.sqs, self.queue_url, self.queue_arn, self.function = sqs, queue_url, queue_arn, function
        self.batch_size, self.reports_failures, self.region = batch_size, reports_failures, region

    def poll(self) -> bool:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=min(self.batch_size, 10), WaitTimeSeconds=1,
            AttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return False
        result, ok = call(self.function, {"Records": [self.record(m) for m in messages]}, self.name)
        failed = failed_ids(result, self.reports_failures) if ok else None
        if failed is None:
            return True
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done[start:start + 10])])
        return True

    def record(self, message: dict[str, Any]) -> dict[str, Any]:
        """A received message as a record of Lambda's SQS event."""
        attributes = {
            name: {"stringValue": value.get("StringValue"), "binaryValue": _text(value.get("BinaryValue")),
                   "stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
            for name, value in message.get("MessageAttributes", {}).items()
        }
        return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"], "attributes": message.get("Attributes", {}),
                "messageAttributes": attributes, "md5OfBody": message["MD5OfBody"], "eventSource": "aws:sqs",
                "eventSourceARN": self.queue_arn, "awsRegion": self.region}


class StreamPoller(Poller):
    def __init__(self, streams: Any, stream_arn: str, function: Function, *, batch_size: int = 100,
                 starting_position: str = "TRIM_HORIZON", filters: list[str] | None = None,
                 reports_failures: bool = False, max_retries: int = -1,
                 on_failure: Callable[[dict[str, Any]], None] | None = None, region: str = "us-east-1"):
        super().__init__(f"stream:{stream_arn.split('/')[1]}")
        self.streams, self.stream_arn, self.function = streams, stream_arn, function
        self.batch_size, self.starting_position = batch_size, starting_position
        self.patterns = [EventPattern.load(pattern) for pattern in filters or []]
        self.reports_failures, self.max_retries, self.on_failure, self.region = (reports_failures, max_retries,
                                                                                 on_failure, region)
        #: Shard id -> its next iterator (None: the shard is closed and read to its end).
        self.iterators: dict[str, str | None] = {}
        #: Records read but not yet handed over successfully, per shard, and the retries they have had.
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.retries: dict[str, int] = {}

    def poll(self) -> bool:
        self._discover_shards()
        busy = False
        for shard_id, iterator in list(self.iterators.items()):
            if not self.pending.get(shard_id) and iterator:
                answer = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
                self.iterators[shard_id] = answer.get("NextShardIterator")
                self.pending[shard_id] = [r for r in map(self.record, answer["Records"]) if self.matches(r)]
            if self.pending.get(shard_id):
                busy = True
                self._deliver(shard_id)
        return busy

    def _discover_shards(self) -> None:
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            if shard["ShardId"] not in self.iterators:
                self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType=self.starting_position,
                )["ShardIterator"]

    def _deliver(self, shard_id: str) -> None:
        batch = self.pending[shard_id][:self.batch_size]
        result, ok = call(self.function, {"Records": batch}, self.name)
        failed = failed_ids(result, self.reports_failures) if ok else None
        if failed == set():
            del self.pending[shard_id][:len(batch)]
            self.retries[shard_id] = 0
            return
        first = 0 if failed is None else next(
            (n for n, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed), 0)
        del self.pending[shard_id][:first]  # the records before the first failure are done
        self.retries[shard_id] = self.retries.get(shard_id, 0) + 1
        if 0 <= self.max_retries < self.retries[shard_id]:
            self._give_up(shard_id, batch[first:])
            return
        self.stopping.wait(min(2 ** self.retries[shard_id] * 0.1, 5.0))

    def _give_up(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        log.error("%s: giving up on %d record(s) after %d retries", self.name, len(batch), self.max_retries)
        if self.on_failure:
            self.on_failure({
                "requestContext": {"condition": "RetryAttemptsExhausted",
                                   "approximateInvokeCount": self.retries[shard_id]},
                "DDBStreamBatchInfo": {"shardId": shard_id, "streamArn": self.stream_arn, "batchSize": len(batch),
                                       "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                                       "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"]},
            })
        del self.pending[shard_id][:len(batch)]
        self.retries[shard_id] = 0

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        """A GetRecords record as a record of Lambda's DynamoDB stream event (JSON: epoch seconds, base64)."""
        return {**_jsonable({key: record[key] for key in ("eventID", "eventName", "eventVersion", "eventSource",
                                                            "dynamodb") if key in record}),
                "awsRegion": self.region, "eventSourceARN": self.stream_arn}

    def matches(self, record: dict[str, Any]) -> bool:
        return not self.patterns or any(pattern.matches_event(record) for pattern in self.patterns)


def _text(value: bytes | None) -> str | None:
    return base64.b64encode(value).decode() if value is not None else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bytes):  # B and BS attribute values: base64, as in Lambda's event
        return _text(value)
    return value
