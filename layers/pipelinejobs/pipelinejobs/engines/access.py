"""Who may send an engine's messages: the holder of a pipeline token for the pipeline in the address.

An engine is given ``{api}/engines/{engine}/{pipeline_uuid}/{token}`` (``pipelinejobs engine-url``): the
panoptes plugin sends no header, so the token travels in the path. Every engine route calls
:func:`pipeline_for` first. The order is handle_event's: the address's form (400, nothing read), the token
(401, nothing read: a forged, expired, malformed or other pipeline's token gets the same answer, so it says
nothing about which pipelines exist), then the pipeline (404 if unknown or inactive).

Only a pipeline token opens an engine's door, not an admin's: an address is kept in an engine's
configuration, its logs and (Nextflow) its command line, so what it carries must be worth no more than one
pipeline's workflows and jobs.
"""

from __future__ import annotations

from .. import creation, identity, tokens
from ..config import Config
from ..errors import InvalidEvent
from ..records import PipelineRecord
from ..service import get_store


def pipeline_for(pipeline_uuid: str, token: str | None, config: Config) -> PipelineRecord:
    """The active pipeline ``pipeline_uuid`` names, if ``token`` is a pipeline token minted for it.

    Raises InvalidEvent (400, ``pipeline``: not a uuid), Unauthorized (401: no token, or one that is forged,
    expired, malformed or another pipeline's; checked before any read), PipelineNotFound (404: unknown or
    inactive) or StorageUnavailable."""
    if not isinstance(pipeline_uuid, str) or not identity.UUID.fullmatch(pipeline_uuid):
        raise InvalidEvent.single("pipeline", "must be a pipeline's uuid, as in the address "
                                              "`pipelinejobs engine-url` prints")
    secret = tokens.secret(config)

    def holds(uuid: str) -> bool:
        return token is not None and tokens.verify_pipeline_token(secret, uuid, token)

    return creation.pipeline_for(pipeline_uuid, get_store(config), holds)
