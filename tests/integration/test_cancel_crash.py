"""cancel() killed at every request boundary, on DynamoDB Local: whatever was done, the job is either whole or
gone for every reader, a re-run of cancel (or a new setup) finishes the delete, and the same inputs then run
afresh: version 1, a history of one entry, old event ids applied again rather than answered as duplicates.
An admin's delete() (the same delete, its tombstone kept) killed likewise is finished by a re-run, leaving the
tombstone of the first, and nothing else.

The cancel runs in a child process that SIGKILLs itself as its HTTP request N is about to leave (so requests
1..N-1 were answered), for every N until a child lives to the end."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

import pytest

import pipelinejobs as pj
from pipelinejobs.errors import JobNotFound

import support

CHILD = """
import os, signal, sys
from botocore.httpsession import URLLib3Session
import pipelinejobs as pj

kill_at, pipeline, data, verb = int(sys.argv[1]), sys.argv[2], {"n": int(sys.argv[3])}, sys.argv[4]
send, sent = URLLib3Session.send, 0

def counted(self, request):  # every HTTP request of every botocore client
    global sent
    sent += 1
    if sent == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return send(self, request)

URLLib3Session.send = counted
job = pj.PipelineJob(pipeline, data)
job.cancel() if verb == "cancel" else job.delete(by="admin-1")
"""

#: Events sent before the cancel: an applied update and a refused finish, each with an id (so the partition
#: holds history entries, an id marker and a refusal marker).
EVENTS = [("update", "u-1"), ("finish", "f-1")]


def prepared(pipeline: str, n: int) -> pj.PipelineJob:
    job = pj.PipelineJob(pipeline, {"n": n}).setup()
    for event, event_id in EVENTS:
        with contextlib.suppress(pj.errors.InvalidTransition):  # a refusal is recorded, as meant
            pj.handle_event({"uuid": job.uuid, "event": event, "id": event_id}, trusted=True)
    return job


def partition(uuid: str) -> list[str]:
    return [item["sk"]["S"] for item in support.table_items() if item["pk"]["S"] == f"JOB#{uuid}"]


def cancel_killed_at(kill_at: int, pipeline: str, n: int, verb: str = "cancel") -> int:
    return subprocess.run([sys.executable, "-c", CHILD, str(kill_at), pipeline, str(n), verb], env=os.environ,
                          capture_output=True, timeout=120).returncode


@pytest.mark.parametrize("heal", ["cancel again", "setup again"])
def test_a_cancel_killed_at_any_request_is_finished_and_the_job_can_run_again(ddb_env, heal):
    pj.create_tables()
    pipeline = pj.register_pipeline("cancel-crash", components=["step"], task={"launcher": "local"}).uuid
    kill_at = 0
    while True:
        kill_at += 1
        assert kill_at < 20, "cancel never finished"
        job = prepared(pipeline, kill_at)
        whole = partition(job.uuid)
        code = cancel_killed_at(kill_at, pipeline, kill_at)
        if code == 0:
            assert partition(job.uuid) == []  # a cancel that ran to its end left nothing
            break
        assert code == -signal.SIGKILL
        left = partition(job.uuid)
        assert left == whole or "JOB" not in left  # whole, or gone for every reader
        if "JOB" not in left:
            with pytest.raises(JobNotFound):
                pj.handle_event({"uuid": job.uuid, "event": "update", "id": "late"}, trusted=True)
        if heal == "cancel again" or left == whole:  # a job left whole is cancelled again in full
            pj.PipelineJob(pipeline, {"n": kill_at}).cancel()
            assert partition(job.uuid) == []
        fresh = pj.PipelineJob(pipeline, {"n": kill_at}).setup()
        assert (fresh.record.version, [e.name for e in fresh.history]) == (1, ["create"])
        outcome = pj.handle_event({"uuid": job.uuid, "event": "update", "id": "u-1"}, trusted=True)
        assert (outcome.duplicate, outcome.seq) == (False, 2)  # the old id is not mistaken for a duplicate
    assert kill_at > 4  # read, delete, list, clear: the boundaries between the cancel's requests were all tried


def test_setup_heals_the_history_an_older_interrupted_delete_left_without_a_tombstone(ddb_env):
    job = support.new_job("leftovers")
    job.update({"step": 1})
    client = pj.service.get_store()._connection.client
    client.delete_item(TableName=pj.Config.from_env().table, Key={"pk": {"S": f"JOB#{job.uuid}"}, "sk": {"S": "JOB"}})
    fresh = pj.PipelineJob(job.pipeline_uuid, job.data).setup()
    assert (fresh.record.version, [e.name for e in fresh.history]) == (1, ["create"])
    assert fresh.update({"step": 1}).record.version == 2


def test_cancelling_a_job_that_never_existed_is_still_job_not_found(ddb_env):
    job = support.new_job("never")
    with pytest.raises(JobNotFound):
        pj.PipelineJob(job.pipeline_uuid, {"other": 1}).cancel()
    assert partition(pj.PipelineJob(job.pipeline_uuid, {"other": 1}).uuid) == []


def test_an_admin_delete_killed_at_any_request_is_finished_leaving_only_its_tombstone(ddb_env):
    pj.create_tables()
    pipeline = pj.register_pipeline("delete-crash", components=["step"], task={"launcher": "local"}).uuid
    kill_at = 0
    while True:
        kill_at += 1
        assert kill_at < 20, "delete never finished"
        job = prepared(pipeline, kill_at)
        job.run()
        whole = partition(job.uuid)
        code = cancel_killed_at(kill_at, pipeline, kill_at, "delete")
        left = partition(job.uuid)
        if code == 0:
            assert left == ["DELETING"]  # a delete that ran to its end left its tombstone alone
            break
        assert code == -signal.SIGKILL
        assert left == whole or "JOB" not in left  # whole, or gone for every reader
        first = support.table_items() if "JOB" not in left else None
        pj.PipelineJob(pipeline, {"n": kill_at}).delete(by="admin-2")
        assert partition(job.uuid) == ["DELETING"]
        if first is not None:  # the interrupted delete's tombstone stays: who and when are the first's
            tombstone = next(i for i in support.table_items() if i["pk"]["S"] == f"JOB#{job.uuid}")
            assert tombstone in first and tombstone["deleted_by"]["S"] == "admin-1"
        with pytest.raises(pj.errors.JobDeleted):
            pj.PipelineJob(pipeline, {"n": kill_at}).setup()
    assert kill_at > 4  # read, delete, list, clear: the boundaries between the delete's requests were all tried
