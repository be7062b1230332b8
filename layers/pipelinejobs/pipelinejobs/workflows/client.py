"""The SDK's workflow verbs: submit, get, list, kill, rerun (with table access, as the SDK's other verbs).

``submit`` checks the whole spec (schema, graph, pipelines) before it writes anything, then writes the
workflow item and one item per node, and returns: the release consumer, seeing the nodes that wait on
nothing appear on the stream, starts them. Submitting the same spec again finds the first workflow.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import WorkflowNotFound
from ..events import compact_json
from ..records import now_iso
from ..service import get_store
from . import control, items, progress
from .items import Table
from .model import RUNNING, Node, NodeJob, Workflow, WorkflowSummary
from .spec import WorkflowSpec, check_pipelines, load


def validate(source: str | Path | Mapping[str, Any], *, config: Config | None = None) -> WorkflowSpec:
    """Check a spec as ``submit`` would (its pipelines read), writing nothing; InvalidWorkflow if it is bad."""
    spec = load(source)
    check_pipelines(spec, get_store(config))
    return spec


def submit(source: str | Path | Mapping[str, Any], *, config: Config | None = None) -> Workflow:
    """Check the spec, then get or create its workflow (see the module doc)."""
    spec = load(source)
    pipelines = check_pipelines(spec, get_store(config))
    table = Table(config)
    uuid = spec.uuid
    if table.get(uuid, items.WORKFLOW_SK) is None:
        now = now_iso()
        table.put_new({
            "pk": items.pk(uuid), "sk": items.WORKFLOW_SK, "uuid": uuid, "name": spec.name, "state": RUNNING,
            "created": now, "updated": now, "spec": compact_json(spec.to_dict()), "node_count": len(spec.jobs),
            "on_failure": spec.on_failure, "max_concurrency": spec.max_concurrency, "active": 0,
            "gsi2pk": items.CATALOG_KEY, "gsi_sk": items.gsi_sk(RUNNING, now, uuid),
        })
    # Nodes after the workflow item: the consumer reads it when a node is released. A submit that died half
    # way is finished by submitting again (each put is conditional: an existing node is left as it is).
    for order, (name, job) in enumerate(spec.jobs.items()):
        table.put_new({
            "pk": items.pk(uuid), "sk": items.node_sk(name), "name": name, "order": order,
            "after": builtins.list(job.after), "children": spec.children(name), "fanned_out": job.fanned_out,
            "pipeline": pipelines[name].uuid, "spec": compact_json(job.to_dict()), "state": progress.WAITING,
        })
    return get(uuid, config=config)


def get(uuid: str, *, config: Config | None = None) -> Workflow:
    """The workflow: its state and counts (one Query of the workflow and its nodes), its jobs and graph (a
    second Query, of its slots)."""
    table = Table(config)
    head = builtins.list(table.query(uuid, items.WORKFLOW_SK))
    record = next((item for item in head if item["sk"] == items.WORKFLOW_SK), None)
    if record is None:
        raise WorkflowNotFound(uuid)
    slots: dict[str, list[dict[str, Any]]] = {}
    for slot in table.query(uuid, items.SLOT_PREFIX):
        slots.setdefault(slot["node"], []).append(slot)
    nodes = sorted((item for item in head if item["sk"].startswith(items.NODE_PREFIX)), key=lambda n: n["order"])
    built = tuple(_node(node, slots.get(node["name"], [])) for node in nodes)
    counts: dict[str, int] = {}
    for node in built:
        for state, number in node.counts.items():
            counts[state] = counts.get(state, 0) + number
    return Workflow(
        uuid=uuid, name=record["name"], state=record["state"], counts=counts,
        jobs={node.name: [job.uuid for job in node.jobs if job.uuid] for node in built}, nodes=built,
        on_failure=record.get("on_failure", "stop"), max_concurrency=record.get("max_concurrency"),
        stopped=record.get("stopped"), created=record["created"], updated=record["updated"],
        spec=_loads(record["spec"]), engine=record.get("engine"), expected=record.get("expected"),
        never_ran=None if record.get("expected") is None else max(0, record["expected"] - record.get("announced", 0)),
    )


def _node(node: dict[str, Any], slots: builtins.list[dict[str, Any]]) -> Node:
    jobs = tuple(NodeJob(index=int(slot["index"]), uuid=slot.get("uuid"), state=slot.get("state"),
                         never_run=slot.get("never_run"), item=_loads(slot.get("item")))
                 for slot in sorted(slots, key=lambda s: s["index"]))
    reason = node.get("reason") or next((job.never_run for job in jobs if job.never_run), None)
    return Node(name=node["name"], after=_ordered(node.get("after")), state=progress.node_state(node),
                never_run=reason, fanned_out=bool(node.get("fanned_out")), total=node.get("total"),
                counts=progress.counts(node), jobs=jobs)


def list(state: str | None = None, since: datetime | str | None = None, *,
         config: Config | None = None) -> builtins.list[WorkflowSummary]:
    """Workflows, newest first, optionally in one state and created since a time (the catalog index)."""
    since_text = since.isoformat() if isinstance(since, datetime) else since
    found = [WorkflowSummary(uuid=item["uuid"], name=item["name"], state=item["state"], created=item["created"],
                             updated=item["updated"]) for item in Table(config).catalog(state, since_text)]
    return sorted(found, key=lambda w: (w.created, w.uuid), reverse=True)


def kill(uuid: str, *, reason: str | None = None, config: Config | None = None) -> Workflow:
    """Stop the workflow: KILLED at once, nothing new starts, its running jobs are killed; ``stopped`` says by
    whom (the caller's user name) and ``reason``. An engine's run is closed so (its engine died unheard)."""
    control.kill(uuid, reason=reason, config=config)
    return get(uuid, config=config)


def rerun(uuid: str, *, config: Config | None = None) -> Workflow:
    """Run the failed and killed jobs again (their next attempts), and everything downstream of them;
    finished jobs are reused. The workflow is RUNNING again. An engine's run is refused (409): only its engine
    can run it again."""
    control.rerun(uuid, config=config)
    return get(uuid, config=config)


def _ordered(names: Any) -> tuple[str, ...]:
    """A node's ``after``: the spec's list as written, an engine's set (edges found as tasks are announced) sorted."""
    return tuple(sorted(names) if isinstance(names, set) else names or ())


def _loads(text: str | None) -> Any:
    import json

    return None if text is None else json.loads(text)
