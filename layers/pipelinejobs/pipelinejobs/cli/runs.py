"""Commands that run jobs through Step Functions: submit, kill, rerun, attempts, logs."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from .params import JOB, JSON_OBJECT, PIPELINE, SINCE, STATE
from .render import Output, duration, local_time

RUN_COLUMNS = ("uuid", "started", "execution_arn", "error")
ATTEMPT_COLUMNS = ("number", "launcher", "started", "stopped", "duration", "exit_code", "failure", "reason",
                   "succeeded")


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


def json_lines(file: IO[str]) -> list[dict[str, Any]]:
    """One JSON object per non-blank line; a bad line is refused by its number, before any job starts."""
    items = []
    for number, line in enumerate(file, 1):
        if line.strip():
            try:
                items.append(JSON_OBJECT.convert(line, None, None))
            except click.BadParameter as exc:
                raise click.BadParameter(f"{file.name}, line {number}: {exc.message}", param_hint="'--each'") from None
    return items


@click.command()
@click.argument("pipeline_uuid", metavar="PIPELINE", type=PIPELINE)
@click.option("--data", type=JSON_OBJECT, help="The job's data, as a JSON object.")
@click.option("--each", type=click.File(), help="Start one job per line of this JSON-lines file.")
@click.option("--override", "overrides", type=JSON_OBJECT, help="Task template overrides, as JSON.")
@click.pass_obj
def submit(out: Output, pipeline_uuid: str, data: dict | None, each: IO[str] | None, overrides: dict | None) -> None:
    """Set up jobs and start their executions (get-or-start: a job with a run keeps it)."""
    from .. import orchestration

    if each is None:
        out.record(orchestration.start(pipeline_uuid, data, overrides=overrides))
        return
    items = json_lines(each)
    with progress(out, "starting jobs", len(items)) as tick:
        runs = orchestration.start_many(pipeline_uuid, items, overrides=overrides, progress=tick)
    out.table(runs, RUN_COLUMNS, title="started")


@click.command()
@click.argument("uuid", metavar="JOB", type=JOB)
@click.option("--reason", default="killed", show_default=True)
@click.option("--wait", "confirm_seconds", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="Seconds to watch the task stop before answering (task_stopped: true, or false if still ending).")
@click.pass_obj
def kill(out: Output, uuid: str, reason: str, confirm_seconds: float) -> None:
    """Stop the job's execution and its task, then fail the job; says whether the task was seen stopped
    (task_stopped: true, false, or "uncancellable" for Lambda and external tasks). A job that has ended is left as
    it is."""
    from .. import orchestration

    run = orchestration.kill(uuid, reason=reason, confirm_seconds=confirm_seconds)
    if run.skipped and not out.as_json:
        return out.say(run.skipped)
    out.record(run)


@click.command("kill-all")
@click.option("--pipeline", "pipeline_uuid", type=PIPELINE, help="Only jobs of this pipeline (name or uuid).")
@click.option("--state", type=STATE, help="Only jobs in this state (default: CREATED and RUNNING).")
@click.option("--yes", is_flag=True, help="Do not ask first.")
@click.pass_obj
def kill_all(out: Output, pipeline_uuid: str | None, state: str | None, yes: bool) -> None:
    """Kill every live job, optionally of one pipeline or in one state: says how many, then asks."""
    from .. import orchestration

    jobs = orchestration.killable(pipeline_uuid, state)
    if not jobs:
        return out.json([]) if out.as_json else out.say("no job matches: nothing to kill")
    by_state = Counter(job.state for job in jobs)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(by_state.items()))
    click.echo(f"{len(jobs)} job(s) match ({counts})", err=True)
    if not yes:
        click.confirm(f"Kill these {len(jobs)} job(s)?", abort=True, err=True)
    with progress(out, "killing jobs", len(jobs)) as tick:
        runs = orchestration.kill_all(jobs=[job.uuid for job in jobs], progress=tick)
    out.table(runs, RUN_COLUMNS, title="killed")


@click.command()
@click.argument("uuid", metavar="JOB", type=JOB)
@click.option("--override", "overrides", type=JSON_OBJECT, help="Task template overrides, as JSON.")
@click.pass_obj
def rerun(out: Output, uuid: str, overrides: dict | None) -> None:
    """Run an ended job again, as its next attempt (reset, ready, a new execution)."""
    from .. import orchestration

    out.record(orchestration.rerun(uuid, overrides))


@click.command("rerun-many")
@click.option("--state", type=STATE, default="FAILED", show_default=True)
@click.option("--since", type=SINCE, help="Only jobs created since: an ISO time or an age (3h, 2d).")
@click.option("--pipeline", "pipeline_uuid", type=PIPELINE, help="Only jobs of this pipeline (name or uuid).")
@click.option("--override", "overrides", type=JSON_OBJECT, help="Task template overrides, as JSON.")
@click.pass_obj
def rerun_many(out: Output, state: str, since: Any, pipeline_uuid: str | None, overrides: dict | None) -> None:
    """Rerun every job in a state (default FAILED), like tibanna's rerun_many."""
    from .. import orchestration

    with progress(out, f"rerunning {state} jobs", None) as tick:
        runs = orchestration.rerun_many(state, since, pipeline_uuid=pipeline_uuid, overrides=overrides,
                                        progress=tick)
    out.table(runs, RUN_COLUMNS, title="rerun")


@click.command()
@click.argument("uuid", metavar="JOB", type=JOB)
@click.pass_obj
def attempts(out: Output, uuid: str) -> None:
    """Every attempt of a job: launcher, times, exit code, why it failed (its class and the launcher's words)."""
    from .. import orchestration

    found = orchestration.attempts(uuid)
    if out.as_json:
        return out.json(found)
    rows = [{"number": a.number, "launcher": a.launcher, "started": local_time(a.started),
             "stopped": local_time(a.stopped), "duration": duration(a.started, a.stopped) if a.stopped else "",
             "exit_code": a.exit_code, "failure": a.failure, "reason": a.reason,
             "succeeded": "yes" if a.succeeded else "no"}
            for a in found]
    out.table(rows, ATTEMPT_COLUMNS, title=f"attempts of {uuid}", summary=f"{len(rows)} attempt(s)")


@click.command()
@click.argument("uuid", metavar="JOB", type=JOB)
@click.option("--attempt", type=click.IntRange(min=1), help="Only this attempt (default: all).")
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
