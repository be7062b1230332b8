"""``pipelinejobs delete``: an admin removes a job, whatever its state (docs/operations.md)."""

from __future__ import annotations

import click

from .params import JOB
from .render import Output


@click.command()
@click.argument("uuid", metavar="JOB", type=JOB)
@click.option("--yes", is_flag=True, help="Do not ask first.")
@click.pass_obj
def delete(out: Output, uuid: str, yes: bool) -> None:
    """Delete a job whatever its state, with its history (an admin's act: it needs table access): one tombstone
    is left, saying who deleted it and when. Asks first unless --yes. A live job's task is not stopped: kill it
    first. Run again, it finishes a delete that was interrupted."""
    from .. import get_job
    from ..errors import JobDeleted, JobNotFound
    from ..service import get_store

    store = get_store()
    try:
        job = get_job(uuid)
    except JobDeleted:
        raise
    except JobNotFound:  # no job: perhaps a delete interrupted, which this finishes
        if not store.finish_delete(uuid):
            raise
    else:
        if not yes:
            click.echo(f"job {uuid}: {job.state}, {job.record.version} history entries", err=True)
            click.confirm("Delete it and its history for good?", abort=True, err=True)
        job.delete()
    tombstone = store.tombstone(uuid)
    out.record({"uuid": uuid, "deleted": True, "deleted_at": tombstone.deleted_at if tombstone else None,
                "deleted_by": tombstone.deleted_by if tombstone else None}, title=f"job {uuid}")


COMMANDS = (delete,)
