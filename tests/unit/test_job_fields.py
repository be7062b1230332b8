"""A job's fields are declared once, by ``JobRecord``: the job item's attributes and both mappings come from them
through one rule per type (``storage.models``), and the served views are held to them."""

from __future__ import annotations

import dataclasses

import pytest

from pipelinejobs.api import contract
from pipelinejobs.records import JobRecord, JobSummary
from pipelinejobs.storage import models

#: JobRecord fields the job view (``JobView``) leaves out, each on purpose: the task token is a credential, the
#: completion URL and its flag are the creator's (the dashboard shows them to an admin), and the rest is
#: orchestration's, workflows' and retention's bookkeeping. A new field must be added to the view or here.
NOT_IN_JOB_VIEW = {"task_token", "callback_url", "callback_changes", "run_id", "execution_arn", "attempt", "launch",
                   "generation", "workflow", "expires_at"}


def _schema_fields(name: str) -> set[str]:
    return set(contract.document()["components"]["schemas"][name]["properties"])


def test_every_job_field_has_a_storage_rule_and_an_attribute_of_the_job_item():
    job_item = models.bind("job-fields", None, None).job
    fields = [f.name for f in dataclasses.fields(JobRecord)]
    assert list(models.JOB_FIELDS) == fields
    assert set(fields) <= set(job_item.get_attributes())


def test_a_new_field_of_a_known_type_needs_no_rule_of_its_own():
    extended = dataclasses.make_dataclass("Extended", [("colour", "str | None", dataclasses.field(default=None))],
                                          bases=(JobRecord,))
    assert models.field_rules(extended)["colour"] is models.TYPE_RULES["str | None"]


def test_a_field_of_a_type_with_no_rule_is_named_at_import():
    odd = dataclasses.make_dataclass("Odd", [("labels", "set[str]", dataclasses.field(default_factory=set))],
                                     bases=(JobRecord,))
    with pytest.raises(TypeError, match=r"Odd\.labels: no storage rule for its type 'set\[str\]'"):
        models.field_rules(odd)


def test_every_job_field_is_in_the_job_view_or_left_out_on_purpose():
    listed = _schema_fields("JobView") - {"history", "next_cursor"}
    fields = {f.name for f in dataclasses.fields(JobRecord)}
    assert listed <= fields
    assert fields - listed == NOT_IN_JOB_VIEW


def test_a_job_summary_is_what_the_indexes_hold_and_the_document_shows():
    summary = [f.name for f in dataclasses.fields(JobSummary)]
    assert set(summary) <= set(models.JOB_FIELDS)
    assert [*summary, "name"] == models.INDEX_ATTRIBUTES
    assert _schema_fields("JobSummary") == set(summary)
