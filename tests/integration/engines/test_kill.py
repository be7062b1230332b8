"""Closing an engine run whose engine will never say it ended (killed with -9, its last message lost): the user's
``workflows.kill``; and ``workflows.rerun``, which cannot restart an engine, refused (DynamoDB Local with the
release consumer)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import pipelinejobs
from pipelinejobs import workflows
from pipelinejobs.cli.app import cli
from pipelinejobs.engines import tracker
from pipelinejobs.engines.model import RunEvent, TaskEvent
from pipelinejobs.errors import WorkflowStateConflict

E = "testengine"


def run(kind: str, key: str, **fields) -> RunEvent:
    return RunEvent(engine=E, run="r1", kind=kind, key=key, **fields)


def task(name: str, event: str, key: str, **fields) -> TaskEvent:
    return TaskEvent(engine=E, run="r1", event=event, key=key, task=name, name=name, **fields)


def started_run(consumer, pipeline_name: str) -> tuple[str, pipelinejobs.PipelineRecord]:
    """A run whose engine died: a finished, b running, c submitted (CREATED), d planned and never announced."""
    pipeline = pipelinejobs.register_pipeline(pipeline_name)
    tracker.apply([run("started", "s1"), run("progress", "p1", expected=4, planned={"a": 1, "b": 1, "c": 1, "d": 1}),
                   task("a", "run", "a:run"), task("a", "finish", "a:finish"), task("b", "run", "b:run"),
                   task("c", "update", "c:submitted")], pipeline, source=E)
    uuid = tracker.workflow_uuid(E, pipeline.uuid, "r1")
    consumer(lambda: workflows.get(uuid).node("b").state == "running", what="b counted running")
    return uuid, pipeline


def seen(uuid: str) -> tuple:
    """What a user sees of the run: the workflow, its nodes and every job's history."""
    wf = workflows.get(uuid)
    jobs = {name: [[(e.name, e.data) for e in pipelinejobs.get_job(job).history if e.applied] for job in ids]
            for name, ids in wf.jobs.items()}
    return (wf.state, wf.stopped, wf.expected, {n.name: (n.state, n.never_run) for n in wf.nodes}, jobs)


def test_a_killed_engine_run_ends_killed_its_live_jobs_failed_and_only_a_new_start_reopens_it(consumer, monkeypatch):
    monkeypatch.setenv("LOGNAME", "alice")  # who kills (getpass.getuser)
    uuid, pipeline = started_run(consumer, "engine-killed")
    before = seen(uuid)

    killed = workflows.kill(uuid, reason="the engine was killed with -9")
    assert (killed.state, killed.stopped) == ("KILLED", "killed by alice: the engine was killed with -9")
    ends = {"a": "finished", "b": "failed", "c": "failed", "d": "never_run"}
    consumer(lambda: {n.name: n.state for n in workflows.get(uuid).nodes} == ends, what="b and c counted failed")
    wf = workflows.get(uuid)
    a, b, c = (pipelinejobs.get_job(wf.jobs[name][0]) for name in "abc")
    assert (a.record.state, b.record.state, c.record.state) == ("FINISHED", "FAILED", "FAILED")
    for job in (b, c):
        fail = job.history[-1]
        assert (fail.name, fail.data["failure"]) == ("fail", "killed")
        assert fail.data["reason"] == "workflow stopped: killed by alice: the engine was killed with -9"
    after = seen(uuid)
    assert before[4]["a"] == after[4]["a"] and before[2] == after[2]  # nothing else changed

    workflows.kill(uuid)  # again: nothing more
    assert seen(uuid) == after

    # The engine's later words for that run, late or repeated, undo nothing: a task's next attempt, its end, a new
    # task, the run's progress and end, its first start delivered again.
    late = [task("b", "run", "b:run:2", attempt=2), task("b", "finish", "b:finish"), task("c", "run", "c:run"),
            task("e", "run", "e:run"), run("progress", "p2", expected=9, planned={"e": 1}),
            run("finished", "done"), run("started", "s1")]
    for event in late:
        tracker.apply([event], pipeline, source=E)
    assert seen(uuid) == after

    # The engine run again with the same run id: its new start reopens it, and its words count again.
    tracker.apply([run("started", "s2"), task("b", "run", "b:run:2", attempt=2)], pipeline, source=E)
    wf = consumer(lambda: (w := workflows.get(uuid)).node("b").state == "running" and w, what="b running again")
    assert (wf.state, wf.stopped) == ("RUNNING", None)
    assert pipelinejobs.get_job(wf.jobs["b"][0]).record.state == "RUNNING"


def test_an_engine_run_is_not_rerun_the_engine_is(consumer):
    uuid, _ = started_run(consumer, "engine-rerun")
    workflows.kill(uuid)
    consumer(lambda: {workflows.get(uuid).node(n).state for n in "bc"} == {"failed"}, what="b and c counted failed")
    before = seen(uuid)
    refusal = f"a {E} run, which only {E} can run again: re-run the engine"
    with pytest.raises(WorkflowStateConflict, match=refusal) as refused:
        workflows.rerun(uuid)
    assert refused.value.status_code == 409
    result = CliRunner().invoke(cli, ["workflow", "rerun", uuid])
    assert (result.exit_code, type(result.exception)) == (4, SystemExit)  # 409's exit status, no traceback
    assert refusal in result.stderr and "Traceback" not in result.stderr
    assert seen(uuid) == before
