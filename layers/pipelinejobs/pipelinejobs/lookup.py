"""Jobs, pipelines and workflows by what people type: a pipeline's name, or a uuid prefix (tables show 8
characters).

A full uuid is taken as it is (the command's own read says if it exists). A job's prefix is matched
in the catalog index (``JobStore.find_jobs``: one of its 8 partitions for a prefix of 8 hex digits or
more, all 8 for a shorter one); a pipeline's name or prefix among the pipelines (a handful of items); a
workflow's prefix among the workflows' catalog (``workflows.list``).
A prefix or name that several share raises AmbiguousName listing them: nothing is guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TypeVar

from .config import Config
from .errors import AmbiguousName, JobNotFound, PipelineNotFound
from .identity import UUID
from .records import PipelineRecord
from .service import get_store

UUID_PREFIX = re.compile(r"[0-9a-f][0-9a-f-]{0,35}")
T = TypeVar("T")
#: Candidates named in an AmbiguousName's message (all of them are in its ``candidates``).
SHOWN = 10


def job_uuid(ref: str, *, config: Config | None = None) -> str:
    """The uuid of the one job whose uuid is, or starts with, ``ref``."""
    ref = ref.strip().lower()
    if UUID.fullmatch(ref):
        return ref
    if not UUID_PREFIX.fullmatch(ref):
        raise JobNotFound(ref)
    found = get_store(config).find_jobs(ref)
    if not found:
        raise JobNotFound(ref)
    uuids = [job.uuid for job in found]
    return _one(f"job prefix {ref}", uuids, uuids, [f"{job.state}, created {job.created}" for job in found],
                "give more of the uuid")


def workflow_uuid(ref: str, *, config: Config | None = None) -> str:
    """The uuid of the one workflow whose uuid is, or starts with, ``ref`` (among the catalog's workflows:
    one Query of its index)."""
    from .errors import WorkflowNotFound
    from .workflows import list as list_workflows

    ref = ref.strip().lower()
    if UUID.fullmatch(ref):
        return ref
    found = [w for w in list_workflows(config=config) if w.uuid.startswith(ref)] if UUID_PREFIX.fullmatch(ref) else []
    if not found:
        raise WorkflowNotFound(ref)
    uuids = [w.uuid for w in found]
    return _one(f"workflow prefix {ref}", uuids, uuids, [f"{w.name}, {w.state}, created {w.created}" for w in found],
                "give more of the uuid")


def pipeline(ref: str, *, config: Config | None = None) -> PipelineRecord:
    """The one pipeline whose uuid is ``ref``, or named ``ref``, or whose uuid starts with ``ref``
    (a name wins over a prefix: a pipeline may well be called ``cafe``)."""
    pipelines = get_store(config).list_pipelines()
    text = ref.strip()
    for what, matches in (
        ("pipeline", [p for p in pipelines if p.uuid == text.lower()]),
        (f"pipeline name {text!r}", [p for p in pipelines if p.name == text]),
        (f"pipeline prefix {text.lower()}",
         [p for p in pipelines if UUID_PREFIX.fullmatch(text.lower()) and p.uuid.startswith(text.lower())]),
    ):
        if matches:
            return _one(what, matches, [p.uuid for p in matches],
                        [f"{p.name}, components {json.dumps(p.components)}" for p in matches],
                        "name it by its uuid, or more of it")
    raise PipelineNotFound(text)


def _one(what: str, matches: Sequence[T], uuids: Sequence[str], details: Sequence[str], hint: str) -> T:
    """The one match; else AmbiguousName naming the first few (``uuid (details)``) and listing every uuid."""
    if len(matches) == 1:
        return matches[0]
    shown = "; ".join(f"{uuid} ({detail})" for uuid, detail in zip(uuids[:SHOWN], details, strict=False))
    more = f"; and {len(matches) - SHOWN} more" if len(matches) > SHOWN else ""
    raise AmbiguousName(f"{what} matches {len(matches)}: {shown}{more}; {hint}", list(uuids))
