"""Who may feed an engine's events: the holder of a pipeline token for that pipeline (the smallest version, until
``eng-url``'s lands: the signature is the shared one)."""

from __future__ import annotations

from .. import creation, tokens
from ..config import Config
from ..errors import Unauthorized
from ..records import PipelineRecord
from ..service import BAD_TOKEN, get_store


def pipeline_for(pipeline_uuid: str, token: str, config: Config) -> PipelineRecord:
    """The active pipeline ``pipeline_uuid``, once ``token`` is shown to be an unexpired token of it; the token is
    checked before anything is read, so a forged, expired or other pipeline's token learns nothing (401)."""
    if not tokens.verify_pipeline_token(tokens.secret(config), pipeline_uuid, token):
        raise Unauthorized(BAD_TOKEN)
    return creation.pipeline_for(pipeline_uuid, get_store(config))
