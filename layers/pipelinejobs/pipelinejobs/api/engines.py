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
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler.api_gateway import Router

from ..config import Config
from ..engines import access, snakemake, tracker
from ..errors import InvalidEvent

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
