"""``pipelinejobs cost``: what a job, a pipeline's jobs or a workflow's jobs cost (pipelinejobs.costs)."""

from __future__ import annotations

from typing import Any

import click

from .params import JOB, PIPELINE, SINCE
from .render import Output

COMPUTE_COLUMNS = ("launcher", "seconds", "basis", "usd", "note")


@click.command()
@click.argument("job", type=JOB, required=False)
@click.option("--pipeline", "pipeline_uuid", type=PIPELINE, help="Sum the jobs of this pipeline (name or uuid).")
@click.option("--since", type=SINCE, help="With --pipeline: only jobs created since (ISO time or age: 3h, 2d).")
@click.option("--workflow", "workflow_uuid", help="Sum the jobs of this workflow (its uuid).")
@click.pass_obj
def cost(out: Output, job: str | None, pipeline_uuid: str | None, since: Any, workflow_uuid: str | None) -> None:
    """What a JOB cost (compute + tracking, in USD, estimated when it ended), or the jobs of a --pipeline or
    a --workflow summed; prices are AWS list prices of a date and region (PIPELINEJOBS_PRICES: a file of
    your own)."""
    from .. import costs

    if sum(x is not None for x in (job, pipeline_uuid, workflow_uuid)) != 1:
        raise click.UsageError("name one of: a JOB, --pipeline NAME_OR_UUID, --workflow UUID")
    if since is not None and pipeline_uuid is None:
        raise click.UsageError("--since goes with --pipeline")
    if job is not None:
        estimate = costs.job_cost(job)
        if out.as_json:
            return out.json(estimate)
        out.record({k: estimate[k] for k in (*costs.AMOUNTS, "final", "complete")}
                   | {"prices": f"{estimate['prices']['region']}, {estimate['prices']['date']}"},
                   title=f"cost of job {job}")
        return out.table(estimate["compute"], COMPUTE_COLUMNS, title="compute")
    if pipeline_uuid is not None:
        from .. import list_jobs

        uuids, what = [j.uuid for j in list_jobs(pipeline_uuid=pipeline_uuid, since=since)], f"pipeline {pipeline_uuid}"
    else:
        from .. import workflows

        uuids = [uuid for names in workflows.get(workflow_uuid).jobs.values() for uuid in names]
        what = f"workflow {workflow_uuid}"
    out.record(costs.summed(uuids), title=f"cost of {what}")


COMMANDS = (cost,)
