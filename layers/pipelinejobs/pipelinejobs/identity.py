"""Deterministic identities: the same inputs always name the same pipeline or job.

That is what makes ``register_pipeline`` and ``PipelineJob.setup`` get-or-create,
and what keeps two runs of one job from writing over each other's outputs.
"""

from __future__ import annotations

import re
import uuid as _uuid
from typing import Any

from .config import INDEX_SHARDS
from .events import compact_json

#: A uuid as pipelinejobs writes them (lowercase, hyphenated): text of this form names a job or pipeline by uuid.
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

#: Namespace for every uuid5 pipelinejobs derives (fixed forever: changing it renames everything).
NAMESPACE = _uuid.UUID("6f0c3a52-3b1e-5c8e-9a57-5e1c0e2b7d41")


def pipeline_uuid(name: str, components: Any = None) -> str:
    return str(_uuid.uuid5(NAMESPACE, compact_json({"name": name, "components": components or []})))


def job_uuid(pipeline: str, data: dict | None = None, parents: list[str] | None = None) -> str:
    identity = {"pipeline_uuid": pipeline, "parents": sorted(parents or []), "data": data or {}}
    return str(_uuid.uuid5(NAMESPACE, compact_json(identity)))


def keyed_job_uuid(pipeline: str, key: str) -> str:
    """A job named by an identity of its own (an engine's task in its run) rather than by its data and
    parents: the same task is the same job across re-runs, whatever its data and parents say this time."""
    return str(_uuid.uuid5(NAMESPACE, compact_json({"pipeline_uuid": pipeline, "key": key})))


def job_path(pipeline: str, job: str, prefix: str = "/products/v2") -> str:
    """Archive path: unique per pipeline and job, so outputs never collide."""
    return f"{prefix.rstrip('/')}/{pipeline}/{job}"


def shard(uuid: str) -> int:
    """Index shard of a job: spreads GSI writes so no partition key is hot."""
    return int(uuid.replace("-", "")[:8], 16) % INDEX_SHARDS
