"""Load on DynamoDB Local through the real handlers, in worker processes (tests/loadrun.py says why processes).

The default run is small enough to stay fast; the full sizes of bench/load.py run with ``-m slow``.
Each checks the raw table: nothing lost, nothing twice, gapless sequence numbers, the right final states.
"""

from __future__ import annotations

import pytest
from loadrun import LIFECYCLE, callback_data_problems, concurrent_callbacks, history_problems, many_jobs

import pipelinejobs as pj

from support import new_job, table_items


@pytest.fixture(autouse=True)
def _tables(ddb_env):
    pj.create_tables()


def test_50_concurrent_callbacks_on_one_job_are_each_recorded_once():
    job = new_job("load-callbacks").run()
    run, _resends = concurrent_callbacks(job, 50)
    assert run.statuses == {200: 50}
    items = table_items()
    assert history_problems(items, {job.uuid: ("RUNNING", ["create", "run"] + ["update"] * 50)}) == []
    assert callback_data_problems(items, job.uuid, 50) == []


@pytest.mark.parametrize("jobs", [pytest.param(200, id="200-jobs"),
                                  pytest.param(2000, id="2000-jobs", marks=pytest.mark.slow)])
def test_jobs_times_5_events_over_8_workers_end_finished_with_gapless_histories(jobs: int):
    pipeline = pj.register_pipeline("load-jobs")
    uuids, run = many_jobs(pipeline.uuid, jobs, workers=8)
    assert run.statuses == {200: jobs * len(LIFECYCLE)}
    expected = {uuid: ("FINISHED", ["create", *LIFECYCLE]) for uuid in uuids}
    assert history_problems(table_items(), expected) == []
    assert len(pj.list_jobs(pipeline_uuid=pipeline.uuid, state="FINISHED")) == jobs  # the indexes agree
