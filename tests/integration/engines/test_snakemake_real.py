"""A real Snakemake (from PyPI, with snakemake-logger-plugin-panoptes; scripts/bootstrap installs both in
``.cache/snakemake-venv``) pointed at ``pipelinejobs local`` with its one option: its runs become workflows."""

from __future__ import annotations

import os
import subprocess
import uuid as uuidlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from localstack_process import Stack, running_stack
from sfn_harness import wait_until

from pipelinejobs import tokens
from pipelinejobs.engines import tracker

SNAKEMAKE = Path(__file__).resolve().parents[3] / ".cache" / "snakemake-venv" / "bin" / "snakemake"

#: a -> b (a wildcard rule) -> c -> all; c fails when FAIL_C is set.
SNAKEFILE = """
rule all:
    input: "c.txt"

rule a:
    output: "a.txt"
    shell: "echo a > {output}"

rule b:
    input: "a.txt"
    output: "b_{x}.txt"
    threads: 1
    resources: mem_mb=10
    shell: "cat {input} > {output}"

rule c:
    input: "b_1.txt"
    output: "c.txt"
    shell: "test -z \\"${{FAIL_C:-}}\\" && cat {input} > {output}"
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not SNAKEMAKE.exists():
        pytest.fail(f"{SNAKEMAKE} is missing: scripts/bootstrap installs it")
    with running_stack(tmp_path_factory.mktemp("snakemake-stack")) as running:
        yield running


def snakemake(stack: Stack, workdir: Path, pipeline: str, *args: str, fail: bool = False) -> int:
    """Run Snakemake in ``workdir`` with the panoptes logger at the pipeline's engine address; its exit code."""
    address = (f"{stack.env['PIPELINEJOBS_API_URL']}/engines/snakemake/{pipeline}/"
               f"{tokens.pipeline_token(stack.env['PIPELINEJOBS_TOKEN_SECRET'], pipeline)}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PIPELINEJOBS_", "FAIL_C"))}
    done = subprocess.run([str(SNAKEMAKE), "--cores", "1", "--logger", "panoptes", "--logger-panoptes-address",
                           address, *args], cwd=workdir, env={**env, **({"FAIL_C": "1"} if fail else {})},
                          capture_output=True, text=True, timeout=300)
    assert "panoptes:" not in done.stderr, done.stderr[-3000:]  # the plugin logs every request it could not make
    return done.returncode


def until(check: Callable[[], Any], what: str, timeout: float = 120) -> Any:
    return wait_until(check, timeout, what, interval=0.5)


def settled(stack: Stack, uuid: str, counts: dict[str, int]) -> dict[str, Any]:
    """``workflow status --json`` once the consumer has counted its jobs to ``counts``."""
    seen: list[dict[str, Any]] = []

    def check() -> Any:
        seen[:] = [stack.cli("workflow", "status", uuid)]
        return seen[0]["counts"] == counts and seen[0]

    try:
        return until(check, f"{counts}")
    except AssertionError:
        raise AssertionError(f"counts never {counts}: {seen} {stack.output.read_text()[-3000:]}") from None


def history(stack: Stack, job: str) -> list[str]:
    return [entry["name"] for entry in stack.cli("history", job) if entry["applied"]]


def test_real_snakemake_runs_are_workflows_of_their_rules_failures_and_re_runs_included(stack: Stack,
                                                                                        tmp_path: Path):
    pipeline = stack.cli("pipelines", "register", f"snakemake-{uuidlib.uuid4().hex[:6]}")["uuid"]
    (tmp_path / "Snakefile").write_text(SNAKEFILE)

    # A run without a workflow id: a workflow of its own, FINISHED, one job per rule, parents from files.
    assert snakemake(stack, tmp_path, pipeline) == 0
    [listed] = stack.cli("workflow", "list")
    wf = settled(stack, listed["uuid"], {"FINISHED": 4})
    assert (wf["state"], wf["engine"], wf["expected"], wf["never_ran"]) == ("FINISHED", "snakemake", 4, 0)
    assert {n["name"]: n["after"] for n in wf["nodes"]} == {"a": [], "b": ["a"], "c": ["b"], "all": ["c"]}
    jobs = {name: stack.cli("status", ids[0]) for name, ids in wf["jobs"].items()}
    assert {name: job["parents"] for name, job in jobs.items()} == {
        "a": [], "b": [jobs["a"]["uuid"]], "c": [jobs["b"]["uuid"]], "all": [jobs["c"]["uuid"]]}
    assert jobs["b"]["data"]["wildcards"] == {"x": "1"} and jobs["b"]["data"]["output"] == ["b_1.txt"]
    assert jobs["b"]["data"]["resources"]["mem_mb"] == 10 and jobs["b"]["data"]["threads"] == 1
    assert all(history(stack, job["uuid"]) == ["create", "update", "run", "finish"] for job in jobs.values())

    # A run with a failing rule: FAILED, that job FAILED, what is downstream of it never run.
    for name in ("a.txt", "b_1.txt", "c.txt"):
        (tmp_path / name).unlink()
    assert snakemake(stack, tmp_path, pipeline, "--logger-panoptes-workflow-id", "flow", fail=True) != 0
    uuid = tracker.workflow_uuid("snakemake", pipeline, "flow")
    wf = settled(stack, uuid, {"FINISHED": 2, "FAILED": 1})
    assert (wf["state"], wf["expected"], wf["never_ran"]) == ("FAILED", 4, 1)  # all never ran
    assert {n["name"]: n["state"] for n in wf["nodes"]} == {"a": "finished", "b": "finished", "c": "failed"}
    [c] = wf["jobs"]["c"]
    assert history(stack, c) == ["create", "update", "run", "fail"]

    # The same workflow id again: the same workflow, c's next attempt and all's first.
    assert snakemake(stack, tmp_path, pipeline, "--logger-panoptes-workflow-id", "flow") == 0
    wf = settled(stack, uuid, {"FINISHED": 4})
    assert (wf["state"], wf["expected"], wf["never_ran"], wf["jobs"]["c"]) == ("FINISHED", 2, 0, [c])
    assert history(stack, c) == ["create", "update", "run", "fail", "reset", "ready", "update", "run", "finish"]
    assert len(stack.cli("workflow", "list")) == 2
