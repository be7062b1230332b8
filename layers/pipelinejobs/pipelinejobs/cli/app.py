"""``pipelinejobs`` commands. Each is thin: it parses, calls the SDK and renders."""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import Any

import click

from .. import fsm
from . import access, admin, callbacks, cost, local_commands, runs, targets, workflows
from .params import JOB, JSON_OBJECT, PIPELINE, SINCE, STATE
from .render import INTERRUPTED, Output, duration, fail, local_time, short

HISTORY_COLUMNS = ("seq", "date", "name", "state", "applied", "data", "reason")

#: Commands whose output has no JSON form (they print text, or run a stack): no --json after their name.
TEXT_COMMANDS = frozenset({"fsm", "local", "demo"})


class Cli(click.Group):
    """The ``pipelinejobs`` group: every error a person can meet ends as one line (or, with ``--json``
    anywhere on the command line, one JSON object) on stderr and a documented exit status."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        args = list(sys.argv[1:] if args is None else args)
        # Errors may come before --json is parsed (a bad option): whether it was given is read from the words.
        as_json = "--json" in args[:args.index("--")] if "--" in args else "--json" in args
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):
                code = INTERRUPTED  # Ctrl-C: the person knows, nothing to add
            else:
                code = fail(click.ClickException("aborted: nothing was done"), as_json)
        except BrokenPipeError:  # the reader went away (`| head`): nobody to tell, and nothing more to flush
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = 1
        except Exception as exc:  # a person gets one line, never a traceback, whatever went wrong
            code = fail(exc, as_json)
        else:
            code = result if isinstance(result, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(cls=Cli)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output (also accepted after the command).")
@click.option("--local", "local", is_flag=True, help="Talk to the stack `pipelinejobs local` is running.")
@click.option("--stack", help="Talk to this deployed CloudFormation stack (reads its outputs).")
@click.option("--endpoint", help="DynamoDB endpoint (e.g. DynamoDB Local).")
@click.option("--table", help="The jobs table.")
@click.pass_context
def cli(ctx: click.Context, as_json: bool, local: bool, stack: str | None, endpoint: str | None,
        table: str | None) -> None:
    """See and steer pipeline jobs: on the local stack (--local), a deployed stack (--stack NAME),
    or wherever the environment (PIPELINEJOBS_TABLE, AWS_ENDPOINT_URL, ...) points.

    Jobs are named by their uuid or any unambiguous prefix of it (tables show 8 characters); pipelines
    also by their name. Exit codes: 0 ok, 1 error, 2 bad input, 3 not found, 4 not allowed in this state,
    5 unauthorised, 6 timed out, 75 retry later, 130 interrupted."""
    ctx.obj = Output(as_json)
    target = targets.use_local() if local else None
    if stack:
        target = targets.use_stack(stack)
    ctx.meta["target"] = target
    # The SDK reads its settings from the environment: options simply set it (and win over a target).
    for name, value in (("AWS_ENDPOINT_URL_DYNAMODB", endpoint), ("PIPELINEJOBS_TABLE", table)):
        if value:
            os.environ[name] = value


@cli.command("env")
@click.pass_context
def env_command(ctx: click.Context) -> None:
    """The `export` lines that point a shell, and the SDK run from it, where --local or --stack points:
    eval "$(pipelinejobs --local env)"."""
    target = ctx.meta["target"]
    if target is None:
        raise click.UsageError("env prints what --local or --stack NAME sets: give one of them")
    if ctx.obj.as_json:
        return ctx.obj.json(target[0])
    sys.stdout.write(targets.exports(*target))


@cli.group()
def pipelines() -> None:
    """Register and list pipelines."""


@pipelines.command("register")
@click.argument("name")
@click.option("-d", "--description", default="")
@click.option("-c", "--component", "components", multiple=True, help="A component (repeatable).")
@click.option("--task", type=JSON_OBJECT, help="Launch template, as JSON (checked now: a mistake is refused).")
@click.option("--inactive", is_flag=True, help="Register without allowing new jobs.")
@click.pass_obj
def pipelines_register(out: Output, name: str, description: str, components: tuple[str, ...],
                       task: dict | None, inactive: bool) -> None:
    """Register a pipeline (same name and components: same pipeline, updated)."""
    from .. import register_pipeline

    out.record(register_pipeline(name, description, list(components), task, active=not inactive))


@pipelines.command("list")
@click.option("--wide", is_flag=True, help="Full uuids.")
@click.pass_obj
def pipelines_list(out: Output, wide: bool) -> None:
    """Every pipeline, with its components and launcher."""
    from .. import list_pipelines

    found = list_pipelines()
    if out.as_json:
        return out.json(found)
    rows = [{"name": p.name, "uuid": short(p.uuid, wide), "components": ", ".join(map(str, p.components)),
             "launcher": (p.task or {}).get("launcher", ""), "active": "yes" if p.active else "no",
             "description": p.description, "created": local_time(p.created)} for p in found]
    out.table(rows, ("name", "uuid", "components", "launcher", "active", "description", "created"),
              title="pipelines", summary=f"{len(rows)} pipeline(s)")


@cli.command()
@click.argument("job", type=JOB)
@click.pass_obj
def status(out: Output, job: str) -> None:
    """A job's record: state, last event, times, path; for a failed job, why (its failure class)."""
    from .. import attempt_history, get_job
    from ..service import get_store

    record = get_job(job).record.to_dict()
    if record["state"] == "FAILED":
        record["failure"] = attempt_history.last_failure(get_store().iter_history(job, newest_first=True))
    out.record(record, title=f"job {job}")


