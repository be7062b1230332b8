"""Pipelines: what jobs belong to. A job can only be set up for a known, active one."""

from __future__ import annotations

from typing import Any

from .. import identity
from ..config import Config
from ..errors import PipelineNotFound
from ..records import PipelineRecord
from ..service import get_store


def register_pipeline(name: str, description: str = "", components: list[Any] | None = None,
                      task: dict[str, Any] | None = None, *, active: bool = True,
                      config: Config | None = None) -> PipelineRecord:
    """Register (or re-register) a pipeline; its uuid is uuid5 of name and components.

    Registering the same pipeline twice is harmless: description, task and
    ``active`` are updated, ``created`` is kept. ``task`` is the launch template
    orchestration uses for the pipeline's jobs: it is checked here (InvalidTaskSpec, a 400,
    naming each field at fault; nothing written), so a mistake shows when it is made and not
    as a failed job later. Only the launcher's required params may be missing, for each
    job's overrides to give.
    """
    if task is not None:
        # Imported here: orchestration builds on pipelines (its package imports this module).
        from ..orchestration.spec import TaskSpec

        TaskSpec.resolve(task, complete=False)
    record = PipelineRecord(uuid=identity.pipeline_uuid(name, components), name=name, description=description,
                            components=list(components or []), task=task, active=active)
    return get_store(config).put_pipeline(record)


def get_pipeline(uuid: str, *, config: Config | None = None) -> PipelineRecord:
    pipeline = get_store(config).get_pipeline(uuid)
    if pipeline is None:
        raise PipelineNotFound(uuid)
    return pipeline


def active_pipeline(uuid: str, *, config: Config | None = None) -> PipelineRecord:
    pipeline = get_pipeline(uuid, config=config)
    if not pipeline.active:
        raise PipelineNotFound(uuid, "is not active")
    return pipeline


def list_pipelines(*, config: Config | None = None) -> list[PipelineRecord]:
    return get_store(config).list_pipelines()
