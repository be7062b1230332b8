"""``pipelinejobs token pipeline|viewer|admin`` and ``pipelinejobs callback UUID``: what an admin hands to others.

All are computed from the token secret and this machine's clock, so only someone who holds the secret
(an admin) can run them, and neither asks the API anything (docs/webhook.md, "Outside AWS").
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from .. import tokens
from .params import JOB
from .render import Output


@click.group()
def token() -> None:
    """Mint tokens (needs the token secret)."""


@token.command("pipeline")
@click.argument("name")
@click.option("--hours", type=click.IntRange(1, tokens.PIPELINE_TOKEN_MAX_HOURS), default=tokens.PIPELINE_TOKEN_HOURS,
              show_default=True, help="How long it lives (it expires at the end of an hour: up to one more).")
@click.option("--json", "as_json", is_flag=True, help='Print {"token": ...}.')
@click.pass_obj
def token_pipeline(out: Output, name: str, hours: int, as_json: bool) -> None:
    """A pipeline token for NAME (a pipeline's name or uuid): its holder may create and move that pipeline's
    jobs over HTTP (POST /jobs, events), nothing else. A uuid needs no request; a name is looked up once in
    the table's catalog index."""
    from ..config import Config
    from ..creation import pipeline_for
    from ..identity import UUID
    from ..service import get_store

    config = Config.from_env()
    pipeline_uuid = name if UUID.fullmatch(name) else pipeline_for(name, get_store(config)).uuid
    minted = tokens.pipeline_token(tokens.secret(config), pipeline_uuid, hours)
    if out.as_json or as_json:
        return out.json({"token": minted})
    out.record({"token": minted, "pipeline": pipeline_uuid, "expires": _expires(minted)},
               title=f"pipeline token for {name}")


def _expires(minted: str) -> str:
    return datetime.fromtimestamp(tokens.pipeline_token_expiry(minted), UTC).isoformat().replace("+00:00", "Z")


@token.command("viewer")
@click.option("--hours", type=click.IntRange(1, tokens.VIEWER_TOKEN_MAX_HOURS), default=tokens.VIEWER_TOKEN_HOURS,
              show_default=True, help="How long it lives (it expires at the end of an hour: up to one more).")
@click.option("--json", "as_json", is_flag=True, help='Print {"token": ...}.')
@click.pass_obj
def token_viewer(out: Output, hours: int, as_json: bool) -> None:
    """A viewer token for the dashboard (/ui): its holder may read every job there, and move none."""
    from ..config import Config

    minted = tokens.viewer_token(tokens.secret(Config.from_env()), hours)
    if out.as_json or as_json:
        return out.json({"token": minted})
    out.record({"token": minted, "expires": _expires(minted)}, title="viewer token")


@token.command("admin")
@click.option("--json", "as_json", is_flag=True, help='Print {"token": ...}.')
@click.pass_obj
def token_admin(out: Output, as_json: bool) -> None:
    """The current admin token (valid this hour and the next): it may do anything, the dashboard included."""
    from ..config import Config

    minted = tokens.admin_token(tokens.secret(Config.from_env()))
    if out.as_json or as_json:
        return out.json({"token": minted})
    out.record({"token": minted}, title="admin token")


@click.command()
@click.argument("uuid", type=JOB)
@click.option("--json", "as_json", is_flag=True, help='Print {"url": ..., "token": ...}.')
@click.pass_obj
def callback(out: Output, uuid: str, as_json: bool) -> None:
    """A job's callback URL (its runner's status replaces __STATUS__) and its token (valid 71-72 hours)."""
    from ..sdk.jobs import get_job

    job = get_job(uuid)  # JobNotFound (exit 3) rather than a URL for nothing
    answer = {"url": job.callback, "token": job.token}
    if out.as_json or as_json:
        return out.json(answer)
    out.record(answer, title=f"callback of job {uuid}")


COMMANDS = (token, callback)
