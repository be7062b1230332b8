"""``pipelinejobs workflow ...``: submit a graph of jobs from a YAML or JSON file, follow it, draw it, kill
and rerun it. Thin, as every command: they call ``pipelinejobs.workflows`` and render what it returns.

A workflow is named by its uuid or an unambiguous prefix of it (tables show 8 characters), as jobs are. A
bad spec is refused before anything is written, each fault naming the job and the field
(``jobs.align.after: names no job 'fetc'``), exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .. import fsm
from .params import SINCE
from .render import Output, local_time, short

#: A workflow's states (its jobs have the FSM's).
WORKFLOW_STATES = ("RUNNING", "FINISHED", "FAILED", "KILLED")
NODE_COLUMNS = ("name", "after", "state", "jobs", "why")
JOB_COLUMNS = ("name", "item", "job", "state", "why")
LIST_COLUMNS = ("workflow", "name", "state", "created", "updated")


class WorkflowRef(click.ParamType):
    """A workflow: its uuid or an unambiguous prefix of it (lookup.workflow_uuid)."""

    name = "WORKFLOW"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ..lookup import workflow_uuid

        return workflow_uuid(value)


class WorkflowState(click.Choice):
    """A workflow state, in any case (``failed`` is FAILED)."""

    def __init__(self) -> None:
        super().__init__(WORKFLOW_STATES, case_sensitive=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return super().convert(value, param, ctx).upper()


WORKFLOW = WorkflowRef()


@click.group("workflow")
def workflow() -> None:
    """Run graphs of jobs: submit a spec (YAML or JSON), follow, draw, kill and rerun it (docs/workflows.md)."""


@workflow.command("submit")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def submit(out: Output, file: Path) -> None:
    """Check the spec in FILE and submit it: its jobs are released as their parents finish. Get-or-create:
    the same spec is the same workflow. A bad spec is refused, naming the job and the field; nothing is written."""
    from .. import workflows

    submitted = workflows.submit(file)
    if out.as_json:
        return out.json(submitted)
    out.say(f"workflow {submitted.uuid} ({submitted.name}): {submitted.state}, {len(submitted.nodes)} job name(s)")
    out.say(f"follow it: pipelinejobs workflow status {short(submitted.uuid)}  |  "
            f"pipelinejobs workflow graph {short(submitted.uuid)}")


@workflow.command("status")
@click.argument("uuid", metavar="WORKFLOW", type=WORKFLOW)
@click.option("--jobs", "each_job", is_flag=True, help="A row per job (fan-outs spelt out), not per job name.")
@click.option("--wide", is_flag=True, help="Full job uuids.")
@click.pass_obj
def status(out: Output, uuid: str, each_job: bool, wide: bool) -> None:
    """A workflow's state and job counts (one read), and its job names with their jobs' states."""
    from .. import workflows

    found = workflows.get(uuid)
    if out.as_json:
        return out.json(found)
    out.record({"uuid": found.uuid, "name": found.name, "state": found.state, "jobs": counts_text(found.counts),
                "stopped": found.stopped, "on_failure": found.on_failure, "max_concurrency": found.max_concurrency,
                "created": local_time(found.created), "updated": local_time(found.updated)},
               title=f"workflow {found.name}")
    if each_job:
        rows = [{"name": node.name, "item": job.index if node.fanned_out else "", "job": short(job.uuid, wide),
                 "state": job.state or ("never run" if job.never_run else "not started"), "why": job.never_run}
                for node in found.nodes for job in node.jobs]
        return out.table(rows, JOB_COLUMNS, title="jobs", summary=f"{len(rows)} job(s)")
    rows = [{"name": node.name, "after": ", ".join(node.after), "state": node.state.replace("_", " "),
             "jobs": node_jobs(node), "why": node.never_run} for node in found.nodes]
    out.table(rows, NODE_COLUMNS, title="job names", summary=f"{len(rows)} job name(s); --jobs lists every job")


@workflow.command("graph")
@click.argument("uuid", metavar="WORKFLOW", type=WORKFLOW)
@click.pass_obj
def graph(out: Output, uuid: str) -> None:
    """The workflow as a Mermaid flowchart, each job name coloured by its state (paste it into GitHub
    Markdown or mermaid.live). With --json: {"uuid", "state", "mermaid"}."""
    from .. import workflows
    from .workflow_graph import mermaid

    found = workflows.get(uuid)
    text = mermaid(found.nodes, title=f"{found.name}: {found.state}")
    if out.as_json:
        return out.json({"uuid": found.uuid, "state": found.state, "mermaid": text})
    sys.stdout.write(text)


@workflow.command("list")
@click.option("--state", type=WorkflowState(), help="Only workflows in this state (any case).")
@click.option("--since", type=SINCE, help="Only workflows created since: an ISO time or an age (3h, 2d).")
@click.option("--wide", is_flag=True, help="Full uuids.")
@click.pass_obj
def list_workflows(out: Output, state: str | None, since: Any, wide: bool) -> None:
    """Workflows, newest first, read from the catalog index (`workflow status` has each one's counts)."""
    from .. import workflows

    found = workflows.list(state=state, since=since)
    if out.as_json:
        return out.json(found)
    rows = [{"workflow": short(w.uuid, wide), "name": w.name, "state": w.state, "created": local_time(w.created),
             "updated": local_time(w.updated)} for w in found]
    out.table(rows, LIST_COLUMNS, title="workflows", summary=f"{len(rows)} workflow(s)")


@workflow.command("kill")
@click.argument("uuid", metavar="WORKFLOW", type=WORKFLOW)
@click.option("--reason", help="Why, after who killed it, in its `stopped` and its killed jobs' reason.")
@click.pass_obj
def kill(out: Output, uuid: str, reason: str | None) -> None:
    """KILLED at once: nothing new starts, and its running jobs are killed (executions stopped, tasks
    cancelled). An engine's run whose engine died unheard is closed so. Killing it again changes nothing."""
    from .. import workflows

    _said(out, workflows.kill(uuid, reason=reason))


@workflow.command("rerun")
@click.argument("uuid", metavar="WORKFLOW", type=WORKFLOW)
@click.pass_obj
def rerun(out: Output, uuid: str) -> None:
    """Run the failed and killed jobs again as their next attempts, and everything downstream of them;
    finished jobs are reused, not rerun. The workflow is RUNNING again. An engine's run is refused: re-run
    the engine."""
    from .. import workflows

    _said(out, workflows.rerun(uuid))


def _said(out: Output, found: Any) -> None:
    if out.as_json:
        return out.json(found)
    out.say(f"workflow {found.uuid} ({found.name}): {found.state}; jobs: {counts_text(found.counts)}")


def counts_text(counts: dict[str, int]) -> str:
    """``3 FINISHED, 1 RUNNING`` in the state machine's order; ``none yet`` before any job has a record."""
    return ", ".join(f"{counts[state]} {state}" for state in fsm.STATES if counts.get(state)) or "none yet"


def node_jobs(node: Any) -> str:
    """A job name's jobs: ``3: 2 FINISHED, 1 RUNNING``, or its one job's state, or ``-`` before release."""
    if not node.jobs:
        return "-"
    counts = counts_text(node.counts)
    return f"{node.total or len(node.jobs)}: {counts}" if node.fanned_out else counts


COMMANDS = (workflow,)
