"""The whole PipelineJob transition table: every state x every event, allowed or refused.

The expectation is written out independently of ``pipelinejobs.fsm.TRANSITIONS``
(the original PipelineJobs table, as docs/design.md states it), so a mistake in the declared table fails here.
"""

from __future__ import annotations

import pytest

from pipelinejobs import fsm
from pipelinejobs.errors import InvalidTransition

ALL = ["CREATED", "RUNNING", "FAILED", "FINISHED", "INDEXING", "VALIDATING",
       "VALIDATED", "REJECTED", "FINALIZED", "RETIRED", "RESET"]
SAME = "="  # the event keeps the state

#: event -> {source state: destination}; any state not listed refuses the event.
EXPECTED: dict[str, dict[str, str]] = {
    "create": {"CREATED": "CREATED"},
    "run": {"CREATED": "RUNNING", "RUNNING": "RUNNING"},
    "update": dict.fromkeys(["CREATED", "RUNNING", "VALIDATING", "INDEXING"], SAME),
    "resource": dict.fromkeys(["CREATED", "RUNNING"], SAME),
    "fail": dict.fromkeys(["CREATED", "RUNNING", "VALIDATING", "INDEXING"], "FAILED"),
    "finish": dict.fromkeys(["RUNNING", "FINISHED"], "FINISHED"),
    "index": dict.fromkeys(["INDEXING", "FINISHED"], "INDEXING"),
    "indexed": dict.fromkeys(["FINISHED", "INDEXING"], "FINISHED"),
    "validate": dict.fromkeys(["FINISHED", "VALIDATED"], "VALIDATING"),
    "validated": dict.fromkeys(["VALIDATED", "VALIDATING"], "VALIDATED"),
    "reject": {"VALIDATING": "REJECTED"},
    "finalize": {"VALIDATED": "FINALIZED"},
    "retire": dict.fromkeys(["FAILED", "FINALIZED", "FINISHED", "REJECTED", "VALIDATING", "VALIDATED"], "RETIRED"),
    "reset": dict.fromkeys(ALL, "RESET"),
    "ready": {"RESET": "CREATED"},
}

CASES = [(state, event) for state in ALL for event in EXPECTED]


def test_table_has_the_reference_states_and_events():
    assert sorted(fsm.STATES) == sorted(ALL)
    assert sorted(fsm.EVENTS) == sorted(EXPECTED)
    assert len(fsm.STATES) == 11 and len(fsm.EVENTS) == 15


@pytest.mark.parametrize(("state", "event"), CASES, ids=[f"{s}-{e}" for s, e in CASES])
def test_every_state_and_event(state: str, event: str):
    expected = EXPECTED[event].get(state)
    if expected is None:
        with pytest.raises(InvalidTransition) as refused:
            fsm.next_state(state, event, uuid="job-1")
        message = str(refused.value)
        assert "job-1" in message and state in message and f"'{event}'" in message
        assert refused.value.allowed == sorted(e for e in EXPECTED if state in EXPECTED[e])
    else:
        assert fsm.next_state(state, event) == (state if expected == SAME else expected)
        assert event in fsm.allowed_events(state)


def test_unknown_event_is_refused_with_allowed_list():
    with pytest.raises(InvalidTransition) as refused:
        fsm.next_state("RUNNING", "explode", uuid="job-2")
    assert refused.value.allowed == ["fail", "finish", "reset", "resource", "run", "update"]


def test_client_and_admin_events_partition_the_events():
    assert set(fsm.EVENTS) == fsm.CLIENT_EVENTS | fsm.ADMIN_EVENTS
    assert {"create", "index", "indexed", "reset", "ready"} == fsm.ADMIN_EVENTS


def test_mermaid_lists_every_transition():
    diagram = fsm.mermaid()
    edges = sum(len(sources) for sources in EXPECTED.values())
    assert diagram.count(" --> ") == edges + 1  # plus the initial [*] --> CREATED
    assert "RESET --> CREATED: ready" in diagram


def test_state_sets_derived_from_the_table_are_the_sets_written_out_before():
    from pipelinejobs.orchestration import flow

    assert {"FAILED", "REJECTED", "RETIRED", "FINALIZED"} == fsm.TERMINAL_STATES
    assert {"FAILED", "REJECTED", "RETIRED", "FINALIZED", "FINISHED"} == fsm.SETTLED_STATES
    assert {"CREATED", "RUNNING"} == flow.LIVE_STATES
    assert {"FINISHED", "INDEXING", "VALIDATING", "VALIDATED", "REJECTED", "FINALIZED"} == flow.FINISHED_STATES


def test_derivations_follow_the_table():
    assert fsm.sources_of("retire") == {"FAILED", "FINALIZED", "FINISHED", "REJECTED", "VALIDATING", "VALIDATED"}
    assert fsm.sources_of("reset") == set(ALL)
    assert fsm.reached_only_through("VALIDATING") == {"VALIDATING", "VALIDATED", "REJECTED", "FINALIZED"}
    assert fsm.reached_only_through("CREATED") == set(ALL) - {"RESET"}  # reset, an admin's do-over, left out
