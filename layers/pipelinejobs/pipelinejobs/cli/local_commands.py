"""``pipelinejobs local`` and ``pipelinejobs demo``: the whole system on this machine.

Registered on the ``pipelinejobs`` group by cli/app.py. The demo starts ``pipelinejobs local`` as a
process of its own, and is then a client like any other.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import click

from ..errors import ConfigurationError, PipelineJobsError
from ..local import discovery
from .render import fail


@click.command("local")
@click.option("--port", type=int, default=8787, show_default=True, help="Port of the webhook API (0: a free one).")
@click.option("--moto-port", type=int, default=0, help="Port of moto's server (default: a free one).")
@click.option("--dynamodb-endpoint", metavar="URL",
              help="Keep the table in this DynamoDB (e.g. DynamoDB Local at http://127.0.0.1:8000) instead of moto "
                   "(whose transactions slow down as the table grows: use this beyond a few hundred jobs).")
@click.option("--stage", default="local", show_default=True,
              help="The template's Stage parameter: the table is pipelinejobs-STAGE, and so on.")
@click.option("--template", "template_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The SAM template to build from (default: this checkout's template.yaml).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Keep the jobs here (the table in a DynamoDB Local of the stack's own, and the tasks' output), "
                   "so that a later start with the same DIR has them again. Without it everything is in memory "
                   "and gone when the stack stops. Jobs being run when the stack stops are FAILED at the next "
                   "start (their executions were in memory): `rerun` runs them again.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one readable line per request and logged event here, the functions' JSON lines in "
                   "the log file; json: the JSON lines here, as Lambda writes them.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="Where text mode writes the JSON lines (default: local.log in DIR, else beside the discovery "
                   "file).")
def local(port: int, moto_port: int, dynamodb_endpoint: str | None, stage: str, template_path: Path | None,
          data_dir: Path | None, log_format: str, log_file: Path | None) -> None:
    """Run the whole system in this process, with no AWS account and no Docker: moto's server (Step Functions
    executing the real state machine, Lambda, SQS, EventBridge, DynamoDB), every resource built from
    template.yaml, the functions' handlers in-process and the webhook API on http://127.0.0.1:PORT.
    Prints the endpoints, then a line starting with "ready"; Ctrl-C stops it. Other shells reach it with
    `pipelinejobs --local ...`. Its data is in memory unless --data-dir is given."""
    stack_class = _stack_class()
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    stack = stack_class(stage=stage, port=port, moto_port=moto_port, dynamodb_endpoint=dynamodb_endpoint,
                        template_path=template_path, data_dir=data_dir)
    try:
        stack.start()
    except (PipelineJobsError, OSError, RuntimeError) as exc:
        sys.exit(fail(exc))
    from ..local.console import route

    console = sys.stdout
    log_file = log_file or (data_dir or discovery.state_file().parent) / "local.log"
    try:
        logs = route(log_format, log_file, console)
        click.echo("pipelinejobs local stack", file=console)
        for line in stack.describe():
            click.echo(f"  {line}", file=console)
        if logs:
            click.echo(f"  log file        {log_file}  (the functions' JSON lines; --log-format json: here)",
                       file=console)
        click.echo(f"ready: webhook API {stack.api_url}, moto {stack.moto_url} (Ctrl-C to stop)", file=console)
        console.flush()
        stopping.wait()  # a signal's handler runs meanwhile (the wait is interruptible) and sets it
        click.echo("stopping: the discovery file, the webhook API, the pollers, moto, the local tasks"
                   + (", DynamoDB Local" if data_dir else ""), file=console)
    finally:
        started = time.monotonic()
        stack.stop()
    click.echo(f"stopped in {time.monotonic() - started:.1f} s", file=console)
    _exit_now(0)


def _exit_now(code: int) -> None:
    """Everything is stopped: end the process without the interpreter's own clean-up, which would spend 5-15 s
    freeing moto's backends and botocore's models (and wait on moto's execution threads) for nothing."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()
    os._exit(code)


def _stack_class() -> type:
    """The stack needs moto's server (the ``local`` extra): say how to get it in one line if it is missing."""
    try:
        from ..local.stack import LocalStack
    except ModuleNotFoundError as exc:
        sys.exit(fail(ConfigurationError(
            f"{exc.name} is not installed: the local stack needs the 'local' extra "
            "(scripts/bootstrap installs it; or pip install -e '.[local]' in a checkout)")))
    return LocalStack


@click.command("demo")
@click.option("--keep", is_flag=True, help="Leave the stack running at the end (stop it with Ctrl-C).")
def demo(keep: bool) -> None:
    """Start the local stack and run four jobs through Step Functions (one succeeds, one fails then succeeds
    on retry, one external job finished by webhook callbacks, one killed) and a workflow (a fan-out of checksums
    over generated files, one retried, and a fan-in report); exit 0 only if each ends as expected."""
    _stack_class()
    from ..local.demo import run

    sys.exit(run(keep=keep))
