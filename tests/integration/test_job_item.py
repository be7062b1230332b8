"""Every ``JobRecord`` field reaches the job item on DynamoDB Local and comes back, on creation and on an event:
the mappings are made from the field list (``storage.models.JOB_FIELDS``), so a new field needs no edit here."""

from __future__ import annotations

import dataclasses

import pytest

import pipelinejobs as pj
from pipelinejobs.records import HistoryEntry, JobRecord
from pipelinejobs.service import get_store

#: A value of each annotated type JobRecord uses, made distinct per field (``n``): a new type needs one here.
SAMPLES = {
    "str": lambda name, n: f"{name}-{n}",
    "str | None": lambda name, n: f"{name}-{n}",
    "int": lambda name, n: 10 + n,
    "int | None": lambda name, n: 3600 + n,
    "bool": lambda name, n: True,
    "dict[str, Any]": lambda name, n: {"field": name, "n": n},
    "dict[str, Any] | None": lambda name, n: {"field": name, "n": n},
    "list[str]": lambda name, n: [name, str(n)],
}
#: The job's identity and keys, which no event changes; the version is the store's to set.
FIXED = {"uuid", "pipeline_uuid", "created", "version"}


@pytest.fixture
def store(ddb_env):
    pj.create_tables()
    return get_store()


def _every_field_set(n: int, **fixed) -> JobRecord:
    values = {f.name: SAMPLES[str(f.type)](f.name, n) for f in dataclasses.fields(JobRecord) if f.name not in FIXED}
    return JobRecord(**values, **fixed)


def _entry(seq: int, job: JobRecord) -> HistoryEntry:
    return HistoryEntry(seq=seq, date=job.updated, name="update", data={}, state=job.state)


def test_every_job_field_is_stored_and_read_back(store):
    job = _every_field_set(1, uuid="9f0c2a1e-0000-4000-8000-000000000001", pipeline_uuid="p", created="c")
    assert store.insert_job(job, _entry(1, job))
    assert store.load(job.uuid)[0] == dataclasses.replace(job, version=1)


def test_an_event_writes_every_field_it_changed_and_removes_what_it_cleared(store):
    job = _every_field_set(1, uuid="9f0c2a1e-0000-4000-8000-000000000002", pipeline_uuid="p", created="c")
    store.insert_job(job, _entry(1, job))
    before = store.load(job.uuid)[0]
    changed = _every_field_set(2, uuid=job.uuid, pipeline_uuid="p", created="c", version=2)
    store.commit_applied(before, changed, _entry(2, changed))
    assert store.load(job.uuid)[0] == changed

    optional = {f.name: None for f in dataclasses.fields(JobRecord) if str(f.type).endswith("| None")}
    cleared = dataclasses.replace(changed, version=3, **optional)
    store.commit_applied(changed, cleared, _entry(3, cleared))
    assert store.load(job.uuid)[0] == cleared
