"""The address an engine is given: ``{api}/engines/{engine}/{pipeline_uuid}/{token}``, built in one place.

The token travels in the path because the panoptes plugin sends no header (Nextflow may send it as HTTP
Basic instead). Kept apart from :mod:`.access` so the command line names the engines without importing the
storage.
"""

from __future__ import annotations

#: The engines an address is printed for (``pipelinejobs engine-url ENGINE``), each served under
#: ``/engines/<engine>/`` by api/engines.py.
ENGINES = ("snakemake", "nextflow", "cromwell", "agave")
#: What goes after the token in an engine's address. Agave/Tapis fills in these macros when it notifies: the
#: body it sends is not ours to shape, so the status and the job ride in the query too (the body is read first).
QUERY = {"agave": "?status=${JOB_STATUS}&job=${JOB_ID}"}


def engine_url(api_url: str, engine: str, pipeline_uuid: str, token: str) -> str:
    """The address an engine sends its messages to: the one place it is built (the token is in the path, since
    the panoptes plugin sends no header)."""
    return f"{api_url.rstrip('/')}/engines/{engine}/{pipeline_uuid}/{token}{QUERY.get(engine, '')}"
