"""What the dashboard's page reads: an overview, a page of the job table, a job's page and the FSM's graph.

Every read is one of the store's indexed reads, as ``stat`` and ``GET /jobs/{uuid}`` make them: the counts and the
table read the catalog (or by-pipeline) index's 8 partitions with ``list_jobs``'s conditions (the state and period
as key conditions where they can be), a page of the table at most ``limit`` + 2 rows of each; a job's page reads
its item and its history partition. Nothing here writes, and nothing reads the whole table.
"""

from __future__ import annotations

from collections import Counter
from itertools import islice
from typing import Any

from .. import fsm
from ..attempt_history import fold
from ..errors import JobNotFound
from ..storage.base import JobStore

#: Rows of the job table per page, by default.
PAGE_ROWS = 50
#: History entries a job's page reads at most: a job's timeline is a few dozen entries; one that has thousands
#: shows its first ones and says it was cut.
HISTORY_ENTRIES = 2000


def overview(store: JobStore, since: str | None) -> dict[str, Any]:
    """Jobs created since ``since`` (all, if None) counted by state: in total and per pipeline (with its name)."""
    counts = store.count_jobs(since=since)
    names = {pipeline.uuid: pipeline.name for pipeline in store.list_pipelines()}
    total: Counter[str] = Counter()
    per_pipeline: dict[str, Counter[str]] = {}
    for (pipeline, state), n in counts.items():
        total[state] += n
        per_pipeline.setdefault(pipeline, Counter())[state] += n
    return {
        "since": since,
        "total": sum(total.values()),
        "states": _ordered(total),
        "pipelines": sorted(({"uuid": uuid, "name": names.get(uuid), "total": sum(counts.values()),
                              "states": _ordered(counts)} for uuid, counts in per_pipeline.items()),
                            key=lambda row: (row["name"] or "", row["uuid"])),
    }


def _ordered(counts: Counter[str]) -> dict[str, int]:
    """Counts by state in the FSM's order (a state the table does not know, last)."""
    return {state: counts[state] for state in (*fsm.STATES, *sorted(set(counts) - set(fsm.STATES)))
            if counts[state]}


def job_table(store: JobStore, pipeline: str | None = None, state: str | None = None, since: str | None = None,
              after: str | None = None, limit: int = PAGE_ROWS) -> dict[str, Any]:
    """One page of the jobs that match, in the index's order (by state, then newest first), and how many match
    in all. ``after`` is the previous page's ``next``: a page starts after that row wherever jobs were added
    meanwhile, which an offset would not."""
    rows, cursor = store.page_jobs(pipeline_uuid=pipeline, state=state, since=since, after=after, limit=limit)
    total = store.total_jobs(pipeline_uuid=pipeline, state=state, since=since)
    return {"total": total, "jobs": [row.to_dict() for row in rows], "next": cursor}


def job_page(store: JobStore, uuid: str) -> dict[str, Any]:
    """A job's record, its history (oldest first, refused entries with their reasons), its attempts and where
    each attempt's logs are. Raises JobNotFound."""
    job, _ = store.load(uuid)
    if job is None:
        raise JobNotFound(uuid)
    history = list(islice(store.iter_history(uuid), HISTORY_ENTRIES))
    attempts = fold(history)
    return {
        "job": job,
        "history": history,
        "history_truncated": len(history) >= HISTORY_ENTRIES,
        "attempts": [attempt.to_dict() for attempt in attempts],
        "logs": [{"attempt": attempt.number, "location": attempt.log} for attempt in attempts if attempt.log],
    }


def workflow_list(since: str | None, state: str | None = None) -> dict[str, Any]:
    """Workflows created since ``since``, newest first, and how many are in each state (the catalog index)."""
    from .. import workflows  # imported here: only the dashboard's workflow pages need it

    found = workflows.list(state=state, since=since)
    return {"workflows": [summary.to_dict() for summary in found],
            "states": dict(Counter(summary.state for summary in found))}


def workflow_page(uuid: str) -> dict[str, Any]:
    """A workflow's state, counters and graph: each node with its state, its jobs' counts and the jobs
    themselves (uuid and state, to link to their pages). Raises WorkflowNotFound."""
    from .. import workflows

    found = workflows.get(uuid)
    return {
        "uuid": found.uuid, "name": found.name, "state": found.state, "counts": _ordered(Counter(found.counts)),
        "stopped": found.stopped, "created": found.created, "updated": found.updated,
        "on_failure": found.on_failure, "max_concurrency": found.max_concurrency,
        "nodes": [{"name": node.name, "after": list(node.after), "state": node.state, "never_run": node.never_run,
                   "total": node.total, "counts": _ordered(Counter(node.counts)),
                   "jobs": [{"uuid": job.uuid, "state": job.state, "never_run": job.never_run}
                            for job in node.jobs]} for node in found.nodes],
    }


def fsm_graph() -> dict[str, Any]:
    """The PipelineJob state machine as a graph, from ``fsm.TRANSITIONS``: states in layers (the longest way
    from CREATED, cycles aside; RESET first since ``ready`` leads from it to CREATED), edges between two states
    with every event that takes one to the other, the events that keep a state, and those accepted from any."""
    from_any = [event for event, sources, _ in fsm.TRANSITIONS if sources == "*"]
    edges: dict[tuple[str, str], list[str]] = {}
    keeps: dict[str, list[str]] = {state: [] for state in fsm.STATES}
    for event, sources, destination in fsm.TRANSITIONS:
        if sources == "*":
            continue
        for source in sources:
            target = destination or source
            if target == source:
                keeps[source].append(event)
            else:
                edges.setdefault((source, target), []).append(event)
    layers = _layers("CREATED", edges)
    return {
        "states": [{"name": state, "layer": layers.get(state, 0), "keeps": keeps[state],
                    "terminal": state in fsm.TERMINAL_STATES, "settled": state in fsm.SETTLED_STATES}
                   for state in fsm.STATES],
        "edges": [{"source": source, "target": target, "events": events}
                  for (source, target), events in edges.items()],
        "from_any": [{"event": event, "target": next(d for e, _, d in fsm.TRANSITIONS if e == event)}
                     for event in from_any],
    }


def _layers(start: str, edges: dict[tuple[str, str], list[str]]) -> dict[str, int]:
    """Each state's layer: the longest path to it from ``start`` once the edges that close a cycle are left out
    (so that every drawn edge but those goes forward), plus one; states ``start`` does not reach are layer 0."""
    forward: set[tuple[str, str]] = set()
    seen: set[str] = set()
    path: list[str] = []

    def visit(state: str) -> None:  # depth first: an edge to a state on the current path closes a cycle
        seen.add(state)
        path.append(state)
        for source, target in edges:
            if source == state and target not in path:
                forward.add((source, target))
                if target not in seen:
                    visit(target)
        path.pop()

    visit(start)
    layers = {start: 1}
    for _ in edges:  # relax until no layer grows: the longest path has fewer edges than there are passes
        grown = False
        for source, target in forward:
            if source in layers and layers.get(target, 0) < layers[source] + 1:
                layers[target], grown = layers[source] + 1, True
        if not grown:
            break
    return layers
