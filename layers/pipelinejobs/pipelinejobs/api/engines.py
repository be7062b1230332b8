"""The engines' routes on the webhook's HTTP API: each engine's own protocol, spoken at an address that carries a
pipeline token (engines send no header of ours), ``/engines/{engine}/{pipeline_uuid}/{token}/...``.

Every route checks the token first (``engines.access.pipeline_for``: 401, nothing read), then hands the message
to its engine's adapter (pure: a malformed message is a 400 naming the field, nothing written) and the events it
makes to the tracker. A message that is valid but means nothing to us is a 200 all the same. Throttling is a 503,
as everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from .. import frontdoor, observability, redaction, runner_status, tokens
from ..config import Config
from ..engines import access, agave, cromwell, nextflow, tracker
from ..engines.model import RunEvent, TaskEvent
from ..errors import Unauthorized
from ..service import BAD_TOKEN

router = Router()


# ---- Nextflow, Cromwell, Agave/Tapis: one message per POST, JSON (Agave: or a form) -------------------------
#
# * ``POST /engines/nextflow/{pipeline}/{token}`` (``nextflow run ... -with-weblog <address>``), or
#   ``POST /engines/nextflow`` with ``weblog.basicToken "<pipeline_uuid>:<token>"`` (HTTP Basic): the weblog JSON;
# * ``POST /engines/cromwell/{pipeline}/{token}`` (``workflow-state-callback.endpoint``, or the
#   ``workflow_callback_uri`` workflow option): the workflow callback;
# * ``POST /engines/agave/{pipeline}/{token}?status=${JOB_STATUS}&job=${JOB_ID}`` (a job's notification webhook):
#   the job's JSON, the body's status and id read before the URL's.
#
# Each answers the tracker's summary, ``{"workflow": uuid or null, "events", "applied", "parked", "ignored"}``.

def _track(engine: str, pipeline_uuid: str, token: str | None,
           adapt: Callable[[dict[str, Any]], list[RunEvent | TaskEvent]]) -> dict[str, Any]:
    """Check the token (before any read), read the body (JSON, or a form's fields: ``runner_status.body_data``)
    with the token's value taken out wherever the engine repeats it (Nextflow's command line holds its weblog
    address), map it with ``adapt`` and apply what it means."""
    config = Config.from_env()
    pipeline = access.pipeline_for(pipeline_uuid, token, config)
    request = router.current_event
    body = runner_status.body_data(frontdoor.body_text(request), request.headers.get("content-type"))
    summary = tracker.apply(adapt(redaction.without(body, token or "")), pipeline, source=engine, config=config)
    observability.correlate(summary["workflow"])
    observability.logger().info("engine message applied", extra={"engine": engine, **summary})
    return summary


@router.post("/engines/nextflow/<pipeline>/<token>")
def nextflow_weblog(pipeline: str, token: str) -> dict[str, Any]:
    return _track(nextflow.ENGINE, pipeline, token, nextflow.events)


@router.post("/engines/nextflow")
def nextflow_weblog_basic() -> dict[str, Any]:
    """Nextflow's ``weblog.basicToken "<pipeline_uuid>:<token>"``: the address without them, HTTP Basic instead."""
    credentials = tokens.basic(router.current_event.headers.get("authorization"))
    if credentials is None:
        raise Unauthorized(BAD_TOKEN)
    return _track(nextflow.ENGINE, *credentials, nextflow.events)


@router.post("/engines/cromwell/<pipeline>/<token>")
def cromwell_callback(pipeline: str, token: str) -> dict[str, Any]:
    return _track(cromwell.ENGINE, pipeline, token, cromwell.events)


@router.post("/engines/agave/<pipeline>/<token>")
def agave_notification(pipeline: str, token: str) -> dict[str, Any]:
    query = router.current_event.query_string_parameters or {}
    return _track(agave.ENGINE, pipeline, token, lambda body: agave.events(body, query))
