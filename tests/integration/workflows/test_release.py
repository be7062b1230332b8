"""Release driven by the stream: a diamond, a fan-out/fan-in of 100, exactly once under redelivery and
simultaneous parents, max_concurrency (DynamoDB Local + the real ASL in moto; see conftest.py)."""

from __future__ import annotations

from workflows_support import Stack, outputs_of

import pipelinejobs
from pipelinejobs import identity, workflows


def test_a_diamond_runs_each_job_once_after_its_parents_with_their_outputs(stack: Stack):
    stack.pipeline("step")
    spec = {
        "name": "diamond", "inputs": {"genome": "hg38"},
        "jobs": {
            "a": {"pipeline": "step", "data": {"genome": "${inputs.genome}"}},
            "b": {"pipeline": "step", "after": ["a"], "data": {"x": "b of ${a.outputs.data.genome}"}},
            "c": {"pipeline": "step", "after": ["a"], "data": {"x": 3}},
            "d": {"pipeline": "step", "after": ["b", "c"],
                  "data": {"left": "${b.outputs.data.x}", "right": "${c.outputs.data.x}", "both": "${c.outputs.data}"}},
        },
    }
    submitted = workflows.submit(spec)
    assert submitted.state == "RUNNING"

    done = stack.wait(submitted.uuid)

    assert done.state == "FINISHED"
    assert done.counts == {"FINISHED": 4}
    assert [len(done.jobs[name]) for name in "abcd"] == [1, 1, 1, 1]
    [a], [b], [c], [d] = (done.jobs[name] for name in "abcd")
    record = pipelinejobs.get_job(d).record
    assert record.data == {"left": "b of hg38", "right": 3, "both": {"x": 3}}  # one ${...} keeps its type
    assert sorted(record.parents) == sorted([b, c])
    assert record.uuid == identity.job_uuid(record.pipeline_uuid, record.data, record.parents)
    assert record.workflow == {"uuid": submitted.uuid, "node": "d", "index": 0}
    assert pipelinejobs.get_job(a).record.parents == [submitted.uuid]  # a root job's parent is its workflow
    assert outputs_of(d)["data"] == record.data
    assert stack.starts() == {job: 1 for job in (a, b, c, d)}
    assert [node.state for node in done.nodes] == ["finished"] * 4
    assert [w.uuid for w in workflows.list(state="FINISHED")] == [submitted.uuid]  # from the catalog index
    assert workflows.list(state="RUNNING") == [] and workflows.list(since="2999-01-01") == []
    assert workflows.submit(spec).uuid == submitted.uuid  # get-or-create
    assert stack.starts() == {job: 1 for job in (a, b, c, d)}


def test_a_fan_out_of_100_then_a_fan_in_reads_every_output_in_item_order(stack: Stack):
    stack.pipeline("fetch")
    stack.pipeline("align")
    stack.pipeline("report")
    samples = [f"S{n:03d}" for n in range(100)]
    spec = {
        "name": "fan", "inputs": {"samples": samples},
        "jobs": {
            "fetch": {"pipeline": "fetch", "data": {"ref": "hg38.fa"}},
            "align": {"pipeline": "align", "after": ["fetch"], "each": "${inputs.samples}",
                      "data": {"sample": "${item}", "ref": "${fetch.outputs.data.ref}", "bam": "${item}.bam"}},
            "report": {"pipeline": "report", "after": ["align"], "data": {"bams": "${align.outputs.data.bam}"}},
        },
    }
    wf = workflows.submit(spec)

    done = stack.wait(wf.uuid, timeout=240)

    assert done.state == "FINISHED"
    assert done.counts == {"FINISHED": 102}
    assert len(done.jobs["align"]) == 100
    aligned = [pipelinejobs.get_job(uuid).record.data["sample"] for uuid in done.jobs["align"]]
    assert aligned == samples  # item order
    [report] = done.jobs["report"]
    record = pipelinejobs.get_job(report).record
    assert record.data == {"bams": [f"{s}.bam" for s in samples]}
    assert sorted(record.parents) == sorted(done.jobs["align"])
    # Each job launched once: its task (the launcher's own record), and no execution listed twice. The listing
    # alone cannot count them: under load moto's ListExecutions missed 1 to 3 of 102 finished executions.
    assert len(stack.launcher.launched) == len(set(stack.launcher.launched)) == 102
    assert set(stack.starts().values()) == {1}


def test_each_dependent_starts_once_when_every_record_is_delivered_twice_at_once(stack_delivering_twice: Stack):
    """Each batch goes to two consumers at the same moment: a redelivery, raced; and b and c, finishing
    together, have their records handled concurrently, each adding itself to d's parents."""
    stack = stack_delivering_twice
    stack.pipeline("step")
    spec = {"name": "twice", "inputs": {"n": [1, 2, 3]}, "jobs": {
        "a": {"pipeline": "step"},
        "b": {"pipeline": "step", "after": ["a"], "each": "${inputs.n}", "data": {"n": "${item}"}},
        "c": {"pipeline": "step", "after": ["a"]},
        "d": {"pipeline": "step", "after": ["b", "c"], "data": {"ns": "${b.outputs.data.n}"}},
    }}

    done = stack.wait(workflows.submit(spec).uuid)

    assert done.state == "FINISHED"
    assert done.counts == {"FINISHED": 6}  # counted once each, though every change was handled twice
    assert len(stack.starts()) == 6 and set(stack.starts().values()) == {1}
    assert len(stack.launcher.launched) == 6
    [d] = done.jobs["d"]
    assert pipelinejobs.get_job(d).record.data == {"ns": [1, 2, 3]}


def test_max_concurrency_holds_under_fan_out_and_the_next_job_starts_when_one_ends(stack: Stack):
    stack.pipeline("work", params={"duration": 60})
    spec = {"name": "capped", "max_concurrency": 3, "inputs": {"n": list(range(12))},
            "jobs": {"work": {"pipeline": "work", "each": "${inputs.n}", "data": {"n": "${item}"}}}}

    done = stack.wait(workflows.submit(spec).uuid, timeout=180)

    assert done.state == "FINISHED" and done.counts == {"FINISHED": 12}
    assert stack.launcher.most_at_once == 3  # never more, and the places were used
    assert len(stack.launcher.launched) == 12


def test_a_launch_that_dies_between_claiming_its_job_and_starting_it_is_finished_once_by_the_retry(
        stack: Stack, monkeypatch):
    """The consumer crashes after the job is created and claimed, before StartExecution: the stream delivers
    the record again, and the retry claims the same run (its id is derived) and starts it once."""
    from pipelinejobs.orchestration import launch

    real_client, crashes = launch.client, []

    def crashing(service: str):
        real = real_client(service)

        class Crashing:
            def __getattr__(self, name: str):
                return getattr(real, name)

            def start_execution(self, **kwargs):
                if not crashes:
                    crashes.append(kwargs["name"])
                    raise RuntimeError("the function died here")
                return real.start_execution(**kwargs)

        return Crashing()

    monkeypatch.setattr(launch, "client", crashing)
    stack.pipeline("step")

    done = stack.wait(workflows.submit({"name": "crash", "jobs": {"a": {"pipeline": "step"},
                                                                 "b": {"pipeline": "step", "after": ["a"]}}}).uuid)

    assert done.state == "FINISHED" and done.counts == {"FINISHED": 2}
    assert crashes and crashes[0].startswith(done.jobs["a"][0])  # a's first start died
    assert stack.starts() == {done.jobs["a"][0]: 1, done.jobs["b"][0]: 1}
