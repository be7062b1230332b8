"""``pipelinejobs`` commands. Each is thin: it parses, calls the SDK and renders."""

from __future__ import annotations

import sys
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from .. import fsm
from ..errors import PipelineJobsError
from . import access, local_commands, runs, targets
from .render import Output, fail
from .runs import json_arg

JOB_COLUMNS = ("uuid", "pipeline_uuid", "state", "last_event", "created", "updated", "started")
HISTORY_COLUMNS = ("seq", "date", "name", "state", "applied", "data", "reason")


#: What a command may fail with that is the user's to fix, not a bug: said in one line, no traceback.
EXPECTED_ERRORS = (PipelineJobsError, OSError, LookupError, BotoCoreError, ClientError)


class Group(click.Group):
    """Turns expected errors into one line and a meaningful exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EXPECTED_ERRORS as exc:
            ctx.exit(fail(exc))


@click.group(cls=Group)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
@click.option("--local", "local", is_flag=True, help="Talk to the stack `pipelinejobs local` is running.")
@click.option("--stack", help="Talk to this deployed CloudFormation stack (reads its outputs).")
@click.option("--endpoint", help="DynamoDB endpoint (e.g. DynamoDB Local).")
@click.option("--table", help="The jobs table.")
@click.pass_context
def cli(ctx: click.Context, as_json: bool, local: bool, stack: str | None, endpoint: str | None,
        table: str | None) -> None:
    """See and steer pipeline jobs: on the local stack (--local), a deployed stack (--stack NAME),
    or wherever the environment (PIPELINEJOBS_TABLE, AWS_ENDPOINT_URL, ...) points."""
    import os

    ctx.obj = Output(as_json)
    try:
        if local:
            targets.use_local()
        if stack:
            targets.use_stack(stack)
    except EXPECTED_ERRORS as exc:
        ctx.exit(fail(exc))
    # The SDK reads its settings from the environment: options simply set it (and win over a target).
    for name, value in (("AWS_ENDPOINT_URL_DYNAMODB", endpoint), ("PIPELINEJOBS_TABLE", table)):
        if value:
            os.environ[name] = value


@cli.group()
def pipelines() -> None:
    """Register and list pipelines."""


@pipelines.command("register")
@click.argument("name")
@click.option("-d", "--description", default="")
@click.option("-c", "--component", "components", multiple=True, help="A component (repeatable).")
@click.option("--task", callback=json_arg, help="Launch template, as JSON.")
@click.option("--inactive", is_flag=True, help="Register without allowing new jobs.")
@click.pass_obj
def pipelines_register(out: Output, name: str, description: str, components: tuple[str, ...],
                       task: dict | None, inactive: bool) -> None:
    """Register a pipeline (same name and components: same pipeline, updated)."""
    from .. import register_pipeline

    out.record(register_pipeline(name, description, list(components), task, active=not inactive))


@pipelines.command("list")
@click.pass_obj
def pipelines_list(out: Output) -> None:
    from .. import list_pipelines

    out.table(list_pipelines(), ("uuid", "name", "description", "active", "created"), title="pipelines")


@cli.command()
@click.argument("uuid")
@click.pass_obj
def status(out: Output, uuid: str) -> None:
    """A job's record: state, last event, times, path."""
    from .. import get_job

    out.record(get_job(uuid).record, title=f"job {uuid}")


@cli.command()
@click.argument("uuid")
@click.option("--newest-first", is_flag=True)
@click.option("--limit", type=int, default=None, help="At most this many entries (default: all).")
@click.pass_obj
def history(out: Output, uuid: str, newest_first: bool, limit: int | None) -> None:
    """A job's history, refused events included."""
    from itertools import islice

    from ..service import get_store

    store = get_store()
    store.get_job(uuid)  # JobNotFound rather than an empty table
    entries = list(islice(store.iter_history(uuid, newest_first=newest_first), limit))
    out.table(entries, HISTORY_COLUMNS, title=f"history of {uuid}")


@cli.group()
def events() -> None:
    """Send events to jobs."""


@events.command("send")
@click.argument("uuid")
@click.argument("event", type=click.Choice(fsm.EVENTS))
@click.option("--data", callback=json_arg, help="Event data, as a JSON object.")
@click.option("--id", "event_id", help="Idempotency id: the same id is applied once.")
@click.option("--token", help="Send as a job runner would, with this token (default: with table access).")
@click.pass_obj
def events_send(out: Output, uuid: str, event: str, data: dict | None, event_id: str | None,
                token: str | None) -> None:
    """Apply one event to a job."""
    from .. import handle_event

    message = {"uuid": uuid, "event": event, "data": data or {}}
    message |= {"id": event_id} if event_id else {}
    message |= {"token": token} if token else {}
    out.record(handle_event(message, trusted=token is None, source="cli"))


@cli.command()
@click.argument("uuid")
@click.option("--state", "states", multiple=True, help="A state to wait for (repeatable; default: any end state).")
@click.option("--timeout", type=float, default=3600.0, show_default=True, help="Seconds.")
@click.option("--poll", type=float, default=2.0, show_default=True, help="Seconds between reads.")
@click.pass_obj
def wait(out: Output, uuid: str, states: tuple[str, ...], timeout: float, poll: float) -> None:
    """Block until a job reaches a state, showing its progress."""
    from ..jobs import END_STATES
    from ..jobs import wait as wait_for

    wanted = set(states) or END_STATES
    goal = "/".join(sorted(wanted))
    with out.console.status(f"waiting for {uuid}", spinner="dots") as spinner:
        job = wait_for(uuid, wanted, timeout, poll=poll, on_poll=lambda job: spinner.update(
            f"{uuid}: {job.state} (last event: {job.last_event}, {job.record.version} history entries); "
            f"waiting for {goal}"))
    out.record(job.record, title=f"job {uuid}")


@cli.command()
@click.option("--state", help="Only jobs in this state.")
@click.option("--pipeline", "pipeline_uuid", help="Only jobs of this pipeline.")
@click.option("--since", help="Only jobs created at or after this ISO time.")
@click.option("--limit", type=int, default=None, help="Show the newest N.")
@click.pass_obj
def stat(out: Output, state: str | None, pipeline_uuid: str | None, since: str | None, limit: int | None) -> None:
    """A table of jobs, read from the table's indexes (no per-job calls)."""
    from .. import list_jobs

    jobs = list_jobs(pipeline_uuid=pipeline_uuid, state=state, since=since)
    out.table(jobs[:limit] if limit else jobs, JOB_COLUMNS, title="jobs")


@cli.command("fsm")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "svg", "png"]), default="mermaid", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (required for svg/png).")
def fsm_command(fmt: str, output: str | None) -> None:
    """The PipelineJob state machine, as Mermaid, or rendered by Graphviz."""
    if fmt == "mermaid":
        text = fsm.mermaid() + "\n"
        if output:
            with open(output, "w") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
        return
    if not output:
        raise click.UsageError("--output is required for svg and png")
    from .graph import render

    render(output, fmt)
    click.echo(output)


for _command in (*runs.COMMANDS, *access.COMMANDS, local_commands.local, local_commands.demo):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="pipelinejobs")
