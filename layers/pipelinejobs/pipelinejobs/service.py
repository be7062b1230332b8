"""``handle_event``: the one code path every front door uses to move a job.

Order matters and is deliberate: validate the message (400, nothing read),
check the token (401/403, nothing read: the answer cannot reveal whether the
job exists), then apply it (404 / 409 / the outcome).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from . import fsm, tokens
from .config import Config
from .errors import Forbidden, Unauthorized
from .events import Event, parse_event
from .records import Outcome
from .storage import DynamoDBJobStore, JobStore

_BAD_TOKEN = "missing, invalid or expired token"


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
        raise Unauthorized(_BAD_TOKEN)
    secret = tokens.secret(config)
    if tokens.verify_admin_token(secret, event.token):
        return
    if not tokens.verify_job_token(secret, event.uuid, event.token, config.token_ttl_hours):
        raise Unauthorized(_BAD_TOKEN)
    if event.event in fsm.ADMIN_EVENTS:
        raise Forbidden(f"event '{event.event}' needs an admin token")


def handle_event(message: dict[str, Any], *, trusted: bool = False, source: str = "message",
                 config: Config | None = None, fields: Mapping[str, Any] | None = None,
                 expect: Mapping[str, Any] | None = None) -> Outcome:
    """Validate, authorise and apply one PipelineJobEvent.

    ``trusted`` skips the token check; it is for callers AWS has already
    authenticated with IAM (Step Functions, EventBridge rules from AWS Batch/ECS,
    the SDK acting with direct table access), never for anything from HTTP.
    ``fields`` and ``expect`` are orchestration's (see JobStore.apply);
    they are keyword arguments, never part of a message, so no sender can set them.

    After the write, a job that a Step Functions execution is waiting on (it has a
    task token) has that execution told: no extra read, the committed job is at hand.
    """
    event = parse_event(message)
    config = config or Config.from_env()
    if not trusted:
        authorize(event, config)
    outcome, job = get_store(config).apply(event, source=source, fields=fields, expect=expect)
    if job is not None and job.task_token:
        from .orchestration.task_tokens import settle  # only jobs awaiting a callback pay for this import

        settle(event, outcome, job, source)
    return outcome
