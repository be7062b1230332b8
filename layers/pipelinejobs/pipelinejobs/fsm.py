"""The PipelineJob finite-state machine, declared as data and run by ``transitions``.

The table is the original PipelineJobs machine (SD2E's data catalog: 11 states, 15 events,
built there too with ``transitions`` and ``auto_transitions=False``). Self-loops
(run, finish, index, validated) and internal transitions (``dest=None``: the
state is kept and only history is appended) make repeated callbacks harmless.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from transitions import Machine, MachineError

from .errors import InvalidTransition

STATES: tuple[str, ...] = (
    "CREATED", "RUNNING", "FAILED", "FINISHED", "INDEXING", "VALIDATING",
    "VALIDATED", "REJECTED", "FINALIZED", "RETIRED", "RESET",
)

#: (event, sources, destination); destination None keeps the state.
TRANSITIONS: tuple[tuple[str, tuple[str, ...] | str, str | None], ...] = (
    ("create", ("CREATED",), "CREATED"),
    ("run", ("CREATED", "RUNNING"), "RUNNING"),
    ("update", ("CREATED", "RUNNING", "VALIDATING", "INDEXING"), None),
    ("resource", ("CREATED", "RUNNING"), None),
    ("fail", ("CREATED", "RUNNING", "VALIDATING", "INDEXING"), "FAILED"),
    ("finish", ("RUNNING", "FINISHED"), "FINISHED"),
    ("index", ("INDEXING", "FINISHED"), "INDEXING"),
    ("indexed", ("FINISHED", "INDEXING"), "FINISHED"),
    ("validate", ("FINISHED", "VALIDATED"), "VALIDATING"),
    ("validated", ("VALIDATED", "VALIDATING"), "VALIDATED"),
    ("reject", ("VALIDATING",), "REJECTED"),
    ("finalize", ("VALIDATED",), "FINALIZED"),
    ("retire", ("FAILED", "FINALIZED", "FINISHED", "REJECTED", "VALIDATING", "VALIDATED"), "RETIRED"),
    ("reset", "*", "RESET"),
    ("ready", ("RESET",), "CREATED"),
)

EVENTS: tuple[str, ...] = tuple(event for event, _, _ in TRANSITIONS)

#: Events a job's own token may send; the rest are the system's or an admin's.
CLIENT_EVENTS: frozenset[str] = frozenset(
    {"run", "update", "resource", "fail", "finish", "validate", "validated", "reject", "finalize", "retire"}
)
ADMIN_EVENTS: frozenset[str] = frozenset(EVENTS) - CLIENT_EVENTS


def _edges() -> Iterator[tuple[str, str, str]]:
    """(source, event, destination) of every transition in table order; ``*`` spelt out, a kept state as itself."""
    for event, sources, dest in TRANSITIONS:
        for source in STATES if sources == "*" else sources:
            yield source, event, dest or source


def sources_of(event: str) -> frozenset[str]:
    """The states that accept ``event``."""
    return frozenset(source for source, name, _ in _edges() if name == event)


def _reachable(start: str, avoiding: str | None = None) -> frozenset[str]:
    """The states a job's own course leads to from ``start`` without passing ``avoiding``; ``reset`` is left out:
    it is an admin's do-over, leading anywhere."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        state = todo.pop()
        if state not in seen and state != avoiding:
            seen.add(state)
            todo.extend(dest for source, event, dest in _edges() if source == state and event != "reset")
    return frozenset(seen)


def reached_only_through(state: str) -> frozenset[str]:
    """``state`` and the states a job, from CREATED, reaches only by passing ``state`` (``reset`` left out)."""
    return _reachable("CREATED") - _reachable("CREATED", avoiding=state)


#: States whose work is over: they accept no event but ``retire`` (archiving the job) and an admin's ``reset``.
#: That is FAILED, REJECTED, RETIRED and FINALIZED (tests/unit/test_fsm.py checks it).
TERMINAL_STATES: frozenset[str] = frozenset(
    state for state in STATES if {event for source, event, _ in _edges() if source == state} <= {"retire", "reset"}
)

#: The states a job settles in: its creator's completion callback fires on entering one, and ``wait`` waits for
#: one. The terminal states, and FINISHED, though ``index`` and ``validate`` may leave it: the task is over and
#: succeeded there, and what may follow is work on its outputs that a job need not have. No rule of the table
#: alone singles FINISHED out, so the set is written here, next to it.
SETTLED_STATES: frozenset[str] = TERMINAL_STATES | {"FINISHED"}


#: States a job's task is working in, those it may still send ``run`` from (CREATED, RUNNING): the orchestration's
#: run is live there, and a task token there is settled when the job leaves them.
LIVE_STATES: frozenset[str] = sources_of("run")

#: States only a job that finished reaches (it may have moved on to indexing or validation already): FINISHED,
#: INDEXING, VALIDATING, VALIDATED, REJECTED, FINALIZED.
FINISHED_STATES: frozenset[str] = reached_only_through("FINISHED")


class _Job:
    """A throwaway model: the machine is kept apart from stored records so
    trigger names such as ``update`` never clash with model methods."""

    state: str


@cache
def _machine() -> Machine:
    return Machine(
        model=None,
        states=list(STATES),
        transitions=[{"trigger": e, "source": s if s == "*" else list(s), "dest": d} for e, s, d in TRANSITIONS],
        initial=None,
        auto_transitions=False,
    )


def allowed_events(state: str) -> list[str]:
    """Events accepted from ``state``, in table order."""
    triggers = set(_machine().get_triggers(state))
    return [event for event in EVENTS if event in triggers]


def next_state(state: str, event: str, uuid: str = "?") -> str:
    """The state after ``event``; raises InvalidTransition if it is not allowed."""
    machine, job = _machine(), _Job()
    machine.add_model(job, initial=state)
    try:
        job.trigger(event)
    except (MachineError, AttributeError) as exc:
        raise InvalidTransition(uuid, state, event, allowed_events(state)) from exc
    finally:
        machine.remove_model(job)
    return job.state


def mermaid() -> str:
    """The machine as a Mermaid state diagram (for docs and the CLI)."""
    lines = ["stateDiagram-v2", "    [*] --> CREATED"]
    lines.extend(f"    {source} --> {dest}: {event}" for source, event, dest in _edges())
    return "\n".join(lines)
