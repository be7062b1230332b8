"""What the consumer reads off a node item's images, and how it writes expressions (no table needed)."""

from __future__ import annotations

from pipelinejobs.workflows import progress
from pipelinejobs.workflows.items import aliased


def node(**fields) -> dict:
    return {"name": "n", "after": ["a", "b"], "state": "waiting", **fields}


def test_a_node_is_ready_once_every_parent_finished_and_only_while_waiting():
    assert not progress.ready(node(done_after={"a"}))
    assert progress.ready(node(done_after={"a", "b"}))
    assert progress.ready({"name": "root", "state": "waiting"})  # nothing to wait for
    assert not progress.ready(node(done_after={"a", "b"}, state="released"))
    assert not progress.ready(None)


def test_a_node_settles_when_every_job_ended_and_finishes_when_every_job_finished():
    released = node(state="released", total=3)
    assert progress.node_state(released) == "running" and not progress.settled(released)
    assert progress.complete({**released, "n_FINISHED": 2, "n_VALIDATED": 1})  # finished, then moved on
    failed = {**released, "n_FINISHED": 1, "n_FAILED": 1, "skipped": 1}
    assert progress.settled(failed) and not progress.complete(failed)
    assert progress.node_state(failed) == "failed"
    assert progress.settled(node(state="never_run")) and progress.node_state(node(state="never_run")) == "never_run"
    assert progress.complete(node(state="released", total=0))  # each over an empty list
    assert progress.counts({**failed, "n_RUNNING": 0}) == {"FAILED": 1, "FINISHED": 1}


def test_every_attribute_name_is_aliased_so_no_reserved_word_is_written_bare():
    (update, condition), names = aliased("SET #state = :to, total = :n ADD n_FAILED :one",
                                         "attribute_not_exists(seq) OR seq < :seq AND size(settled) = :all")
    assert update == "SET #state = :to, #total = :n ADD n_FAILED :one"
    assert condition == "attribute_not_exists(#seq) OR #seq < :seq AND size(#settled) = :all"
    assert names == {"#total": "total", "#seq": "seq", "#settled": "settled"}


def test_a_failed_job_its_run_will_retry_counts_as_running_until_released_or_spent():
    launch = '{"attempt": 1, "launcher": "external", "max_attempts": 2}'  # as the job's item holds it (JSON)
    retried = {"state": "FAILED", "run_id": "r1", "attempt": 1, "launch": launch}
    assert progress.counted_state(retried) == "RUNNING"
    assert progress.counted_state({**retried, "state": "RESET"}) == "RUNNING"  # the retry on its way
    assert progress.counted_state({**retried, "run_id": None}) == "FAILED"  # released: its run's last word, a kill
    assert progress.counted_state({**retried, "attempt": 2}) == "FAILED"  # its attempts spent
    assert progress.counted_state({**retried, "launch": None}) == "FAILED"  # no retry recorded: as it says
    assert progress.counted_state({"state": "FINISHED", "run_id": "r1"}) == "FINISHED"
    assert progress.counted_state({}) is None  # no old image
