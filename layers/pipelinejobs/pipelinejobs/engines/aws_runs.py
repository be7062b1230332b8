"""What the AWS run adapters (Step Functions, HealthOmics) share: how a run names its job, and event ids.

An execution or run the user started names the job it does the work of, so pipelinejobs tracks it without
orchestrating it (docs/engines.md has the convention for users):

* its **name** starts with ``job-<job uuid>`` (anything may follow: ``job-<uuid>-retry2``). A bare uuid is not
  enough: Step Functions names an execution started without a name with a random uuid, which would send every
  such execution in the account to look for a job;
* for Step Functions, its **input** may say it instead, as a top-level ``"pipelinejobs_job": "<job uuid>"`` (it
  wins over the name; the name is read when the input is not in the event, which leaves out inputs too large).

Or it names a pipeline, and is tracked as a **workflow** of that pipeline, created as its first event arrives
(``engines.tracker``): a name starting ``pipeline-<pipeline uuid>``, or ``"pipelinejobs_pipeline"`` in the input.

EventBridge gives each delivery of an event the same ``id``, but a service may emit one change twice, with two
ids, and an event arrives in any order: so each message's id is derived from what the event says (the run, its
status, its end), never from the envelope, and the same change is applied once however often it arrives.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..events import compact_json

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
#: The name prefixes (case-insensitive) that say which job, or which pipeline, an execution or run is for.
JOB_NAME = re.compile(rf"^job-({_UUID})(?![0-9a-f])", re.IGNORECASE)
PIPELINE_NAME = re.compile(rf"^pipeline-({_UUID})(?![0-9a-f])", re.IGNORECASE)
#: The input keys (Step Functions) that say it.
JOB_INPUT_KEY, PIPELINE_INPUT_KEY = "pipelinejobs_job", "pipelinejobs_pipeline"
_BARE_UUID = re.compile(rf"^{_UUID}$", re.IGNORECASE)


def _named(prefix: re.Pattern[str], name: Any, given: Any) -> str | None:
    if isinstance(given, str) and _BARE_UUID.match(given.strip()):
        return given.strip().lower()
    found = prefix.match(name) if isinstance(name, str) else None
    return found.group(1).lower() if found else None


def job_named(name: Any, given: Any = None) -> str | None:
    """The job uuid ``given`` (an input's ``pipelinejobs_job``) is, else the one ``name`` starts with, lower case;
    None if neither names one."""
    return _named(JOB_NAME, name, given)


def pipeline_named(name: Any, given: Any = None) -> str | None:
    """The pipeline uuid ``given`` (an input's ``pipelinejobs_pipeline``) is, else the one ``name`` starts with."""
    return _named(PIPELINE_NAME, name, given)


def event_id(engine: str, *parts: Any) -> str:
    """A message id derived from the event's content (``parts``): the same change has the same id."""
    return f"{engine}-{hashlib.sha256(compact_json(list(parts)).encode()).hexdigest()[:40]}"


def iso_millis(millis: Any) -> str | None:
    """Epoch milliseconds (Step Functions' dates) as our ISO form; None for anything else."""
    if not isinstance(millis, int | float) or isinstance(millis, bool):
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without the empty ones (history keeps what was said)."""
    return {key: value for key, value in values.items() if value not in (None, "", [], {})}
