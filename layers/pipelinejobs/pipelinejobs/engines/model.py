"""What every engine adapter turns its wire format into: engine-neutral events about runs and tasks.

An adapter (``engines/<engine>.py``) is a pure function of one message (no I/O): it maps the engine's
words to these events through a table of data, and derives each event's ``key`` from the message's
content and the attempt, so the same message delivered twice yields the same keys (the tracker applies
an event once per key). The tracker (``engines/tracker.py``) is the only part that reads or writes.

A run becomes a workflow (its uuid derived from the engine, the pipeline and ``run``); a task becomes a
job of that workflow, in a node named after ``name`` (the rule, the process); ``task`` says which job
across attempts (a retry or a re-run of the same task is the next attempt of the same job).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: ``RunEvent.kind`` values: the run was announced or is under way; it told how much it plans; it ended.
RUN_STARTED, RUN_PROGRESS, RUN_FINISHED, RUN_FAILED, RUN_KILLED = "started", "progress", "finished", "failed", "killed"
RUN_KINDS = (RUN_STARTED, RUN_PROGRESS, RUN_FINISHED, RUN_FAILED, RUN_KILLED)


@dataclass(frozen=True)
class RunEvent:
    """Something that happened to a whole run."""

    engine: str
    #: The engine's own id for the run (Nextflow's runId, Cromwell's workflowId, a Snakemake workflow id...).
    run: str
    kind: str
    #: This event's id: derived from the message's content, so a duplicate has the same key.
    key: str
    #: A name for people (Nextflow's runName...); None keeps the one the run has.
    name: str | None = None
    #: How many tasks the engine plans in all (Snakemake's ``progress.total``), when it says.
    expected: int | None = None
    #: Tasks planned per node name (Snakemake's job stats), when the engine says: nodes never announced
    #: are shown as never run once the run ends.
    planned: dict[str, int] | None = None
    #: Why it failed or was killed, in the engine's words.
    reason: str | None = None
    #: What else the engine said that is worth keeping (parameters, stats, outputs...).
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskEvent:
    """Something that happened to one task of a run: it becomes a PipelineJobEvent of the task's job."""

    engine: str
    run: str
    #: The PipelineJobEvent to send: ``run``, ``finish``, ``fail``, ``update`` (``create`` is implied).
    event: str
    key: str
    #: Which job, stable across attempts and re-runs (a rule and its wildcards; a process and its tag);
    #: None when the message names the task only by ``alias``.
    task: str | None = None
    #: The node it belongs to (the rule, the process); None with ``task``.
    name: str | None = None
    #: The engine's short-lived name for the task (Snakemake's ``jobid``, valid in one session of a run):
    #: an event that has only an alias waits until an event naming both the alias and the task arrives
    #: (Snakemake sends ``job_started`` before the ``job_info`` that says which rule it is).
    alias: str | None = None
    #: Orders the task's attempts, when the engine has more than one: a number that grows with each (Snakemake's
    #: session, Nextflow's submit time, which also grows across a ``-resume``'s launches), else None.
    attempt: int | None = None
    #: The event's data (exit code, resources, native id...), kept in the job's history.
    data: dict[str, Any] = field(default_factory=dict)
    #: Files it reads and writes, when the engine says: a task's parents are the tasks whose outputs
    #: it reads.
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
