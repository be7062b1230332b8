"""DynamoDB faults on DynamoDB Local: throttling is retried, then fails clearly; a crash mid-event writes nothing.

Throttling is injected with a botocore ``before-send`` hook, which answers in place of
the engine. (Under moto this cannot work: moto's own hook runs first and applies the
request, so a "throttled" write would really have happened.)"""

from __future__ import annotations

import json

import pytest
from botocore.awsrequest import AWSResponse

import pipelinejobs as pj
from pipelinejobs.errors import StorageUnavailable

from support import new_job, table_items


@pytest.fixture(autouse=True)
def _tables(ddb_env):
    pj.create_tables()


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body


def throttle(operation: str, times: int) -> dict:
    """Answer the next ``times`` calls of ``operation`` with a throttling error, on every client of the store."""
    seen = {"throttled": 0, "calls": 0}

    def before_send(request, **_):
        if request.headers.get("X-Amz-Target", b"").decode().endswith(operation):
            seen["calls"] += 1
            if seen["throttled"] < times:
                seen["throttled"] += 1
                body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                                   "message": "Rate of requests exceeds the allowed throughput."}).encode()
                return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body))
        return None

    store = pj.service.get_store()
    clients = {id(c): c for c in (store._connection.client, store.models.job._get_connection().connection.client)}
    for client in clients.values():
        client.meta.events.register_first("before-send.dynamodb", before_send, unique_id=f"throttle-{id(client)}")
    return seen


def test_throttled_writes_are_retried_and_then_succeed():
    job = new_job()
    seen = throttle("TransactWriteItems", times=2)
    assert job.run().state == "RUNNING"
    assert seen == {"throttled": 2, "calls": 3}
    assert [h.name for h in job.history] == ["create", "run"]


def test_persistent_throttling_is_a_clear_503_and_writes_nothing():
    job = new_job()
    before = table_items()
    seen = throttle("TransactWriteItems", times=1000)
    with pytest.raises(StorageUnavailable) as unavailable:
        job.run()
    assert unavailable.value.status_code == 503
    message = str(unavailable.value)
    assert "ProvisionedThroughputExceededException" in message and "retry later" in message
    assert seen["calls"] > 1  # botocore retried before we gave up
    assert table_items() == before


def test_throttled_reads_fail_clearly_too():
    job = new_job()
    throttle("GetItem", times=1000)
    with pytest.raises(StorageUnavailable):
        job.run()


def test_a_crash_between_read_and_write_leaves_nothing_half_written(monkeypatch):
    job = new_job()
    before = table_items()
    store = pj.service.get_store()

    def crash(*_args, **_kwargs):
        raise RuntimeError("Lambda ran out of time mid-event")

    with monkeypatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(store, "commit_applied", crash)
        job.run({"big": "x" * 1000})
    assert table_items() == before
    assert job.run().state == "RUNNING"  # the retried delivery applies normally
    assert [h.name for h in job.history] == ["create", "run"]
