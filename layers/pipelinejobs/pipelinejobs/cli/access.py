"""``pipelinejobs token pipeline|viewer|admin``, ``pipelinejobs engine-url ENGINE`` and ``pipelinejobs callback
UUID``: what an admin hands to others.

Tokens are computed from the token secret and this machine's clock, so only someone who holds the secret
(an admin) can mint them, and none asks the API anything (docs/webhook.md, "Outside AWS"; docs/engines.md).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from .. import tokens
from ..engines.addresses import ENGINES
from .params import JOB
from .render import Output

if TYPE_CHECKING:
    from ..config import Config


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

    pipeline_uuid, minted = _pipeline_token(Config.from_env(), name, hours)
    if out.as_json or as_json:
        return out.json({"token": minted})
    out.record({"token": minted, "pipeline": pipeline_uuid, "expires": _expires(minted)},
               title=f"pipeline token for {name}")


def _pipeline_token(config: Config, name: str, hours: int) -> tuple[str, str]:
    """The uuid of the pipeline ``name`` (a name or a uuid) and a token for it living ``hours``: a uuid needs no
    request, a name one read of the table's catalog index."""
    from ..creation import pipeline_for
    from ..identity import UUID
    from ..service import get_store

    pipeline_uuid = name if UUID.fullmatch(name) else pipeline_for(name, get_store(config)).uuid
    return pipeline_uuid, tokens.pipeline_token(tokens.secret(config), pipeline_uuid, hours)


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


#: How each engine is given its address (``{url}``), told on stderr: the text on stdout is the address alone,
#: so ``--logger-panoptes-address "$(pipelinejobs engine-url snakemake --pipeline NAME)"`` works as it is.
ENGINE_USAGE = {
    "snakemake": "snakemake --logger panoptes --logger-panoptes-address '{url}' ...",
    "nextflow": "nextflow run ... -with-weblog '{url}'\n"
                "or, to keep the token off Nextflow's command line (it repeats the address in its metadata), in "
                "nextflow.config:\n"
                "  weblog {{\n    enabled = true\n    url = '{api}/engines/nextflow'\n"
                "    basicToken = '{pipeline}:{token}'\n  }}",
    "cromwell": "in Cromwell's configuration: workflow-state-callback {{ enabled: true, endpoint: \"{url}\" }}\n"
                "or in one workflow's options: {{\"workflow_callback_uri\": \"{url}\"}}",
    "agave": "in a job's notifications: {{\"url\": \"{url}\", \"event\": \"*\", \"persistent\": true}}",
}


@click.command("engine-url")
@click.argument("engine", type=click.Choice(ENGINES, case_sensitive=False), metavar="ENGINE")
@click.option("--pipeline", "name", required=True, help="The pipeline's name or uuid.")
@click.option("--hours", type=click.IntRange(1, tokens.PIPELINE_TOKEN_MAX_HOURS), default=tokens.PIPELINE_TOKEN_HOURS,
              show_default=True, help="How long its token lives (it expires at the end of an hour: up to one more).")
@click.option("--local", "local", is_flag=True, help="The address of the stack `pipelinejobs local` is running.")
@click.option("--json", "as_json", is_flag=True, help='Print {"url": ...}.')
@click.pass_obj
def engine_url(out: Output, engine: str, name: str, hours: int, local: bool, as_json: bool) -> None:
    """The address to give ENGINE (snakemake, nextflow, cromwell, agave) so that its runs are tracked as
    workflows of --pipeline's jobs: the API's URL with a pipeline token in it (the token is minted here, as
    `token pipeline` does: no request to the API). Prints the address alone; how to use it goes to stderr."""
    from ..config import Config
    from ..engines import addresses
    from ..errors import ConfigurationError
    from .targets import use_local

    if local:
        use_local()
    config = Config.from_env()
    if not config.api_url:
        raise ConfigurationError("the API's address is unknown: set PIPELINEJOBS_API_URL, or give --local or "
                                 "--stack NAME")
    pipeline_uuid, minted = _pipeline_token(config, name, hours)
    url = addresses.engine_url(config.api_url, engine, pipeline_uuid, minted)
    if out.as_json or as_json:
        return out.json({"url": url})
    sys.stdout.write(url + "\n")
    usage = ENGINE_USAGE[engine].format(url=url, api=config.api_url, pipeline=pipeline_uuid, token=minted)
    click.echo(f"{usage}\n(its token expires {_expires(minted)}; --hours N for another lifetime)", err=True)


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


COMMANDS = (token, engine_url, callback)
