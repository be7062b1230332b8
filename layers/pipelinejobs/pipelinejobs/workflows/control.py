"""Kill and rerun a workflow (see the functions' docs)."""

from __future__ import annotations

from ..config import Config


def kill(uuid: str, *, config: Config | None = None) -> None:
    raise NotImplementedError("workflow kill is being built (branch wf-engine)")


def rerun(uuid: str, *, config: Config | None = None) -> None:
    raise NotImplementedError("workflow rerun is being built (branch wf-engine)")
