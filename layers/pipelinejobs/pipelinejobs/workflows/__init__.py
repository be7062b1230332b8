"""Workflows: graphs of ordinary jobs, released by the table's stream, with fan-out, outputs into inputs,
kill and rerun from failure (docs/workflows.md).

The public face::

    from pipelinejobs import workflows

    wf = workflows.submit("rnaseq.yaml")        # a path, YAML/JSON text, or a dict; get-or-create
    wf = workflows.get(wf.uuid)                  # state, counts, jobs (name -> uuids), nodes (the graph)
    workflows.list(state="FAILED", since="2026-11-01")
    workflows.kill(wf.uuid)                      # running jobs killed, nothing new starts
    workflows.rerun(wf.uuid)                     # failed and killed jobs, and what is downstream, run again

Nothing here runs the graph: the release consumer (:mod:`.release`, the ``WorkflowsFunction`` on the
table's stream) starts each job when its parents have finished.
"""

from .client import get, kill, list, rerun, submit, validate
from .model import NODE_STATES, STATES, Node, NodeJob, Workflow, WorkflowSummary
from .spec import JobSpec, WorkflowSpec, schema

__all__ = [
    "NODE_STATES",
    "STATES",
    "JobSpec",
    "Node",
    "NodeJob",
    "Workflow",
    "WorkflowSpec",
    "WorkflowSummary",
    "get",
    "kill",
    "list",
    "rerun",
    "schema",
    "submit",
    "validate",
]
