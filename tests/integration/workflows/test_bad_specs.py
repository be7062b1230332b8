"""Every bad spec is refused before anything is written (DynamoDB Local; no consumer needed)."""

from __future__ import annotations

import pytest

import pipelinejobs
from pipelinejobs import workflows
from pipelinejobs.errors import InvalidWorkflow

from support import table_items

TASK = {"launcher": "local", "params": {"command": ["true"]}}


@pytest.fixture
def table(ddb_env):
    pipelinejobs.create_tables()
    pipelinejobs.register_pipeline("p", task=TASK)
    pipelinejobs.register_pipeline("untasked")
    return ddb_env


def spec_with(**jobs) -> dict:
    return {"name": "w", "inputs": {"samples": ["a"], "genome": "hg38"}, "jobs": jobs}


@pytest.mark.parametrize(("jobs", "field"), [
    ({"a": {"pipeline": "p", "after": ["b"]}, "b": {"pipeline": "p", "after": ["a"]}}, "jobs.a.after"),
    ({"a": {"pipeline": "p", "after": ["ghost"]}}, "jobs.a.after"),
    ({"a": {"pipeline": "nowhere"}}, "jobs.a.pipeline"),
    ({"a": {"pipeline": "untasked"}}, "jobs.a.pipeline"),
    ({"a": {"pipeline": "p", "overrides": {"max_attempts": 0}}}, "jobs.a.overrides.max_attempts"),
    ({"a": {"pipeline": "p"}, "b": {"pipeline": "p", "data": {"x": "${a.outputs.y}"}}}, "jobs.b.data"),
    ({"a": {"pipeline": "p", "data": {"x": "${inputs.genome"}}}, "jobs.a.data"),
    ({"a": {"pipeline": "p", "each": "${inputs.genome}"}}, "jobs.a.each"),
])
def test_a_bad_spec_is_refused_and_nothing_is_written(table, jobs: dict, field: str):
    before = table_items()

    with pytest.raises(InvalidWorkflow) as refused:
        workflows.submit(spec_with(**jobs))

    assert field in {e["field"] for e in refused.value.errors}, refused.value.errors
    assert refused.value.status_code == 400
    assert table_items() == before
    assert workflows.list() == []
