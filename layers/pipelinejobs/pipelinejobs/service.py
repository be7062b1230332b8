"""``handle_event``: the one code path every front door uses to move a job.

Order matters and is deliberate: validate the message (400, nothing read),
check the token (401/403, nothing read: the answer cannot reveal whether the
job exists), then apply it (404 / 409 / the outcome).

A pipeline token (``tokens.pipeline_token``) is the one exception: a job's uuid
does not say its pipeline, so its form and expiry are checked first (no read)
and its signature against the job's pipeline on the read the event makes anyway,
before anything is written; a job that is not there, or is another pipeline's,
is the same 401.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from . import fsm, tokens
from .config import Config
from .errors import Forbidden, Unauthorized
from .events import Event, parse_event
from .records import JobRecord, Outcome
from .storage import DynamoDBJobStore, JobStore

BAD_TOKEN = "missing, invalid or expired token"


@cache
def _store_for(config: Config) -> JobStore:
    return DynamoDBJobStore(config)


def get_store(config: Config | None = None) -> JobStore:
    """The store for ``config`` (default: the environment), one per configuration."""
    return _store_for(config or Config.from_env())


def authorize(event: Event, config: Config) -> None:
    """Accept the job's own token for client events, an admin token for any event.

    Raises Unauthorized (bad token) or Forbidden (a job token on an admin event).
    """
    if not event.token:
        raise Unauthorized(BAD_TOKEN)
    secret = tokens.secret(config)
    if tokens.verify_admin_token(secret, event.token):
        return
    if not tokens.verify_job_token(secret, event.uuid, event.token, config.token_ttl_hours):
        raise Unauthorized(BAD_TOKEN)
    if event.event in fsm.ADMIN_EVENTS:
        raise Forbidden(f"event '{event.event}' needs an admin token")


def authorize_pipeline(token: str | None, config: Config) -> Callable[[str], bool] | None:
    """Who may create jobs: an admin token (None: any pipeline) or an unexpired pipeline token (the check of
    a pipeline's uuid against it). Anything else is Unauthorized; nothing is read."""
    secret = tokens.secret(config)
    if token and tokens.verify_admin_token(secret, token):
        return None
    if not tokens.pipeline_token_unexpired(token):
        raise Unauthorized(BAD_TOKEN)
    return lambda pipeline_uuid: tokens.verify_pipeline_token(secret, pipeline_uuid, token)


def _pipeline_admission(event: Event, token: str, config: Config) -> Callable[[JobRecord | None], None]:
    """The check a pipeline token needs once the job is read: the job exists and is its pipeline's."""
    holds = authorize_pipeline(token, config)

    def admit(job: JobRecord | None) -> None:
        if holds is None:
            return
        if job is None or not holds(job.pipeline_uuid):
            raise Unauthorized(BAD_TOKEN)
        if event.event in fsm.ADMIN_EVENTS:
            raise Forbidden(f"event '{event.event}' needs an admin token")

    return admit


def handle_event(message: dict[str, Any], *, trusted: bool = False, source: str = "message",
                 config: Config | None = None, fields: Mapping[str, Any] | None = None,
                 expect: Mapping[str, Any] | None = None, pipeline_token: str | None = None) -> Outcome:
    """Validate, authorise and apply one PipelineJobEvent.

    ``trusted`` skips the token check; it is for callers AWS has already
    authenticated with IAM (Step Functions, EventBridge rules from AWS Batch/ECS,
    the SDK acting with direct table access), never for anything from HTTP.
    ``fields`` and ``expect`` are orchestration's (see JobStore.apply);
    they are keyword arguments, never part of a message, so no sender can set them.
    ``pipeline_token`` (from an ``Authorization`` header) stands in for a message with no token of its own.

    After the write, a job that a Step Functions execution is waiting on (it has a
    task token) has that execution told: no extra read, the committed job is at hand.
    """
    event = parse_event(message)
    if event.event == "fail":  # every fail says why (its class: pipelinejobs.failures)
        from .failures import classified

        event = classified(event)
    config = config or Config.from_env()
    admit = None
    if not trusted:
        if pipeline_token and not event.token:
            admit = _pipeline_admission(event, pipeline_token, config)
        else:
            authorize(event, config)
    outcome, job = get_store(config).apply(event, source=source, fields=fields, expect=expect, admit=admit)
    if job is not None and job.task_token:
        from .task_tokens import settle  # only jobs awaiting a callback pay for this import

        settle(event, outcome, job, source)
    return outcome
