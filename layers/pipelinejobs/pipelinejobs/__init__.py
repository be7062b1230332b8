"""pipelinejobs: PipelineJob records on DynamoDB, moved by validated, authenticated events.

The public face; everything else is an implementation detail.
"""

from . import errors, fsm
from .config import Config
from .jobs import PipelineJob, get_job, list_jobs, wait
from .pipelines import get_pipeline, list_pipelines, register_pipeline
from .records import HistoryEntry, JobRecord, JobSummary, Outcome, PipelineRecord
from .service import handle_event
from .storage import create_tables
from .transports import LambdaTransport, WebhookTransport

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
