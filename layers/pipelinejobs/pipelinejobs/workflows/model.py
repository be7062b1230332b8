"""What a workflow looks like to its readers (the SDK, the CLI, the dashboard): plain, frozen data.

Node states (``Node.state``), distinct from job states (the FSM's 11, which a workflow never adds to):

* ``waiting``: some job it runs ``after`` has not finished yet;
* ``running``: released: its jobs exist (or are queued for ``max_concurrency``) and not all have ended;
* ``finished``: every one of its jobs finished;
* ``failed``: all its jobs ended, and some failed or could not be released (``never_run`` says why);
* ``never_run``: it will not run, and ``never_run`` says why (upstream failed, the workflow was stopped or
  killed, its ``each`` was not a list).

A job that will never run has no job record (so no FSM state at all); its slot in ``Node.jobs`` has
``uuid`` None (or the uuid of a job that was never started) and ``never_run`` set to the reason.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Workflow states.
RUNNING, FINISHED, FAILED, KILLED = "RUNNING", "FINISHED", "FAILED", "KILLED"
STATES = (RUNNING, FINISHED, FAILED, KILLED)
#: Node states (see the module doc).
NODE_STATES = ("waiting", "running", "finished", "failed", "never_run")


@dataclass(frozen=True)
class NodeJob:
    """One job of a node (one per fan-out item, in item order)."""

    index: int
    #: The job's uuid, once it is released; None while it waits for a place under max_concurrency.
    uuid: str | None = None
    #: The job's FSM state as last counted; None before its record exists.
    state: str | None = None
    #: Why it will never run (the workflow stopped, its data could not be resolved...); None otherwise.
    never_run: str | None = None
    #: The fan-out item it was released for (None for a job without ``each``).
    item: Any = None


@dataclass(frozen=True)
class Node:
    """One named job of the spec, and the jobs it became: what a graph draws."""

    name: str
    after: tuple[str, ...]
    state: str
    #: Why the node will never run (or, for ``failed``, the first reason one of its jobs did not); None otherwise.
    never_run: str | None = None
    fanned_out: bool = False
    #: How many jobs it fans out to, once released (None before).
    total: int | None = None
    #: Its jobs' states, counted: job state -> number.
    counts: dict[str, int] = field(default_factory=dict)
    jobs: tuple[NodeJob, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Workflow:
    uuid: str
    name: str
    #: RUNNING, FINISHED, FAILED or KILLED.
    state: str
    #: Job state -> number of the workflow's jobs in it (those with a record).
    counts: dict[str, int]
    #: Job name -> the uuids of its jobs (in item order for a fanned-out name; empty until released).
    jobs: dict[str, list[str]]
    #: The graph, in the spec's order.
    nodes: tuple[Node, ...] = ()
    on_failure: str = "stop"
    max_concurrency: int | None = None
    #: Why it stopped starting jobs (the first failure under ``stop``, or a kill); None otherwise.
    stopped: str | None = None
    created: str = ""
    updated: str = ""
    #: The spec as submitted, its defaults filled in (an engine's run: its name and engine).
    spec: dict[str, Any] = field(default_factory=dict)
    #: The engine that runs it (engines/), None for a workflow submitted as a spec.
    engine: str | None = None
    #: How many tasks the engine said its current run plans (None if it did not say).
    expected: int | None = None
    #: How many of those the engine never started (``expected`` less the tasks it announced); None without
    #: ``expected``.
    never_ran: int | None = None

    @property
    def ended(self) -> bool:
        return self.state != RUNNING

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WorkflowSummary:
    """A workflow as ``list`` shows it (from the catalog index: no counts, no jobs)."""

    uuid: str
    name: str
    state: str
    created: str
    updated: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
