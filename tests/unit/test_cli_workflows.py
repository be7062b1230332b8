"""``pipelinejobs workflow ...`` on moto: submit from YAML or JSON, status, graph, list, and bad input refused
in one line, naming the file, the job and the field, with nothing written. (No stream runs here: the jobs
are not released; tests/localstack/test_local_workflows.py runs a workflow to its end.)"""

from __future__ import annotations

import json
import os
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner
from moto import mock_aws

import pipelinejobs as pj
from pipelinejobs.cli.app import cli
from pipelinejobs.cli.workflow_graph import COLOURS

from support import table_items

SPEC = """\
name: rnaseq-batch-7
inputs: {samples: [A1, A2, A3]}
jobs:
  fetch:
    pipeline: fetch-ref
    data: {genome: hg38}
  align:
    pipeline: align
    after: [fetch]
    each: "${inputs.samples}"
    data: {sample: "${item}", ref: "${fetch.outputs.ref}"}
  report:
    pipeline: report
    after: [align]
    data: {bams: "${align.outputs.bam}"}
"""


@pytest.fixture(autouse=True)
def moto(aws_env):
    with mock_aws(), mock.patch.dict(os.environ):
        pj.create_tables()
        for name in ("fetch-ref", "align", "report"):
            pj.register_pipeline(name, task={"launcher": "local", "params": {"command": ["true"]}})
        yield


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def spec_file(tmp_path: Path, text: str = SPEC, name: str = "wf.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def workflow_items() -> list[dict]:
    return [item for item in table_items() if item["pk"]["S"].startswith("WF#")]


def test_submit_prints_the_uuid_and_the_same_spec_as_json_is_the_same_workflow(tmp_path: Path):
    code, out, err = run("workflow", "submit", spec_file(tmp_path), "--json")
    assert code == 0, err
    submitted = json.loads(out)
    assert submitted["state"] == "RUNNING" and submitted["name"] == "rnaseq-batch-7"

    import yaml

    as_json = spec_file(tmp_path, json.dumps(yaml.safe_load(SPEC)), "wf.json")
    code, out, _ = run("--json", "workflow", "submit", as_json)
    assert code == 0 and json.loads(out)["uuid"] == submitted["uuid"]  # get-or-create: one workflow
    code, out, _ = run("workflow", "list", "--json")
    assert [w["uuid"] for w in json.loads(out)] == [submitted["uuid"]]


def test_submit_in_text_says_how_to_follow_it(tmp_path: Path):
    code, out, _ = run("workflow", "submit", spec_file(tmp_path))
    assert code == 0
    assert "rnaseq-batch-7" in out and "RUNNING" in out and "pipelinejobs workflow status " in out


def test_status_as_json_has_the_contracts_fields_and_a_prefix_names_the_workflow(tmp_path: Path):
    uuid = json.loads(run("--json", "workflow", "submit", spec_file(tmp_path))[1])["uuid"]

    code, out, err = run("workflow", "status", uuid[:8], "--json")

    assert code == 0, err
    status = json.loads(out)
    assert {"uuid", "state", "counts", "jobs"} <= status.keys()
    assert (status["uuid"], status["state"], status["counts"]) == (uuid, "RUNNING", {})
    assert status["jobs"] == {"fetch": [], "align": [], "report": []}  # empty until released


def test_status_in_text_lists_the_job_names_and_their_state(tmp_path: Path):
    uuid = json.loads(run("--json", "workflow", "submit", spec_file(tmp_path))[1])["uuid"]

    code, out, _ = run("workflow", "status", uuid)

    assert code == 0
    assert "rnaseq-batch-7" in out and "none yet" in out
    for name in ("fetch", "align", "report"):
        assert name in out
    assert "3 job name(s)" in out


def test_graph_is_mermaid_with_a_class_per_node_state(tmp_path: Path):
    uuid = json.loads(run("--json", "workflow", "submit", spec_file(tmp_path))[1])["uuid"]

    code, out, _ = run("workflow", "graph", uuid)

    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == ["---", 'title: "rnaseq-batch-7: RUNNING"', "---"] and lines[3] == "flowchart LR"
    assert '    n0["fetch<br/>waiting"]:::waiting' in lines
    assert '    n1["align (fan-out)<br/>waiting"]:::waiting' in lines  # its size is known at release
    assert "    n0 --> n1" in lines and "    n1 --> n2" in lines
    assert [line.split()[1] for line in lines if line.lstrip().startswith("classDef")] == list(COLOURS)
    code, out, _ = run("--json", "workflow", "graph", uuid)
    assert json.loads(out)["mermaid"].startswith("---\ntitle:")


def test_list_filters_by_state_in_any_case(tmp_path: Path):
    run("workflow", "submit", spec_file(tmp_path))

    assert json.loads(run("--json", "workflow", "list", "--state", "running")[1])[0]["state"] == "RUNNING"
    assert json.loads(run("--json", "workflow", "list", "--state", "FAILED")[1]) == []
    code, _, err = run("workflow", "list", "--state", "DONE")
    assert code == 2 and "'DONE' is not one of" in err


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        (None, "missing.yaml", "does not exist"),
        ("name: x\njobs:\n  a: [unclosed\n", "wf.yaml", "line 3"),
        ('{"name": "x", "jobs": ', "wf.json", "spec: is neither YAML nor JSON"),
        ("- just\n- a list\n", "wf.yaml", "spec: must be an object"),
        (SPEC.replace("after: [fetch]", "after: [fetc]"), "wf.yaml", "jobs.align.after: names no job 'fetc'"),
        (SPEC.replace("pipeline: report", "pipeline: reprot"), "wf.yaml", "jobs.report.pipeline: 'reprot'"),
        (SPEC.replace("${item}", "${item"), "wf.yaml", "jobs.align.data"),
        (SPEC.replace('"${inputs.samples}"', "A1"), "wf.yaml", "jobs.align.each"),
        (SPEC.replace("after: [align]", "after: [fetch]"), "wf.yaml", "jobs.report.data: ${align.outputs.bam}"),
        (SPEC.replace("after: [fetch]", "after: [report]"), "wf.yaml", "makes a cycle"),
    ],
)
def test_a_bad_spec_is_refused_in_one_line_naming_the_field_and_nothing_is_written(tmp_path: Path, text, name,
                                                                                     message):
    path = spec_file(tmp_path, text, name) if text is not None else str(tmp_path / name)

    code, out, err = run("workflow", "submit", path)

    assert code == 2 and out == ""
    assert message in err and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert workflow_items() == []


def test_a_bad_spec_with_json_is_a_json_error_listing_every_field(tmp_path: Path):
    text = SPEC.replace("after: [fetch]", "after: [fetc]").replace("pipeline: report", "pipeline: reprot")

    code, _, err = run("--json", "workflow", "submit", spec_file(tmp_path, text))

    assert code == 2
    body = json.loads(err)
    assert body["error"] == "InvalidWorkflow" and body["exit_code"] == 2
    assert "jobs.align.after" in body["message"]


@pytest.mark.parametrize("command", ["status", "graph", "kill", "rerun"])
def test_an_unknown_workflow_is_not_found(command: str):
    code, _, err = run("workflow", command, "7c9e6679")
    assert code == 3 and "workflow 7c9e6679 not found" in err and "Traceback" not in err


def test_a_yaml_syntax_error_names_the_file_and_where_in_it(tmp_path: Path):
    path = spec_file(tmp_path, "name: x\njobs:\n  a: [unclosed\n", "wf.yaml")

    code, out, err = run("workflow", "submit", path)

    assert code == 2 and out == "" and err.count("\n") == 1
    assert f'in "{path}", line 3' in err and "<unicode string>" not in err
