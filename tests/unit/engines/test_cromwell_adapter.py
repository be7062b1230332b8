"""The Cromwell workflow callback adapter (engines/cromwell.py): one callback in, one run event out, no I/O."""

from __future__ import annotations

import pytest
from frontdoors import engine_sample

from pipelinejobs.engines import cromwell
from pipelinejobs.engines.model import RUN_FAILED, RUN_FINISHED, RUN_KILLED
from pipelinejobs.errors import InvalidEvent


@pytest.mark.parametrize(("sample", "kind"), [("succeeded", RUN_FINISHED), ("failed", RUN_FAILED),
                                              ("aborted", RUN_KILLED)])
def test_each_terminal_state_ends_the_workflow_of_its_workflow_id(sample, kind):
    sent = engine_sample("cromwell", sample)
    (event,) = cromwell.events(sent)
    assert (event.engine, event.run, event.kind) == ("cromwell", sent["workflowId"], kind)
    assert event.data == {"state": sent["state"], "outputs": sent["outputs"], "failures": sent["failures"]}
    assert [e.key for e in cromwell.events(sent)] == [event.key]  # a retried callback is a duplicate


def test_a_failure_says_why_in_cromwell_s_words():
    (event,) = cromwell.events(engine_sample("cromwell", "failed"))
    assert event.reason.startswith("Job rnaseq.quant:1:1 exited with return code 137")
    assert event.reason.endswith("Workflow rnaseq failed: 1 call failed")
    (aborted,) = cromwell.events(engine_sample("cromwell", "aborted"))
    assert aborted.reason == "Cromwell says the workflow aborted"


def test_failures_as_metadata_objects_are_read_too():
    sent = {**engine_sample("cromwell", "failed"), "failures": [{"message": "Workflow input processing failed",
                                                                 "causedBy": [{"message": "no such file"}]}]}
    assert cromwell.events(sent)[0].reason == "Workflow input processing failed"


def test_unknown_states_mean_nothing_and_unknown_fields_are_tolerated():
    sent = {**engine_sample("cromwell", "succeeded"), "labels": {"team": "lab"}}
    assert cromwell.events({**sent, "state": "Running"}) == []
    assert cromwell.events({**sent, "state": "succeeded"})[0].kind == RUN_FINISHED


@pytest.mark.parametrize(("change", "field"), [
    ({"workflowId": None}, "workflowId"), ({"workflowId": ""}, "workflowId"), ({"state": None}, "state"),
    ({"state": 3}, "state"), ({"outputs": ["x"]}, "outputs"), ({"failures": "it broke"}, "failures"),
])
def test_bad_input_is_refused_naming_the_field(change, field):
    with pytest.raises(InvalidEvent) as refused:
        cromwell.events({**engine_sample("cromwell", "failed"), **change})
    assert refused.value.field == field


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidEvent) as refused:
        cromwell.events("Succeeded")
    assert refused.value.field == "(body)"
