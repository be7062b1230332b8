"""Failure (stop, continue), kill and rerun, end to end (DynamoDB Local + the real ASL in moto)."""

from __future__ import annotations

import pytest
from workflows_support import Stack, task_token_of

import pipelinejobs
from pipelinejobs import workflows
from pipelinejobs.errors import WorkflowStateConflict

#: Simulated seconds no test reaches: a job that runs until stopped.
FOREVER = 10**9


def graph(on_failure: str, slow_seconds: int) -> dict:
    """a, then a slow job and a failing one side by side, each with a job after it."""
    return {"name": f"fails-{on_failure}", "on_failure": on_failure, "jobs": {
        "a": {"pipeline": "step"},
        "slow": {"pipeline": "step", "after": ["a"], "data": {"duration": slow_seconds}},
        "bad": {"pipeline": "step", "after": ["a"], "data": {"exit_code": 3}},
        "after_slow": {"pipeline": "step", "after": ["slow"]},
        "after_bad": {"pipeline": "step", "after": ["bad"]},
    }}


def test_a_failure_under_stop_kills_what_runs_and_starts_nothing_new(stack: Stack):
    stack.pipeline("step")
    wf = workflows.submit(graph("stop", FOREVER))

    done = stack.wait(wf.uuid)

    assert done.state == "FAILED"
    states = {node.name: node.state for node in done.nodes}
    assert states == {"a": "finished", "slow": "failed", "bad": "failed", "after_slow": "never_run",
                      "after_bad": "never_run"}
    assert done.counts == {"FINISHED": 1, "FAILED": 2}
    [bad] = done.jobs["bad"]
    assert bad in done.stopped
    [slow] = done.jobs["slow"]
    assert "workflow stopped" in [e for e in pipelinejobs.get_job(slow).history if e.name == "fail"][-1].data["reason"]
    assert done.jobs["after_slow"] == done.jobs["after_bad"] == []
    assert done.node("after_slow").never_run and done.node("after_bad").never_run  # stopped, or upstream failed
    assert len(stack.starts()) == 3


def test_a_failure_under_continue_runs_everything_not_downstream_of_it(stack: Stack):
    stack.pipeline("step")
    wf = workflows.submit(graph("continue", 30))

    done = stack.wait(wf.uuid)

    assert done.state == "FAILED"
    states = {node.name: node.state for node in done.nodes}
    assert states == {"a": "finished", "slow": "finished", "bad": "failed", "after_slow": "finished",
                      "after_bad": "never_run"}
    assert done.node("after_bad").never_run == "upstream 'bad' failed"
    assert done.counts == {"FINISHED": 3, "FAILED": 1}


def test_kill_mid_workflow_kills_running_jobs_callbacks_included_and_starts_nothing(stack: Stack):
    stack.pipeline("step")
    pipelinejobs.register_pipeline("outside", task={"launcher": "external"})  # waits on a task token
    wf = workflows.submit({"name": "to-kill", "inputs": {"n": [1, 2, 3]}, "jobs": {
        "a": {"pipeline": "step"},
        "slow": {"pipeline": "step", "after": ["a"], "each": "${inputs.n}", "data": {"n": "${item}",
                                                                                     "duration": FOREVER}},
        "waiting": {"pipeline": "outside", "after": ["a"]},
        "end": {"pipeline": "step", "after": ["slow", "waiting"]},
    }})
    stack.until(lambda: workflows.get(wf.uuid).counts.get("RUNNING") == 3, what="three slow jobs running")

    killed = workflows.kill(wf.uuid)

    assert killed.state == "KILLED"
    stack.wait(wf.uuid)
    done = stack.until(lambda: (w := workflows.get(wf.uuid)).counts == {"FINISHED": 1, "FAILED": 4} and w,
                       what="the killed jobs counted")  # counted from the stream, a moment after the kill
    assert done.state == "KILLED"
    for uuid in done.jobs["slow"] + done.jobs["waiting"]:
        record = pipelinejobs.get_job(uuid).record
        assert (record.state, record.run_id) == ("FAILED", None)
    assert done.jobs["end"] == [] and done.node("end").state == "never_run"
    assert not [e for e in stack.executions() if e["status"] == "RUNNING"]  # the callback one aborted too


def test_rerun_runs_only_the_failed_part_again_as_next_attempts(stack: Stack):
    stack.pipeline("step")
    spec = {"name": "rerun", "on_failure": "continue", "inputs": {"codes": [[0], [3, 0]]}, "jobs": {
        "a": {"pipeline": "step"},
        "work": {"pipeline": "step", "after": ["a"], "each": "${inputs.codes}", "data": {"exit_code": "${item}"}},
        "end": {"pipeline": "step", "after": ["work"]},
    }}
    wf = workflows.submit(spec)
    failed = stack.wait(wf.uuid)
    assert failed.state == "FAILED" and failed.node("end").state == "never_run"
    [a] = failed.jobs["a"]
    ok, bad = failed.jobs["work"]
    launched_before = list(stack.launcher.launched)

    again = workflows.rerun(wf.uuid)

    assert again.state == "RUNNING"
    done = stack.wait(wf.uuid)
    assert done.state == "FINISHED"
    assert done.jobs["work"] == [ok, bad]  # the same jobs: a rerun is their next attempt
    assert stack.launcher.launched[len(launched_before):][:1] == [bad]  # only the failed one ran again...
    assert stack.launcher.launched.count(a) == 1 and stack.launcher.launched.count(ok) == 1  # ...finished reused
    assert pipelinejobs.get_job(bad).record.attempt == 2
    assert done.counts == {"FINISHED": 4}
    with pytest.raises(WorkflowStateConflict):
        workflows.rerun(wf.uuid)


def test_a_callback_task_failing_its_own_job_with_attempts_left_does_not_stop_the_workflow(stack: Stack):
    stack.pipeline("step")
    pipelinejobs.register_pipeline("outside-twice", task={"launcher": "external", "max_attempts": 2})
    wf = workflows.submit({"name": "fails-itself-once", "jobs": {  # on_failure: stop
        "a": {"pipeline": "outside-twice"},
        "b": {"pipeline": "step", "data": {"duration": 30}},
        "end": {"pipeline": "step", "after": ["a", "b"]},
    }})
    [a] = stack.until(lambda: workflows.get(wf.uuid).jobs["a"], what="a released")
    first = stack.until(lambda: task_token_of(a), what="a's first attempt's token")

    pipelinejobs.get_job(a).run().fail({"reason": "transient"})  # the outside runner fails its own job

    stack.until(lambda: (r := pipelinejobs.get_job(a).record).attempt == 2 and r.task_token not in (None, first),
                what="a's second attempt's token")
    pipelinejobs.get_job(a).run().finish({"outputs": {}})
    done = stack.wait(wf.uuid)
    assert (done.state, done.stopped) == ("FINISHED", None)
    assert done.counts == {"FINISHED": 3}
    assert [e.name for e in pipelinejobs.get_job(a).history if e.applied].count("fail") == 1
