"""The PipelineJob finite-state machine, declared as data and run by ``transitions``.

The table is the original PipelineJobs machine (SD2E's data catalog: 11 states, 15 events,
built there too with ``transitions`` and ``auto_transitions=False``). Self-loops
(run, finish, index, validated) and internal transitions (``dest=None``: the
state is kept and only history is appended) make repeated callbacks harmless.
"""

from __future__ import annotations

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

#: States a job stays in until an admin resets it.
TERMINAL_STATES: frozenset[str] = frozenset({"FAILED", "REJECTED", "RETIRED", "FINALIZED"})


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
    for event, sources, dest in TRANSITIONS:
        for source in STATES if sources == "*" else sources:
            lines.append(f"    {source} --> {dest or source}: {event}")
    return "\n".join(lines)
