"""engines/tracker.py against DynamoDB Local and the release consumer: a run's events become a workflow of jobs,
whatever the order and however often each is delivered."""

from __future__ import annotations

from dataclasses import replace

import pipelinejobs
from pipelinejobs import workflows
from pipelinejobs.engines import tracker
from pipelinejobs.engines.model import RunEvent, TaskEvent

E = "testengine"


def run(kind: str, key: str, **fields) -> RunEvent:
    return RunEvent(engine=E, run="r1", kind=kind, key=key, **fields)


def info(alias: str, rule: str, session: int, inputs=(), outputs=()) -> TaskEvent:
    """What Snakemake's job_info says: the alias (its jobid, scoped to the session) and the task it is."""
    return TaskEvent(engine=E, run="r1", event="update", key=f"{session}:{alias}:info", task=rule, name=rule,
                     alias=f"{session}:{alias}", attempt=session, data={"rule": rule, "input": list(inputs)},
                     inputs=tuple(inputs), outputs=tuple(outputs))


def by_alias(event: str, alias: str, session: int, **data) -> TaskEvent:
    return TaskEvent(engine=E, run="r1", event=event, key=f"{session}:{alias}:{event}", alias=f"{session}:{alias}",
                     attempt=session, data=data)


def first_run() -> list:
    """a -> b -> c, each started (by alias) before its info, then finished; a 4th rule d planned after c."""
    events = [run("started", "s1"), run("progress", "p1", expected=4, planned={"a": 1, "b": 1, "c": 1, "d": 1})]
    for alias, rule, inputs, outputs in (("1", "a", (), ("a.txt",)), ("2", "b", ("a.txt",), ("b.txt",)),
                                         ("3", "c", ("b.txt",), ("c.txt",))):
        events += [by_alias("run", alias, 1), info(alias, rule, 1, inputs, outputs)]
        events += [by_alias("fail", alias, 1, reason="exit 1")] if rule == "c" else [by_alias("finish", alias, 1)]
    return [*events, run("failed", "f1", reason="c failed")]


def history(uuid: str) -> list[str]:
    return [entry.name for entry in pipelinejobs.get_job(uuid).history if entry.applied]


def test_a_failed_run_then_its_re_run_duplicates_and_alias_order_change_nothing(consumer):
    pipeline = pipelinejobs.register_pipeline("engine-run")
    events = first_run()
    for event in events + events:  # every message delivered twice
        summary = tracker.apply([event], pipeline, source=E)
    uuid = tracker.workflow_uuid(E, pipeline.uuid, "r1")
    assert summary["workflow"] == uuid

    wf = consumer(lambda: (w := workflows.get(uuid)).node("c").state == "failed" and w, what="c counted failed")
    assert (wf.state, wf.engine, wf.expected, wf.never_ran) == ("FAILED", E, 4, 1)
    assert {n.name: n.state for n in wf.nodes} == {"a": "finished", "b": "finished", "c": "failed",
                                                   "d": "never_run"}
    assert wf.node("d").never_run == "not run: the run failed ('c' failed)"
    assert (wf.node("b").after, wf.node("c").after) == (("a",), ("b",))
    jobs = {name: ids[0] for name, ids in wf.jobs.items() if ids}
    a, b, c = (pipelinejobs.get_job(jobs[n]).record for n in "abc")
    assert (b.parents, c.parents) == ([a.uuid], [b.uuid])
    assert (a.state, b.state, c.state) == ("FINISHED", "FINISHED", "FAILED")
    assert b.data == {"rule": "b", "input": ["a.txt"]}
    assert history(a.uuid) == ["create", "update", "run", "finish"]
    assert history(c.uuid) == ["create", "update", "run", "fail"]

    # A re-run (a new session: attempt 2) runs c again and d for the first time; its info comes first this time.
    rerun = [run("started", "s2"), run("progress", "p2", expected=2, planned={"c": 1, "d": 1}),
             info("1", "c", 2, ("b.txt",), ("c.txt",)), by_alias("run", "1", 2), by_alias("finish", "1", 2),
             info("2", "d", 2, ("c.txt",), ()), by_alias("finish", "2", 2), by_alias("run", "2", 2),
             run("finished", "ok2")]
    for event in rerun + rerun:
        tracker.apply([event], pipeline, source=E)
    wf = consumer(lambda: (w := workflows.get(uuid)).node("d").state == "finished" and w, what="d counted")
    assert (wf.state, wf.expected, wf.never_ran) == ("FINISHED", 2, 0)
    assert {n.name: n.state for n in wf.nodes} == dict.fromkeys("abcd", "finished")
    assert wf.jobs["c"] == [c.uuid]  # the same job, its next attempt
    assert history(c.uuid) == ["create", "update", "run", "fail", "reset", "ready", "update", "run", "finish"]
    assert history(wf.jobs["d"][0]) == ["create", "update", "run", "finish"]  # its finish overtook its run
    assert pipelinejobs.get_job(wf.jobs["d"][0]).record.parents == [c.uuid]
    assert [w.uuid for w in workflows.list()] == [uuid]


def test_an_alias_bound_before_or_after_its_events_ends_the_same(consumer):
    pipeline = pipelinejobs.register_pipeline("engine-order")
    events = [by_alias("run", "7", 1), by_alias("finish", "7", 1), info("7", "only", 1)]
    ends = []
    for order, name in ((events, "r1"), (events[::-1], "r2")):
        for event in order:
            tracker.apply([replace(event, run=name)], pipeline, source=E)
        wf = workflows.get(tracker.workflow_uuid(E, pipeline.uuid, name))
        [job] = wf.jobs["only"]
        ends.append((pipelinejobs.get_job(job).record.state, history(job)))
    assert ends == [("FINISHED", ["create", "update", "run", "finish"])] * 2


def test_an_update_that_creates_its_job_delivered_again_is_one_event(consumer):
    """The first word of a task (Nextflow's process_submitted) creates its job; that word delivered again, before
    the task runs, is the same event: the job's history is the same whether it came once or three times."""
    pipeline = pipelinejobs.register_pipeline("engine-submitted")
    tracker.apply([run("started", "s2")], pipeline, source=E)
    for task, deliveries in (("once", 1), ("thrice", 3)):
        submitted = TaskEvent(engine=E, run="r2", event="update", key=f"{task}:submitted", task=task, name=task,
                              data={"hash": "ab/12"})
        for _ in range(deliveries):
            tracker.apply([submitted], pipeline, source=E)
        tracker.apply([replace(submitted, event="run", key=f"{task}:started")] * 2, pipeline, source=E)
    jobs = workflows.get(tracker.workflow_uuid(E, pipeline.uuid, "r2")).jobs
    assert history(jobs["once"][0]) == history(jobs["thrice"][0]) == ["create", "update", "run"]
