"""DynamoDB faults on DynamoDB Local: throttling is retried, then fails clearly; a crash mid-event writes nothing.

Faults are injected with botocore ``before-send`` hooks (tests/faults.py)."""

from __future__ import annotations

import pytest
from faults import operation

import pipelinejobs as pj
from pipelinejobs.errors import StorageUnavailable

from support import new_job, table_items


@pytest.fixture(autouse=True)
def _tables(ddb_env):
    pj.create_tables()


@pytest.fixture
def throttle(dynamodb_faults):
    """Answer the next ``times`` calls of ``operation`` with a throttling error."""
    return lambda name, times: dynamodb_faults.throttle(operation(name), times)


def test_throttled_writes_are_retried_and_then_succeed(throttle):
    job = new_job()
    seen = throttle("TransactWriteItems", times=2)
    assert job.run().state == "RUNNING"
    assert seen == {"faults": 2, "calls": 3}
    assert [h.name for h in job.history] == ["create", "run"]


def test_persistent_throttling_is_a_clear_503_and_writes_nothing(throttle):
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


def test_throttled_reads_fail_clearly_too(throttle):
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


#: Every read the store makes outside an event's flow, and the request each sends.
READS = {
    "job list (GSI Query)": ("Query", lambda job: pj.list_jobs()),
    "history page (Query)": ("Query", lambda job: job.history),
    "pipeline list (GSI Query)": ("Query", lambda job: pj.list_pipelines()),
    "pipeline (GetItem)": ("GetItem", lambda job: pj.get_pipeline(job.pipeline_uuid)),
    "job (GetItem)": ("GetItem", lambda job: pj.get_job(job.uuid)),
}


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_a_throttled_read_of_any_kind_is_storage_unavailable(throttle, read):
    operation_name, make = read
    job = new_job()
    seen = throttle(operation_name, times=1000)
    with pytest.raises(StorageUnavailable, match="ProvisionedThroughputExceededException"):
        make(job)
    assert seen["calls"] > 1  # botocore retried first


def test_a_reset_on_a_read_is_storage_unavailable(dynamodb_faults):
    job = new_job()
    dynamodb_faults.reset(operation("Query"))
    with pytest.raises(StorageUnavailable, match="Connection was closed before we received a valid response"):
        list(job.history)
