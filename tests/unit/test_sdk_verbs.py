"""PipelineJob's verbs are written out in the class, one per event of the FSM table, typed and documented."""

from __future__ import annotations

import inspect
import pydoc
from typing import Any, Self, get_type_hints

import pytest

from pipelinejobs import fsm
from pipelinejobs.sdk.jobs import PipelineJob

VERBS = [event for event in fsm.EVENTS if event != "create"]  # setup() sends create


def _public_methods() -> set[str]:
    return {name for name, value in inspect.getmembers(PipelineJob, inspect.isfunction) if not name.startswith("_")}


def test_the_event_named_methods_are_exactly_the_verbs():
    assert _public_methods() & set(fsm.EVENTS) == set(VERBS)


@pytest.mark.parametrize("event", VERBS)
def test_each_verb_is_written_in_the_class_body(event: str):
    method = vars(PipelineJob)[event]
    lines, first = inspect.getsourcelines(PipelineJob)
    assert method.__qualname__ == f"PipelineJob.{event}" and method.__code__.co_name == event
    assert first <= method.__code__.co_firstlineno < first + len(lines)  # not attached from outside the class


@pytest.mark.parametrize("event", VERBS)
def test_each_verb_sends_its_own_event(event: str):
    job = PipelineJob("00000000-0000-4000-8000-000000000000")
    sent: list[tuple[str, Any]] = []
    job._send = lambda name, data=None: sent.append((name, data)) or job  # no table: see what would be sent
    assert getattr(job, event)({"n": 1}) is job
    assert sent == [(event, {"n": 1})]


@pytest.mark.parametrize("event", VERBS)
def test_each_verb_is_typed_and_says_who_may_send_it(event: str):
    method = getattr(PipelineJob, event)
    assert list(inspect.signature(method).parameters) == ["self", "data"]
    assert inspect.signature(method).parameters["data"].default is None
    assert get_type_hints(method) == {"data": dict[str, Any] | None, "return": Self}
    assert method.__doc__.count("\n") == 0
    assert method.__doc__.endswith("Admin event." if event in fsm.ADMIN_EVENTS else "Client event.")


def test_help_shows_the_parameter_and_the_transition():
    text = pydoc.render_doc(PipelineJob.finish, renderer=pydoc.plaintext)
    assert "finish(self, data: 'dict[str, Any] | None' = None) -> 'Self'" in text
    assert "RUNNING -> FINISHED" in text
