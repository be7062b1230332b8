"""Render the state machine with Graphviz, through transitions' own diagram support."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from .. import fsm


def render(output: str, fmt: str) -> None:
    if shutil.which("dot") is None:
        raise click.ClickException("Graphviz's `dot` is not installed (e.g. apt-get install graphviz); "
                                   "`pipelinejobs fsm` prints Mermaid without it")
    from transitions.extensions import GraphMachine

    machine = GraphMachine(
        model=None, states=list(fsm.STATES), initial="CREATED", auto_transitions=False, graph_engine="graphviz",
        transitions=[{"trigger": e, "source": list(fsm.STATES) if s == "*" else list(s), "dest": d}
                     for e, s, d in fsm.TRANSITIONS],
        title="PipelineJob",
    )
    Path(output).write_bytes(machine.get_graph().pipe(format=fmt))
