"""Job creation on the server's side: get-or-create a job of an active pipeline.

``POST /jobs`` and ``PipelineJob.setup()`` (with table access) both create jobs here,
below the SDK, so the front door never goes through ``PipelineJob`` and both make the
same job: the uuid is ``identity.job_uuid`` of the pipeline's uuid, the data and the
parents, so creating twice finds the first. The order is handle_event's: check the
request (400, nothing read), the token (401, nothing read), then the pipeline and the job.

A pipeline is named by its uuid, or by its name through the catalog index (pipelines'
``gsi_sk`` is ``<name>#<uuid>``), never a Scan. A text shaped like a uuid is a uuid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from . import completion_urls, heartbeats, identity
from .config import Config
from .errors import InvalidEvent, PipelineNotFound, Unauthorized
from .events import check_data_size
from .records import HistoryEntry, JobRecord, PipelineRecord, now_iso
from .runner_status import STATUS_PLACEHOLDER
from .service import BAD_TOKEN, authorize_pipeline, get_store
from .storage import JobStore


def callback_url(api_url: str | None, uuid: str, token: str) -> str:
    """The webhook URL a job's runner calls, with :data:`STATUS_PLACEHOLDER` where its status goes: the one
    place it is built, for ``job.callback``, ``POST /jobs`` and ``pipelinejobs callback``."""
    base = api_url or "${PIPELINEJOBS_API_URL}"
    return f"{base}/jobs/{uuid}/events?token={token}&status={STATUS_PLACEHOLDER}"


def pipeline_for(reference: str, store: JobStore, holds: Callable[[str], bool] | None = None) -> PipelineRecord:
    """The active pipeline ``reference`` (a uuid or a name) names.

    ``holds`` (a pipeline token's check) keeps only the pipeline the caller holds a token for, before reading
    it; none left is Unauthorized, the same answer whether or not the pipeline exists. Without it (an admin, or
    the SDK with table access), an unknown or inactive pipeline is PipelineNotFound, and a name several active
    pipelines share (their components differ) is a 400 asking for the uuid."""
    candidates = [reference] if identity.UUID.fullmatch(reference) else store.pipelines_named(reference)
    if holds is not None:
        candidates = [uuid for uuid in candidates if holds(uuid)]
        if not candidates:
            raise Unauthorized(BAD_TOKEN)
    found = [pipeline for pipeline in map(store.get_pipeline, candidates) if pipeline is not None]
    active = [pipeline for pipeline in found if pipeline.active]
    if not active:
        raise PipelineNotFound(reference, "is not active" if found else "not found")
    if len(active) > 1:
        raise InvalidEvent.single("pipeline", f"names {len(active)} active pipelines: give the one you mean "
                                              f"by its uuid ({', '.join(p.uuid for p in active)})")
    return active[0]


def create_job(pipeline: str, data: dict[str, Any] | None = None, *, parents: Iterable[str] | None = None,
               callback_url: str | None = None, token: str | None = None, trusted: bool = False,
               create_data: dict[str, Any] | None = None, source: str = "webhook",
               workflow: dict[str, Any] | None = None, callback_changes: bool = False,
               heartbeat_seconds: int | None = None, key: str | None = None,
               config: Config | None = None) -> tuple[JobRecord, bool]:
    """Get or create the job of ``pipeline`` (uuid or name) for ``data`` and ``parents``: the job and
    whether it was created now.

    ``token`` is an admin or pipeline token; ``trusted`` skips it (the SDK holding the secret and table
    access). ``create_data`` goes with the create event; ``workflow`` is a workflow's job's place in it
    (``JobRecord.workflow``); ``callback_changes`` asks for a callback at every change of state, not only at
    the end. ``heartbeat_seconds`` (default: the pipeline's task template's) has the job failed as stale when it
    is silent that long while live (``heartbeats``). ``key`` names the job instead of its data and parents
(``identity.keyed_job_uuid``: an engine's task is one job across re-runs). Raises InvalidEvent (400: ``callback_url``,
    ``callback_changes``, ``data``, ``heartbeat_seconds``, an ambiguous name), Unauthorized, PipelineNotFound, or
    StorageUnavailable."""
    data, parents = dict(data or {}), sorted(parents or [])
    if callback_url is not None:
        completion_urls.check(callback_url)
    elif callback_changes:
        raise InvalidEvent.single("callback_changes", "needs a callback_url to call")
    check_data_size(data)
    heartbeat_seconds = heartbeats.checked(heartbeat_seconds)
    config = config or Config.from_env()
    holds = None if trusted else authorize_pipeline(token, config)
    store = get_store(config)
    found = pipeline_for(pipeline, store, holds)
    pipeline_uuid = found.uuid
    uuid = identity.keyed_job_uuid(pipeline_uuid, key) if key is not None else identity.job_uuid(pipeline_uuid, data,
                                                                                                   parents)
    now = now_iso()
    job = JobRecord(uuid=uuid, pipeline_uuid=pipeline_uuid, state="CREATED", last_event="create", created=now,
                    updated=now, path=identity.job_path(pipeline_uuid, uuid), data=data, parents=parents,
                    callback_url=callback_url, callback_changes=callback_changes, workflow=workflow,
                    heartbeat_seconds=heartbeat_seconds or (found.task or {}).get("heartbeat_seconds"))
    entry = HistoryEntry(seq=1, date=now, name="create", data=create_data or {}, state="CREATED", source=source)
    if store.insert_job(job, entry):
        return replace(job, version=1), True
    return store.get_job(uuid), False
