"""Commands that run jobs through Step Functions: submit, kill, rerun, attempts, logs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from .render import Output

RUN_COLUMNS = ("uuid", "started", "execution_arn", "error")
ATTEMPT_COLUMNS = ("number", "launcher", "started", "stopped", "exit_code", "reason", "succeeded")


def json_arg(_ctx, _param, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc.msg} at column {exc.colno}") from exc


@contextmanager
def progress(out: Output, what: str, total: int | None) -> Iterator[Callable[[Any], None]]:
    """A live progress bar for bulk work (silent with --json): yields the callback to tick it."""
    if out.as_json:
        yield lambda _run: None
        return
    from rich.progress import Progress

    with Progress(console=out.console, transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda _run: bar.advance(task)


@click.command()
@click.argument("pipeline_uuid")
@click.option("--data", callback=json_arg, help="The job's data, as a JSON object.")
@click.option("--each", type=click.File(), help="Start one job per line of this JSON-lines file.")
@click.option("--override", "overrides", callback=json_arg, help="Task template overrides, as JSON.")
@click.pass_obj
def submit(out: Output, pipeline_uuid: str, data: dict | None, each, overrides: dict | None) -> None:
    """Set up jobs and start their executions (get-or-start: a job with a run keeps it)."""
    from .. import orchestration

    if each is None:
        out.record(orchestration.start(pipeline_uuid, data, overrides=overrides))
        return
    items = [json.loads(line) for line in each if line.strip()]
    with progress(out, "starting jobs", len(items)) as tick:
        runs = orchestration.start_many(pipeline_uuid, items, overrides=overrides, progress=tick)
    out.table(runs, RUN_COLUMNS, title="started")


@click.command()
@click.argument("uuid")
@click.option("--reason", default="killed", show_default=True)
@click.pass_obj
def kill(out: Output, uuid: str, reason: str) -> None:
    """Fail the job, stop its execution and cancel its task."""
    from .. import orchestration

    out.record(orchestration.kill(uuid, reason=reason))


@click.command("kill-all")
@click.option("--pipeline", "pipeline_uuid", help="Only jobs of this pipeline.")
@click.option("--state", help="Only jobs in this state (default: CREATED and RUNNING).")
@click.confirmation_option(prompt="Kill every matching job?")
@click.pass_obj
def kill_all(out: Output, pipeline_uuid: str | None, state: str | None) -> None:
    """Kill every live job, optionally of one pipeline or in one state."""
    from .. import orchestration

    with progress(out, "killing jobs", None) as tick:
        runs = orchestration.kill_all(pipeline_uuid, state, progress=tick)
    out.table(runs, RUN_COLUMNS, title="killed")


@click.command()
@click.argument("uuid")
@click.option("--override", "overrides", callback=json_arg, help="Task template overrides, as JSON.")
@click.pass_obj
def rerun(out: Output, uuid: str, overrides: dict | None) -> None:
    """Run an ended job again, as its next attempt (reset, ready, a new execution)."""
    from .. import orchestration

    out.record(orchestration.rerun(uuid, overrides))


@click.command("rerun-many")
@click.option("--state", default="FAILED", show_default=True)
@click.option("--since", help="Only jobs created at or after this ISO time.")
@click.option("--pipeline", "pipeline_uuid", help="Only jobs of this pipeline.")
@click.option("--override", "overrides", callback=json_arg, help="Task template overrides, as JSON.")
@click.pass_obj
def rerun_many(out: Output, state: str, since: str | None, pipeline_uuid: str | None, overrides: dict | None) -> None:
    """Rerun every job in a state (default FAILED), like tibanna's rerun_many."""
    from .. import orchestration

    with progress(out, f"rerunning {state} jobs", None) as tick:
        runs = orchestration.rerun_many(state, since, pipeline_uuid=pipeline_uuid, overrides=overrides,
                                        progress=tick)
    out.table(runs, RUN_COLUMNS, title="rerun")


@click.command()
@click.argument("uuid")
@click.pass_obj
def attempts(out: Output, uuid: str) -> None:
    """Every attempt of a job: launcher, times, exit code, reason."""
    from .. import orchestration

    out.table(orchestration.attempts(uuid), ATTEMPT_COLUMNS, title=f"attempts of {uuid}")


@click.command()
@click.argument("uuid")
@click.option("--attempt", type=int, help="Only this attempt (default: all).")
@click.pass_obj
def logs(out: Output, uuid: str, attempt: int | None) -> None:
    """stdout and stderr of a job's attempts, or where they are (a CloudWatch stream)."""
    from .. import orchestration

    found = orchestration.logs(uuid, attempt)
    if out.as_json:
        return out.json(found)
    if not found:
        raise click.ClickException(f"job {uuid} has no attempt{f' {attempt}' if attempt else 's'} with logs")
    for log in found:
        out.console.rule(f"attempt {log.attempt}")
        if log.output:
            for name, text in log.output.items():
                out.console.print(f"[bold]{name}[/]")
                out.console.print(text, markup=False, highlight=False, end="" if text.endswith("\n") else "\n")
        else:
            out.console.print(f"logs are at {json.dumps(log.pointer)}" if log.pointer else "no logs recorded")


COMMANDS = (submit, kill, kill_all, rerun, rerun_many, attempts, logs)