@cli.command()
@click.argument("job", type=JOB)
@click.option("--newest-first", is_flag=True)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many entries (default: all).")
@click.pass_obj
def history(out: Output, job: str, newest_first: bool, limit: int | None) -> None:
    """A job's history, refused events included."""
    from itertools import islice

    from ..service import get_store

    store = get_store()
    store.get_job(job)  # JobNotFound rather than an empty table
    entries = list(islice(store.iter_history(job, newest_first=newest_first), limit))
    out.table(entries, HISTORY_COLUMNS, title=f"history of {job}")


@cli.group()
def events() -> None:
    """Send events to jobs."""


@events.command("send")
@click.argument("job", type=JOB)
@click.argument("event", type=click.Choice(fsm.EVENTS))
@click.option("--data", type=JSON_OBJECT, help="Event data, as a JSON object.")
@click.option("--id", "event_id", help="Idempotency id: the same id is applied once.")
@click.option("--token", help="Send as a job runner would, with this token (default: with table access).")
@click.pass_obj
def events_send(out: Output, job: str, event: str, data: dict | None, event_id: str | None,
                token: str | None) -> None:
    """Apply one event to a job."""
    from .. import handle_event

    message = {"uuid": job, "event": event, "data": data or {}}
    message |= {"id": event_id} if event_id else {}
    message |= {"token": token} if token else {}
    out.record(handle_event(message, trusted=token is None, source="cli"))


@cli.command()
@click.argument("job", type=JOB)
@click.option("--state", "states", type=STATE, multiple=True,
              help="A state to wait for (repeatable; default: any end state).")
@click.option("--timeout", type=click.FloatRange(min=0), default=3600.0, show_default=True, help="Seconds.")
@click.option("--poll", type=click.FloatRange(min=0.05), default=2.0, show_default=True,
              help="Seconds between reads.")
@click.pass_obj
def wait(out: Output, job: str, states: tuple[str, ...], timeout: float, poll: float) -> None:
    """Block until a job reaches a state, showing its progress (Ctrl-C stops waiting: exit 130)."""
    from ..sdk.jobs import wait as wait_for

    wanted = set(states) or fsm.SETTLED_STATES
    goal = "/".join(sorted(wanted))
    with out.console.status(f"waiting for {job}", spinner="dots") as spinner:
        found = wait_for(job, wanted, timeout, poll=poll, on_poll=lambda j: spinner.update(
            f"{job}: {j.state} (last event: {j.last_event}, {j.record.version} history entries); "
            f"waiting for {goal}"))
    out.record(found.record, title=f"job {job}")


@cli.command()
@click.option("--state", type=STATE, help="Only jobs in this state (any case).")
@click.option("--pipeline", "pipeline_uuid", type=PIPELINE, help="Only jobs of this pipeline (name or uuid).")
@click.option("--since", type=SINCE, help="Only jobs created since: an ISO time (2026-11-25T14:00) or an age (3h, 2d).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show the newest N.")
@click.option("--wide", is_flag=True, help="Full uuids, and the pipeline's uuid beside its name.")
@click.pass_obj
def stat(out: Output, state: str | None, pipeline_uuid: str | None, since: Any, limit: int | None,
         wide: bool) -> None:
    """A table of jobs, newest first, read from the table's indexes (no per-job calls)."""
    from .. import list_jobs, list_pipelines

    jobs = list_jobs(pipeline_uuid=pipeline_uuid, state=state, since=since)
    shown = jobs[:limit] if limit else jobs
    if out.as_json:
        return out.json(shown)
    names = {p.uuid: p.name for p in list_pipelines()}
    rows = [{"job": short(j.uuid, wide), "pipeline": _pipeline_label(names, j.pipeline_uuid, wide), "state": j.state,
             "last event": j.last_event, "created": local_time(j.created), "started": local_time(j.started),
             "duration": duration(j.started, None if j.state == "RUNNING" else j.updated)} for j in shown]
    out.table(rows, ("job", "pipeline", "state", "last event", "created", "started", "duration"), title="jobs",
              summary=_counts(shown, len(jobs)))


def _pipeline_label(names: dict[str, str], uuid: str, wide: bool) -> str:
    name = names.get(uuid)
    if name is None:
        return short(uuid, wide)
    return f"{name} ({uuid})" if wide else name


def _counts(shown: list[Any], total: int) -> str:
    """``12 jobs: 3 RUNNING, 9 FINISHED`` (states in the state machine's order), and what --limit left out."""
    by_state = Counter(j.state for j in shown)
    counts = ", ".join(f"{by_state[s]} {s}" for s in fsm.STATES if by_state[s])
    text = f"{len(shown)} job(s)" + (f": {counts}" if counts else "")
    return text + (f" (the newest {len(shown)} of {total})" if total > len(shown) else "")


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


for _command in (*runs.COMMANDS, *access.COMMANDS, *admin.COMMANDS, *cost.COMMANDS, *callbacks.COMMANDS,
                 *workflows.COMMANDS, local_commands.local, local_commands.demo):
    cli.add_command(_command)


def _accept_json_after(group: click.Group) -> None:
    """Give every command with a JSON form ``--json`` after its name too (``stat --json``), as the group's
    own: eager, so it is set before any other value is checked. A command with a ``--json`` of its own keeps
    it alone (a second one has click warn on every run, before the one-line error)."""

    def as_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.find_object(Output).as_json = True

    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            _accept_json_after(command)
        elif name not in TEXT_COMMANDS and not any("--json" in param.opts for param in command.params):
            command.params.append(click.Option(["--json"], is_flag=True, expose_value=False, is_eager=True,
                                               callback=as_json, help="Machine-readable JSON output."))


_accept_json_after(cli)


def main() -> None:
    cli(prog_name="pipelinejobs")
