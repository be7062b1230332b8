"""pipelinejobs: PipelineJob records on DynamoDB, moved by validated, authenticated events.

The public face; everything else is an implementation detail.

The SDK's names (``PipelineJob``, ``get_job``, the transports, ...) are imported on first use (PEP 562
``__getattr__``), not with the package: every Lambda function imports this package on its way to its own
module, and none of them may load the client SDK (docs/design.md, "Packages and import directions").
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import errors, fsm
from .config import Config
from .records import HistoryEntry, JobRecord, JobSummary, Outcome, PipelineRecord

if TYPE_CHECKING:  # what IDEs, type checkers and help() see; at run time __getattr__ imports them
    from .sdk.jobs import PipelineJob, get_job, list_jobs, wait
    from .sdk.pipelines import get_pipeline, list_pipelines, register_pipeline
    from .sdk.transports import LambdaTransport, WebhookTransport
    from .service import handle_event
    from .storage import create_tables

#: Public name → the module it is imported from on first use.
_LAZY = {
    **dict.fromkeys(["PipelineJob", "get_job", "list_jobs", "wait"], ".sdk.jobs"),
    **dict.fromkeys(["get_pipeline", "list_pipelines", "register_pipeline"], ".sdk.pipelines"),
    **dict.fromkeys(["LambdaTransport", "WebhookTransport"], ".sdk.transports"),
    "handle_event": ".service",
    "create_tables": ".storage",
}

__all__ = [
    "Config",
    "HistoryEntry",
    "JobRecord",
    "JobSummary",
    "LambdaTransport",
    "Outcome",
    "PipelineJob",
    "PipelineRecord",
    "WebhookTransport",
    "create_tables",
    "errors",
    "fsm",
    "get_job",
    "get_pipeline",
    "handle_event",
    "list_jobs",
    "list_pipelines",
    "register_pipeline",
    "wait",
]


def __getattr__(name: str) -> Any:
    """Import a lazy public name on first use, and keep it (the next lookup finds it in the module)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
