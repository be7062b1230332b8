"""The SDK: ``PipelineJob(...).setup().run().update({...}).finish()``.

It follows the original PipelineJobs client: a job is named by its pipeline,
its data and its parents (so ``setup`` is get-or-create), every verb takes
optional ``data`` and returns the job so calls chain, and the properties a job
runner needs (``token``, ``callback``, ``path``) are at hand.
"""

from __future__ import annotations

import getpass
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any, Self

from .. import creation, fsm, identity, signing, tokens
from ..config import Config
from ..errors import ConfigurationError, InvalidTransition, JobNotFound, WaitTimeout
from ..records import HistoryEntry, JobRecord, JobSummary, Outcome
from ..service import get_store, handle_event
from . import transports

#: Sends one PipelineJobEvent message and returns its outcome.
Transport = Callable[[dict[str, Any]], Outcome]


class PipelineJob:
    def __init__(self, pipeline: str, data: dict[str, Any] | None = None, *,
                 parents: Iterable[str] | None = None, callback_url: str | None = None,
                 callback_changes: bool = False, config: Config | None = None, transport: Transport | None = None,
                 heartbeat_seconds: int | None = None):
        """A job of ``pipeline`` (its uuid, or its name: ``setup`` finds it); ``callback_url`` is POSTed when
        it ends, and at every change of state too with ``callback_changes`` (table access only).
        ``heartbeat_seconds`` (default: the pipeline's task template's) has the job failed as stale when,
        running or launched, it is silent that long (docs/operations.md).

        ``transport`` sends events; the default acts on the table directly. A transport that can also create
        and read jobs (``WebhookTransport``) makes the job need nothing else: ``setup`` asks the server, whose
        answer gives the uuid, ``token`` and ``callback``; no table, AWS credentials or secret.
        """
        self.pipeline = pipeline
        self.data = dict(data or {})
        self.parents = sorted(parents or [])
        self.callback_url = callback_url
        self.callback_changes = callback_changes
        self.heartbeat_seconds = heartbeat_seconds
        #: Known at once when the pipeline is named by its uuid; from ``setup`` when by its name.
        self.pipeline_uuid = pipeline if identity.UUID.fullmatch(pipeline) else None
        self.uuid = identity.job_uuid(pipeline, self.data, self.parents) if self.pipeline_uuid else None
        self._config = config
        self._transport = transport
        #: The server's answer to setup, when the transport creates jobs: its token and callback URL.
        self._granted: dict[str, Any] = {}
        self._record: JobRecord | None = None

    @classmethod
    def _from_record(cls, record: JobRecord, config: Config | None = None) -> Self:
        job = cls(record.pipeline_uuid, record.data, parents=record.parents, callback_url=record.callback_url,
                  callback_changes=record.callback_changes, config=config)
        job._record = record
        job.uuid = record.uuid  # the record's own: a job created with an identity key (engines) has another
        return job

    def __repr__(self) -> str:
        state = self._record.state if self._record else "?"
        return f"PipelineJob(uuid={self.uuid!r}, pipeline_uuid={self.pipeline_uuid!r}, state={state!r})"

    # ---- plumbing ---------------------------------------------------------------------

    @property
    def config(self) -> Config:
        return self._config or Config.from_env()

    @property
    def _remote(self) -> bool:
        """True when the transport creates and reads jobs too (the job then has no table access)."""
        return callable(getattr(self._transport, "create_job", None))

    def _known_uuid(self) -> str:
        if self.uuid is None:
            raise ConfigurationError(f"the job's pipeline is named {self.pipeline!r}, not by its uuid: "
                                     "call setup() first, which finds the pipeline and the job")
        return self.uuid

    def _send(self, event: str, data: dict[str, Any] | None = None) -> Self:
        message = {"uuid": self._known_uuid(), "event": event, "data": data or {}}
        if self._transport is None:  # direct table access: we hold the secret, so we are trusted
            outcome = handle_event(message, trusted=True, source="sdk", config=self.config)
        elif self._remote and not self._granted and self._transport.token:
            outcome = self._transport(message)  # not set up: the transport's own token (a pipeline token) moves it
        else:
            outcome = self._transport({**message, "token": self.token})
        if self._record is not None:
            self._record = replace(self._record, state=outcome.state, last_event=outcome.event,
                                   version=max(self._record.version, outcome.seq))
        return self

    def refresh(self) -> Self:
        if self._remote:
            self._record = self._transport.read_job(self._known_uuid(), self.token)
        else:
            self._record = get_store(self.config).get_job(self._known_uuid())
        return self

    @property
    def record(self) -> JobRecord:
        if self._record is None:
            self.refresh()
        return self._record

    # ---- lifecycle --------------------------------------------------------------------

    def setup(self, data: dict[str, Any] | None = None) -> Self:
        """Create the job (state CREATED) or, if it exists, load it. ``data`` goes with the create event (with
        table access: ``POST /jobs`` records none)."""
        if self._remote:
            if data:
                raise ConfigurationError("setup(data) needs table access: POST /jobs records no create data")
            if self.callback_changes:
                raise ConfigurationError("callback_changes needs table access: POST /jobs does not take it")
            self._granted = self._transport.create_job(self.pipeline, self.data, parents=self.parents,
                                                       callback_url=self.callback_url,
                                                       heartbeat_seconds=self.heartbeat_seconds)
            record = transports.job_record(self._granted)
        else:
            record, _ = creation.create_job(self.pipeline, self.data, parents=self.parents,
                                            callback_url=self.callback_url, callback_changes=self.callback_changes,
                                            trusted=True, create_data=data, source="sdk",
                                            heartbeat_seconds=self.heartbeat_seconds,
                                            config=self._config)  # read after the checks
        self._record, self.uuid, self.pipeline_uuid = record, record.uuid, record.pipeline_uuid
        return self

    def cancel(self) -> None:
        """Delete a job that never ran. A job that has run is kept: send it ``fail``.

        Safe to call again after a crash, a timeout or a 503 at any point: a cancel that was interrupted
        after the job item went is finished (its history and id markers deleted), so the same inputs can
        be set up afresh."""
        self._delete(None)

    def delete(self, by: str | None = None) -> None:
        """Delete the job whatever its state (an admin's act: it needs table access), leaving one tombstone
        that says ``by`` whom (default: this user at this host) and when; ``get_job`` then raises JobDeleted.
        Its task is not stopped: kill a live job first. Safe to call again after an interruption."""
        self._delete(by or f"{getpass.getuser()}@{socket.gethostname()}")

    def _delete(self, by: str | None) -> None:
        """Delete the job (cancel: ``by`` None, only a job that never ran) or finish a delete interrupted."""
        store = get_store(self.config)
        try:
            record = self.refresh().record
        except JobNotFound:
            if not store.finish_delete(self._known_uuid()):
                raise
            self._record = None
            return
        if by is None and (record.state != "CREATED" or record.started):
            raise InvalidTransition(self.uuid, record.state, "cancel", fsm.allowed_events(record.state),
                                    hint="Only a job that never ran can be cancelled; send 'fail' to stop it")
        store.delete_job(record, deleted_by=by)
        self._record = None

    # ---- verbs: one per event of the FSM table but ``create`` (setup sends it); each returns the job --------
    # ``data`` is kept in the job's history. An admin event needs table access or an admin token.

    def run(self, data: dict[str, Any] | None = None) -> Self:
        """The task started: CREATED/RUNNING -> RUNNING (again: harmless). Client event."""
        return self._send("run", data)

    def update(self, data: dict[str, Any] | None = None) -> Self:
        """News while it works: the state stays (CREATED, RUNNING, VALIDATING, INDEXING). Client event."""
        return self._send("update", data)

    def resource(self, data: dict[str, Any] | None = None) -> Self:
        """The compute resource reports a status of its own: the state stays (CREATED, RUNNING). Client event."""
        return self._send("resource", data)

    def fail(self, data: dict[str, Any] | None = None) -> Self:
        """The task failed: CREATED/RUNNING/VALIDATING/INDEXING -> FAILED. Client event."""
        return self._send("fail", data)

    def finish(self, data: dict[str, Any] | None = None) -> Self:
        """The task succeeded: RUNNING -> FINISHED (again: harmless). Client event."""
        return self._send("finish", data)

    def index(self, data: dict[str, Any] | None = None) -> Self:
        """Indexing of the outputs began: FINISHED -> INDEXING (again: harmless). Admin event."""
        return self._send("index", data)

    def indexed(self, data: dict[str, Any] | None = None) -> Self:
        """Indexing of the outputs is done: INDEXING -> FINISHED (again: harmless). Admin event."""
        return self._send("indexed", data)

    def validate(self, data: dict[str, Any] | None = None) -> Self:
        """Validation of the outputs began: FINISHED/VALIDATED -> VALIDATING. Client event."""
        return self._send("validate", data)

    def validated(self, data: dict[str, Any] | None = None) -> Self:
        """The outputs passed validation: VALIDATING -> VALIDATED (again: harmless). Client event."""
        return self._send("validated", data)

    def reject(self, data: dict[str, Any] | None = None) -> Self:
        """The outputs failed validation: VALIDATING -> REJECTED. Client event."""
        return self._send("reject", data)

    def finalize(self, data: dict[str, Any] | None = None) -> Self:
        """The validated outputs are final: VALIDATED -> FINALIZED. Client event."""
        return self._send("finalize", data)

    def retire(self, data: dict[str, Any] | None = None) -> Self:
        """Archive the job: FAILED/FINISHED/VALIDATING/VALIDATED/REJECTED/FINALIZED -> RETIRED. Client event."""
        return self._send("retire", data)

    def reset(self, data: dict[str, Any] | None = None) -> Self:
        """Start the job over: any state -> RESET (then ``ready``). Admin event."""
        return self._send("reset", data)

    def ready(self, data: dict[str, Any] | None = None) -> Self:
        """A reset job may run again: RESET -> CREATED. Admin event."""
        return self._send("ready", data)

    # ---- properties -------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self.record.state

    status = state

    @property
    def last_event(self) -> str:
        return self.record.last_event

    @property
    def history(self) -> list[HistoryEntry]:
        """Every history entry, oldest first (refused events included, ``applied=False``)."""
        if self._remote:
            return list(self._transport.iter_history(self._known_uuid(), self.token))
        return list(get_store(self.config).iter_history(self._known_uuid()))

    @property
    def token(self) -> str:
        """This job's token (valid 71-72 hours from when it was minted); send it with every event.

        The server's, from ``setup`` through a transport that creates jobs; else minted from the secret."""
        if self._granted:
            return self._granted["token"]
        return tokens.job_token(tokens.secret(self.config), self._known_uuid())

    @property
    def signing_key(self) -> str:
        """The key this job's callbacks are signed with (``X-PipelineJobs-Signature``): its UTF-8 bytes are the
        HMAC-SHA256 key. Derived from the secret, so it takes table access or an admin's secret to obtain;
        docs/operations.md, "Signed notifications", has the receiver's check."""
        return signing.signing_key(tokens.secret(self.config), self._known_uuid())

    @property
    def path(self) -> str:
        return identity.job_path(self.pipeline_uuid, self._known_uuid())

    @property
    def callback(self) -> str:
        """The webhook URL a job runner calls, with ``__STATUS__`` where its status goes.

        ``__STATUS__``, unlike the ``${STATUS}`` offered before (still accepted once filled in), is left alone
        by a shell's expansion, curl's URL globbing and Snakemake's formatting, so it reaches the runner
        intact; one the runner leaves unfilled is refused with a 400, never taken for an ``update``."""
        if self._granted:
            return self._granted["callback"]
        return creation.callback_url(self.config.api_url, self._known_uuid(), self.token)

    def to_dict(self) -> dict[str, Any]:
        return self.record.to_dict()


