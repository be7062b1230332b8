"""The webhook's OpenAPI document, generated from the routes' declarations.

``python -m pipelinejobs.api.openapi`` rewrites the committed ``openapi.json``
beside this module (a test fails while the two differ).
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import __name__ as package_name
from .app import app

DOCUMENT = Path(__file__).with_name("openapi.json")


def generate() -> str:
    """The document as committed. Powertools lists a 422 for request validation on every route;
    this API answers those as 400s with ErrorBody (see ``app._invalid_request``), so they go."""
    document = json.loads(app.get_openapi_json_schema(
        title=package_name, version="1", description="Callbacks, events and job reads for PipelineJobs.",
    ))
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        document["components"]["schemas"].pop(name, None)
    return json.dumps(document, indent=2) + "\n"


if __name__ == "__main__":
    DOCUMENT.write_text(generate())
    print(f"wrote {DOCUMENT}")
