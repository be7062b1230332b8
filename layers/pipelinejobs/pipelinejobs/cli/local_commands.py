"""``pipelinejobs local`` and ``pipelinejobs demo``: the whole system on this machine.

Registered on the ``pipelinejobs`` group by cli/app.py. The demo starts ``pipelinejobs local`` as a
process of its own, and is then a client like any other.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click

from ..errors import ConfigurationError, PipelineJobsError
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
def local(port: int, moto_port: int, dynamodb_endpoint: str | None, stage: str, template_path: Path | None) -> None:
    """Run the whole system in this process, with no AWS account and no Docker: moto's server (Step Functions
    executing the real state machine, Lambda, SQS, EventBridge, DynamoDB), every resource built from
    template.yaml, the functions' handlers in-process and the webhook API on http://127.0.0.1:PORT.
    Prints the endpoints, then a line starting with "ready"; Ctrl-C stops it. Other shells reach it with
    `pipelinejobs --local ...`."""
    stack_class = _stack_class()
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    stack = stack_class(stage=stage, port=port, moto_port=moto_port, dynamodb_endpoint=dynamodb_endpoint,
                        template_path=template_path)
    try:
        stack.start()
    except (PipelineJobsError, OSError, RuntimeError) as exc:
        sys.exit(fail(exc))
    try:
        click.echo("pipelinejobs local stack")
        for line in stack.describe():
            click.echo(f"  {line}")
        click.echo(f"ready: webhook API {stack.api_url}, moto {stack.moto_url} (Ctrl-C to stop)")
        sys.stdout.flush()
        while not stopping.wait(0.5):
            pass
        click.echo("stopping")
    finally:
        stack.stop()


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
    on retry, one external job finished by webhook callbacks, one killed); exit 0 only if each ends as
    expected."""
    _stack_class()
    from ..local.demo import run

    sys.exit(run(keep=keep))
