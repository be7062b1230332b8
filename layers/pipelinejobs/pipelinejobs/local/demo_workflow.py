"""The demo's workflow: a fan-out over generated files, a checksum per file, a fan-in report.

``generate`` writes :data:`FILES` files and reports their paths as its outputs; ``checksum`` fans out over
them (``each: ${generate.outputs.files}``), one job per file, the one on ``file-2.bin`` failing its first
attempt and succeeding on its retry; ``report`` runs after every checksum and gets their outputs in its data
(``${checksum.outputs.sha256}``: the list, in file order). Nothing polls the graph: the stack's workflows
function releases each job from the table's stream when its parents finish.

The verdict: the workflow FINISHED; its counters agree with the jobs' own states; the flaky checksum took two
attempts; and the report's data holds the SHA-256 of every generated file, as the demo computes it itself.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

#: How many files ``generate`` writes (so how many checksum jobs run), and the one whose checksum fails once.
FILES = 3
FLAKY_FILE = "file-2.bin"
#: Check a local task every second or two: the demo is about seconds, not the 10 s default.
POLL = {"first": 1, "factor": 1.5, "cap": 2}


def task(step: str, **settings: Any) -> dict[str, Any]:
    return {"launcher": "local", "params": {"command": [sys.executable, "-m", "pipelinejobs.local.demo_workflow_task",
                                                        step]},
            "timeout_seconds": 120, "poll": POLL, **settings}


def spec() -> dict[str, Any]:
    """The workflow, as a user would write it in YAML (``pipelinejobs workflow submit``); pipelines by name."""
    return {
        "name": "demo-checksums",
        "description": "Generate files, checksum each (one fails once), report every checksum.",
        "inputs": {"count": FILES, "flaky": FLAKY_FILE},
        "jobs": {
            "generate": {"pipeline": "demo-wf-generate", "data": {"count": "${inputs.count}", "size_kib": 256}},
            "checksum": {"pipeline": "demo-wf-checksum", "after": ["generate"], "each": "${generate.outputs.files}",
                         "data": {"file": "${item}", "fail_once_on": "${inputs.flaky}"}},
            "report": {"pipeline": "demo-wf-report", "after": ["checksum"],
                       "data": {"files": "${checksum.outputs.file}", "checksums": "${checksum.outputs.sha256}"}},
        },
    }


def submit() -> Any:
    """Register the three pipelines and submit the workflow; its ``Workflow``."""
    from .. import register_pipeline, workflows

    for step in ("generate", "checksum", "report"):
        register_pipeline(f"demo-wf-{step}", f"The demo workflow's {step} step", [step],
                          task=task(step, **({"max_attempts": 2} if step == "checksum" else {})))
    return workflows.submit(spec())


def progress_table(workflow: Any) -> Table:
    """The workflow's job names as the demo watches them: state and jobs counted by state."""
    from ..cli.workflows import counts_text

    table = Table(title=f"workflow {workflow.name} ({workflow.uuid[:8]}): {workflow.state}")
    for column in ("name", "after", "state", "jobs"):
        table.add_column(column, no_wrap=True)
    colours = {"finished": "green", "failed": "red", "running": "yellow", "never_run": "dim"}
    for node in workflow.nodes:
        size = f"{node.total} job(s): " if node.fanned_out and node.total is not None else ""
        table.add_row(node.name, ", ".join(node.after), f"[{colours.get(node.state, 'white')}]{node.state}[/]",
                      size + counts_text(node.counts))
    return table


def verdict(workflow: Any) -> list[tuple[bool, str]]:
    """(passed, what) for each thing the demo promises of its workflow."""
    from .. import get_job, orchestration

    checks = [(workflow.state == "FINISHED", f"workflow: {workflow.state} (expected FINISHED)")]
    jobs = [uuid for uuids in workflow.jobs.values() for uuid in uuids]
    counted: dict[str, int] = {}
    for uuid in jobs:
        state = get_job(uuid).state
        counted[state] = counted.get(state, 0) + 1
    expected = {"FINISHED": FILES + 2}
    checks.append((workflow.counts == counted == expected,
                   f"workflow counters {workflow.counts}, the jobs' own states {counted} (expected {expected})"))
    if workflow.state != "FINISHED" or len(workflow.jobs.get("checksum", [])) != FILES:
        return checks
    files = finish_outputs(workflow.jobs["generate"][0]).get("files", [])
    flaky = [uuid for uuid, file in zip(workflow.jobs["checksum"], files, strict=False)
             if Path(file).name == FLAKY_FILE]
    attempts = orchestration.attempts(flaky[0]) if flaky else []
    checks.append((len(attempts) == 2 and attempts[0].exit_code == 3 and attempts[1].succeeded,
                   f"checksum of {FLAKY_FILE}: {len(attempts)} attempt(s), "
                   f"the first exited {attempts[0].exit_code if attempts else '-'}, "
                   f"the last {'succeeded' if attempts and attempts[-1].succeeded else 'did not succeed'}"))
    actual = [hashlib.sha256(Path(file).read_bytes()).hexdigest() for file in files]
    reported = get_job(workflow.jobs["report"][0]).data.get("checksums")
    checks.append((len(actual) == FILES and reported == actual,
                   f"report: its data holds the checksum of every file ({len(reported or [])} of {len(actual)}, "
                   f"{'each equal to' if reported == actual else 'NOT equal to'} the demo's own SHA-256)"))
    return checks


def finish_outputs(uuid: str) -> dict[str, Any]:
    """The outputs a job reported with its ``finish`` event."""
    from .. import get_job

    finished = [entry.data for entry in get_job(uuid).history if entry.applied and entry.name == "finish"]
    return finished[-1].get("outputs") or {} if finished else {}
