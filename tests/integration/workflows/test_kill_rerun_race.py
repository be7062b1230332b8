"""A kill's stream record handled after a rerun (DynamoDB Local + the real ASL in moto, the consumer driven by
hand): the kill's sweep must leave the rerun's queued jobs and reopened nodes alone."""

from __future__ import annotations

from typing import Any

from workflows_support import Stack

from pipelinejobs import workflows
from pipelinejobs.workflows import items, release
from pipelinejobs.workflows.items import Table

#: Simulated seconds no test reaches: a job that runs until stopped.
FOREVER = 10**9


def stopping_record(batches: list[list[dict[str, Any]]], uuid: str) -> dict[str, Any]:
    """The stream record of the write that stopped the workflow (its ``stopped`` appears)."""
    for record in (record for batch in batches for record in batch):
        stream = record["dynamodb"]
        if stream["Keys"] == items.to_attributes({"pk": items.pk(uuid), "sk": items.WORKFLOW_SK}) and \
                "stopped" in stream.get("NewImage", {}) and "stopped" not in stream.get("OldImage", {}):
            return record
    raise AssertionError(f"no record stopped workflow {uuid}")


def test_a_kill_record_handled_after_a_rerun_leaves_the_rerun_alone(stack: Stack):
    stack.pipeline("step")
    wf = workflows.submit({"name": "kill-then-rerun", "jobs": {
        "slow": {"pipeline": "step", "data": {"duration": FOREVER}},
        "end": {"pipeline": "step", "after": ["slow"]},
    }})
    stack.until(lambda: workflows.get(wf.uuid).counts.get("RUNNING") == 1, what="the slow job running")
    workflows.kill(wf.uuid)
    stack.until(lambda: workflows.get(wf.uuid).counts == {"FAILED": 1}, what="the killed job counted")
    stack.wait(wf.uuid)
    kill_record = stopping_record(stack.batches, wf.uuid)
    stack.poller.stop()  # from here the consumer sees only what this test hands it

    workflows.rerun(wf.uuid)  # queues the killed job again and reopens `end`
    table = Table()
    assert table.get(wf.uuid, items.queue_sk("slow", 0)) is not None
    answer = release.process([kill_record])  # the kill's record, late: after the rerun's writes

    assert answer == {"batchItemFailures": []}
    assert table.get(wf.uuid, items.queue_sk("slow", 0)) is not None  # still queued for its next attempt
    after = workflows.get(wf.uuid)
    assert (after.state, after.stopped) == ("RUNNING", None)
    assert after.node("end").state == "waiting" and not after.node("end").never_run
