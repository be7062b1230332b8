"""A workflow as a Mermaid flowchart: one node per job name of the spec, coloured by its state.

One node per *name*, not per job: a fan-out of 1,000 is one node saying ``(1000 jobs)`` and how many of its jobs
are in each state, so the graph stays readable at any size (``workflow status`` lists the jobs). A node's
class is the engine's node state (``workflows.NODE_STATES``: waiting, running, finished, failed, never_run),
and the chart declares a ``classDef`` for each, so it renders the same in GitHub, mermaid.live or a Markdown
preview with no style of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: Colours (fill, stroke, text) of each node state: red for what someone must look at, amber for what moves,
#: green for what is done, grey for what will not run, white for what waits.
COLOURS: Mapping[str, tuple[str, str, str]] = {
    "waiting": ("#ffffff", "#9ca3af", "#4b5563"),
    "running": ("#fff3cd", "#d4a017", "#7d6608"),
    "finished": ("#d4edda", "#27ae60", "#145a32"),
    "failed": ("#f8d7da", "#c0392b", "#7b241c"),
    "never_run": ("#e5e7eb", "#6b7280", "#374151"),
}


def mermaid(nodes: Iterable[Any], title: str | None = None) -> str:
    """The flowchart's text (``flowchart LR``), ending with a newline. ``nodes`` are ``workflows.Node``s:
    ``name``, ``after``, ``state``, ``fanned_out``, ``total`` and ``counts`` are read."""
    nodes = list(nodes)
    ids = {node.name: f"n{number}" for number, node in enumerate(nodes)}
    lines = ["---", f"title: {_quoted(title)}", "---"] if title else []
    lines.append("flowchart LR")
    lines += [f'    {ids[node.name]}["{label(node)}"]:::{node.state}' for node in nodes]
    lines += [f"    {ids[parent]} --> {ids[node.name]}" for node in nodes for parent in node.after if parent in ids]
    lines += [f"    classDef {state} fill:{fill},stroke:{stroke},color:{text}"
              for state, (fill, stroke, text) in COLOURS.items()]
    return "\n".join(lines) + "\n"


def label(node: Any) -> str:
    """``align (3 jobs)`` over its jobs' states (``2 FINISHED · 1 RUNNING``); a single job's state as it is; the
    node's state (``waiting``, ``never run``) while none of its jobs has a record."""
    size = (f" ({node.total} jobs)" if node.total is not None else " (fan-out)") if node.fanned_out else ""
    held = {state: n for state, n in node.counts.items() if n}
    states = " · ".join(f"{n} {state}" if node.fanned_out else state for state, n in held.items())
    return f"{node.name}{size}<br/>{states or node.state.replace('_', ' ')}"  # the schema's names need no escape


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