def get_job(uuid: str, *, config: Config | None = None) -> PipelineJob:
    return PipelineJob._from_record(get_store(config).get_job(uuid), config)


def list_jobs(pipeline_uuid: str | None = None, state: str | None = None, since: datetime | str | None = None,
              *, config: Config | None = None) -> list[JobSummary]:
    """Jobs newest first, optionally of one pipeline, in one state, created since a time."""
    if isinstance(since, datetime):
        since = since.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return get_store(config).list_jobs(pipeline_uuid, state, since)


def wait(uuid: str, states: Iterable[str] | str = fsm.SETTLED_STATES, timeout: float = 300, *, poll: float = 1.0,
         on_poll: Callable[[PipelineJob], None] | None = None, config: Config | None = None) -> PipelineJob:
    """Block until the job is in one of ``states`` (like scitq's join; by default a settled state, see
    ``fsm.SETTLED_STATES``); WaitTimeout after ``timeout`` s.

    ``on_poll`` sees the job at every read, e.g. to show progress."""
    wanted = {states} if isinstance(states, str) else set(states)
    deadline = time.monotonic() + timeout
    delay = min(poll, 0.1)
    while True:
        job = get_job(uuid, config=config)
        if on_poll:
            on_poll(job)
        if job.state in wanted:
            return job
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"job {uuid} is {job.state}, not {'/'.join(sorted(wanted))}, after {timeout} s")
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, poll)
