"""The workflow spec: schema, graph checks, ${...} references, the deterministic uuid (no table needed)."""

from __future__ import annotations

import json

import pytest

from pipelinejobs import workflows
from pipelinejobs.errors import InvalidWorkflow
from pipelinejobs.workflows import refs
from pipelinejobs.workflows.spec import load

YAML = """
name: rnaseq-batch-7
inputs: {samples: [A1, A2, A3]}
on_failure: stop
max_concurrency: 10
jobs:
  fetch:
    pipeline: fetch-ref
    data: {genome: hg38}
  align:
    pipeline: align
    after: [fetch]
    each: "${inputs.samples}"
    data:
      sample: "${item}"
      ref: "${fetch.outputs.ref}"
  report:
    pipeline: report
    after: [align]
    data:
      bams: "${align.outputs.bam}"
"""


def problems(spec: dict) -> list[dict[str, str]]:
    with pytest.raises(InvalidWorkflow) as refused:
        load(spec)
    return refused.value.errors


def spec_with(**jobs) -> dict:
    return {"name": "w", "inputs": {"samples": ["a", "b"], "genome": "hg38"}, "jobs": jobs}


def test_the_issue_example_loads_and_a_yaml_file_and_a_dict_name_the_same_workflow(tmp_path):
    path = tmp_path / "wf.yaml"
    path.write_text(YAML)
    from_file = load(path)
    from_text = load(YAML)
    import yaml

    from_dict = load(yaml.safe_load(YAML))
    assert from_file.uuid == from_text.uuid == from_dict.uuid
    assert load(json.dumps(yaml.safe_load(YAML))).uuid == from_dict.uuid  # JSON text too
    assert from_dict.jobs["align"].fanned_out and from_dict.children("fetch") == ["align"]
    assert from_dict.upstream("report") == {"align", "fetch"}


def test_defaults_are_part_of_the_identity_so_saying_them_changes_nothing():
    body = spec_with(a={"pipeline": "p"})
    assert load(body).uuid == load({**body, "on_failure": "stop"}).uuid
    assert load(body).uuid != load({**body, "on_failure": "continue"}).uuid


def test_the_schema_is_shipped_in_the_package():
    assert workflows.schema()["properties"]["on_failure"]["enum"] == ["stop", "continue"]


@pytest.mark.parametrize(("jobs", "field", "words"), [
    ({"a": {"pipeline": "p", "after": ["ghost"]}}, "jobs.a.after", "names no job 'ghost'"),
    ({"a": {"pipeline": "p", "after": ["b"]}, "b": {"pipeline": "p", "after": ["a"]}}, "jobs.a.after", "cycle"),
    ({"a": {"pipeline": "p", "after": ["a"]}}, "jobs.a.after", "cycle"),
    ({"a": {"pipeline": "p", "data": {"x": "${inputs.samples"}}}, "jobs.a.data", "never closed"),
    ({"a": {"pipeline": "p", "data": {"x": "${}"}}}, "jobs.a.data", "malformed"),
    ({"a": {"pipeline": "p", "data": {"x": "${in puts}"}}}, "jobs.a.data", "malformed"),
    ({"a": {"pipeline": "p", "data": {"x": "${inputs.nope}"}}}, "jobs.a.data", "inputs has no 'nope'"),
    ({"a": {"pipeline": "p", "data": {"x": "${item}"}}}, "jobs.a.data", "only the data of a job with 'each'"),
    ({"a": {"pipeline": "p"}, "b": {"pipeline": "p", "data": {"x": "${a.outputs.y}"}}}, "jobs.b.data",
     "'a' is not upstream of 'b'"),
    ({"a": {"pipeline": "p", "data": {"x": "${ghost.outputs.y}"}}}, "jobs.a.data", "names no job 'ghost'"),
    ({"a": {"pipeline": "p", "data": {"x": "${a.y}"}}}, "jobs.a.data", "a.outputs"),
    ({"a": {"pipeline": "p", "each": "${inputs.genome}"}}, "jobs.a.each", "is a string, not a list"),
    ({"a": {"pipeline": "p", "each": "samples"}}, "jobs.a.each", "must be a list"),
    ({"a": {"pipeline": "p", "each": "${item}"}}, "jobs.a.each", "only the data"),
    ({"a": {"pipeline": "p", "color": "red"}}, "jobs.a", "color"),
    ({"a": {"pipeline": "p", "after": "b"}}, "jobs.a.after", "is not of type 'array'"),
    ({"bad name!": {"pipeline": "p"}}, "jobs", "does not match"),
])
def test_a_bad_spec_is_refused_naming_the_job_and_the_field(jobs: dict, field: str, words: str):
    found = problems(spec_with(**jobs))
    assert any(p["field"] == field and words in p["problem"] for p in found), found


def test_every_fault_of_a_stage_is_reported_at_once():
    found = problems(spec_with(a={"pipeline": "p", "after": ["x"]}, b={"pipeline": "p", "data": {"v": "${nope}"}}))
    assert {p["field"] for p in found} == {"jobs.a.after", "jobs.b.data"}


def test_a_spec_that_is_not_an_object_or_not_yaml_is_refused():
    assert problems("- a list")[0]["field"] == "spec"
    assert problems("name: [unclosed")[0]["field"] == "spec"
    assert problems({"jobs": {}})[0]["field"] in ("spec", "jobs")


def test_one_whole_reference_keeps_the_type_and_a_reference_in_text_is_text():
    values = {"inputs": {"n": 3, "list": [1, 2], "s": "x"}}

    def lookup(ref: refs.Ref):
        return refs.walk(values[ref.root], ref.path, ref.root)

    assert refs.resolve("${inputs.list}", lookup) == [1, 2]
    assert refs.resolve("${inputs.n}", lookup) == 3
    assert refs.resolve("n=${inputs.n} s=${inputs.s} l=${inputs.list}", lookup) == "n=3 s=x l=[1,2]"
    assert refs.resolve({"a": ["${inputs.list.1}"]}, lookup) == {"a": [2]}
    assert refs.resolve("no reference", lookup) == "no reference"
