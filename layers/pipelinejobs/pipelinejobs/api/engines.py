"""The engines' routes on the webhook's HTTP API: each engine's own protocol, spoken at an address that carries a
pipeline token (engines send no header of ours), ``/engines/{engine}/{pipeline_uuid}/{token}/...``.

Every route checks the token first (``engines.access.pipeline_for``: 401, nothing read), then hands the message
to its engine's adapter (pure: a malformed message is a 400 naming the field, nothing written) and the events it
makes to the tracker. A message that is valid but means nothing to us is a 200 all the same: an engine that is
refused may stop (Snakemake before 9 exits on a 4xx or 5xx). Throttling is a 503, as everywhere.

Snakemake (``snakemake --logger panoptes --logger-panoptes-address <address>``; ``--wms-monitor`` before 9):

* ``GET .../create_workflow[?workflow_id=NAME]``: ``{"id", "name"}``, a new session of the run NAME (the same
  workflow as NAME's earlier runs), or of a new run without a NAME (engines/snakemake.py);
* ``GET .../api/service-info``: ``{"status": "running"}`` (what ``--wms-monitor`` asks first);
* ``POST .../update_workflow_status``: a form of ``msg`` (a log record as JSON), ``timestamp``, ``id``.
"""

from __future__ import annotations

import binascii
import time
import uuid as _uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler.api_gateway import Router

from .. import frontdoor, identity, observability, redaction, runner_status, tokens
from ..config import Config
from ..engines import access, agave, cromwell, nextflow, snakemake, tracker
from ..engines.model import RunEvent, TaskEvent
from ..errors import InvalidEvent, Unauthorized
from ..service import BAD_TOKEN

router = Router()

SNAKEMAKE = "/engines/snakemake/<pipeline>/<token>"


def _form() -> dict[str, str]:
    """The request's form fields (``application/x-www-form-urlencoded``), the first value of each."""
    try:
        body = router.current_event.decoded_body or ""
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidEvent.single("(body)", "is not a form (URL-encoded UTF-8 text)") from None
    return {name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()}


@router.get(f"{SNAKEMAKE}/create_workflow")
def snakemake_create_workflow(pipeline: str, token: str) -> dict[str, Any]:
    config = Config.from_env()
    found = access.pipeline_for(pipeline, token, config)
    run = router.current_event.get_query_string_value("workflow_id") or _uuid.uuid4().hex
    session = time.time_ns() // 1_000_000  # grows from one run of Snakemake to the next: a re-run's attempts
    tracker.apply([snakemake.started(run, session, run)], found, source=snakemake.ENGINE, config=config)
    return {"id": snakemake.workflow_id(run, session), "name": run}


@router.get(f"{SNAKEMAKE}/api/service-info")
def snakemake_service_info(pipeline: str, token: str) -> dict[str, Any]:
    access.pipeline_for(pipeline, token, Config.from_env())
    return {"status": "running"}


@router.post(f"{SNAKEMAKE}/update_workflow_status")
def snakemake_update_workflow_status(pipeline: str, token: str) -> dict[str, Any]:
    config = Config.from_env()
    found = access.pipeline_for(pipeline, token, config)
    return tracker.apply(snakemake.events(_form()), found, source=snakemake.ENGINE, config=config)


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

#: How Nextflow's and Cromwell's bodies are read, whatever their label: they send JSON and nothing else, and a
#: wrong label is not worth refusing a message Nextflow never sends again.
JSON = "application/json"
#: An engine's adapter: one message's body in, its events out.
Adapter = Callable[[dict[str, Any]], list[RunEvent | TaskEvent]]


def _track(engine: str, pipeline_uuid: str, token: str | None, adapt: Adapter,
           media_type: str | None = JSON) -> dict[str, Any]:
    """Check the token (before any read), read the body (as ``media_type``, or as the request labels it when
    None: JSON, or a form's fields, ``runner_status.body_data``) with the token's value taken out wherever the
    engine repeats it (Nextflow's command line holds its weblog address), map it with ``adapt`` and apply what
    it means."""
    config = Config.from_env()
    pipeline = access.pipeline_for(pipeline_uuid, token, config)
    request = router.current_event
    body = runner_status.body_data(frontdoor.body_text(request), media_type or request.headers.get("content-type"))
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
    if credentials is None or not identity.UUID.fullmatch(credentials[0]):
        raise Unauthorized(BAD_TOKEN)  # a user that is no pipeline's uuid is a bad credential, like a bad password
    return _track(nextflow.ENGINE, *credentials, nextflow.events)


@router.post("/engines/cromwell/<pipeline>/<token>")
def cromwell_callback(pipeline: str, token: str) -> dict[str, Any]:
    return _track(cromwell.ENGINE, pipeline, token, cromwell.events)


@router.post("/engines/agave/<pipeline>/<token>")
def agave_notification(pipeline: str, token: str) -> dict[str, Any]:
    query = router.current_event.query_string_parameters or {}
    return _track(agave.ENGINE, pipeline, token, lambda body: agave.events(body, query), media_type=None)
