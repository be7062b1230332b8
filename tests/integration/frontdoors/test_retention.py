"""Retention on DynamoDB Local (docs/operations.md, "Delete and retention"): with PIPELINEJOBS_RETENTION_DAYS set,
retiring a job writes the table's TTL attribute on its item (in the event's own write) and bringing it back
removes it; when TTL removes the item, the stream function clears the rest of its partition, fed the stream's
real record of the removal (stamped as DynamoDB's TTL stamps it: DynamoDB Local has no TTL of its own)."""

from __future__ import annotations

from datetime import datetime

import pytest
from frontdoors import LambdaContext, handler_module
from moto.events.models import EventPattern
from test_stream_function import stream_event

import pipelinejobs as pj
from pipelinejobs.storage.tables import load_template

import support

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def item(uuid: str, sk: str = "JOB") -> dict | None:
    return next((i for i in support.table_items() if i["pk"]["S"] == f"JOB#{uuid}" and i["sk"]["S"] == sk), None)


def test_retiring_sets_the_ttl_attribute_and_a_reset_removes_it(job, monkeypatch):
    job.run().finish()
    assert "expires_at" not in item(job.uuid)  # not retired
    monkeypatch.setenv("PIPELINEJOBS_RETENTION_DAYS", "30")

    job.retire()

    record = job.refresh().record
    retired_at = datetime.fromisoformat(record.updated.replace("Z", "+00:00")).timestamp()
    assert int(item(job.uuid)["expires_at"]["N"]) == record.expires_at == int(retired_at) + 30 * 86400
    job.reset()
    assert "expires_at" not in item(job.uuid)


def test_without_retention_a_retired_job_is_kept(job):
    job.run().finish().retire()
    assert "expires_at" not in item(job.uuid)


def test_the_stream_function_clears_what_ttl_left_of_a_retired_job(job, tables):
    job.run().finish().retire()
    other = pj.PipelineJob(job.pipeline_uuid, {"kept": True}).setup().run()
    table, key = pj.Config.from_env().table, {"pk": {"S": f"JOB#{job.uuid}"}, "sk": {"S": "JOB"}}
    pj.service.get_store()._connection.client.delete_item(TableName=table, Key=key)  # what TTL does
    removal = stream_event(tables.table)["Records"][-1]
    assert (removal["eventName"], removal["dynamodb"]["Keys"]) == ("REMOVE", key)

    answer = handler_module("stream").handler({"Records": [{**removal, "userIdentity": TTL_IDENTITY}]},
                                              LambdaContext())

    assert answer == {"batchItemFailures": []}
    assert [i for i in support.table_items() if i["pk"]["S"] == f"JOB#{job.uuid}"] == []
    assert other.refresh().state == "RUNNING"


def test_a_removal_by_anyone_but_ttl_is_left_alone(job, tables):
    job.run().finish().retire()
    table, key = pj.Config.from_env().table, {"pk": {"S": f"JOB#{job.uuid}"}, "sk": {"S": "JOB"}}
    pj.service.get_store()._connection.client.delete_item(TableName=table, Key=key)
    left = [i for i in support.table_items() if i["pk"]["S"] == f"JOB#{job.uuid}"]
    removal = stream_event(tables.table)["Records"][-1]
    handler_module("stream").handler({"Records": [removal]}, LambdaContext())
    assert [i for i in support.table_items() if i["pk"]["S"] == f"JOB#{job.uuid}"] == left


@pytest.mark.parametrize(("record", "matched"), [
    ({"eventName": "REMOVE", "userIdentity": TTL_IDENTITY, "dynamodb": {"Keys": {"sk": {"S": "JOB"}}}}, True),
    ({"eventName": "REMOVE", "dynamodb": {"Keys": {"sk": {"S": "JOB"}}}}, False),  # a delete by a caller
    ({"eventName": "REMOVE", "userIdentity": TTL_IDENTITY, "dynamodb": {"Keys": {"sk": {"S": "EV#1"}}}}, False),
])
def test_the_streams_filter_lets_through_the_ttl_removal_of_a_job_item_only(record, matched):
    mapping = load_template()["Resources"]["StreamFunctionTableStream"]["Properties"]
    patterns = [EventPattern.load(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert any(pattern.matches_event(record) for pattern in patterns) is matched


def test_the_tables_ttl_attribute_is_the_one_retirement_writes():
    ttl = load_template()["Resources"]["JobsTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}
    assert pj.storage.models.bind("t", None, None).job.expires_at.attr_name == "expires_at"
