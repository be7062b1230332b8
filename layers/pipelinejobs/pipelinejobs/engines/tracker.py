"""The tracker: applies an engine adapter's events (engines/model.py) to workflows of jobs. The only I/O of engines/.

A run is a workflow (``workflows/``' storage, so ``workflows.get``, the CLI, the graph and the dashboard show it
unchanged): its uuid is derived from the engine, the pipeline and the run; its item carries ``engine``, ``run``,
``expected`` (the engine's planned total, current run), ``announced`` (tasks started in the current run),
``failed_nodes`` (the nodes a task of the current run failed in) and ``on_failure: continue`` (the release
consumer never stops anything of it); it ends on the engine's word only.

A task is a job of the run's pipeline, named by ``(workflow, task)`` (``creation.create_job(key=...)``), so a
re-run or a retry is the same job: a new ``attempt`` (or a new session of the engine) moves it with ``reset`` and
``ready`` before its events. Its node (the task's ``name``) is written as its first task is announced, released,
with one slot per task (index: a stable hash of the task) and ``total`` counted once per slot, in one transaction;
the consumer counts its job's states into it as for any workflow (``release.job_changed``).

Every job event is sent with ``service.handle_event(trusted=True)`` and an explicit id derived from the event's
``key``, so a duplicate is a no-op; an event the job's state refuses (a late ``run`` after ``finish``) is dropped
without a word, and a ``finish`` that overtook its ``run`` is preceded by one. Besides the workflow's usual items,
its partition holds:

* ``OUT#<sha of path>``: the job that writes a file; a task's parents are the jobs of its inputs (one BatchGet,
  bounded by its inputs), and the nodes gain ``after``/``children`` edges so the graph draws them.
* ``ALIAS#<sha of alias>``: the task an engine's short-lived alias names (Snakemake's jobid), once known, and
  ``ALIAS#<sha>#EV#<sha of key>``: an event that named only the alias, parked until then. Parking is conditioned
  on the alias being unbound, and binding reads the parked events after it: either order ends the same.
* ``EV#<sha of key>``: a run event's marker: a ``started`` reopens an ended workflow (a re-run) once, not again
  on redelivery.

A run a user killed (``workflows.kill``: the workflow KILLED with ``killed_by``, its live jobs failed as killed,
for an engine that will never say its run ended) hears nothing more of its engine but a new ``started``: a late
task event or run end would undo the kill (a new attempt reopens a failed job, a new task starts one).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid as _uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from .. import fsm, identity
from ..config import MAX_DATA_BYTES, Config
from ..creation import create_job
from ..errors import InvalidEvent
from ..events import compact_json
from ..records import PipelineRecord, now_iso
from ..service import get_store, handle_event
from ..workflows import items, progress
from ..workflows.items import Table, check_action, put_action, update_action
from ..workflows.model import FAILED, FINISHED, KILLED, RUNNING
from .model import RUN_FAILED, RUN_FINISHED, RUN_KILLED, RUN_PROGRESS, RUN_STARTED, RunEvent, TaskEvent

#: A run's end as the engine says it -> the workflow's state.
RUN_ENDS = {RUN_FINISHED: FINISHED, RUN_FAILED: FAILED, RUN_KILLED: KILLED}
#: The order parked events are applied in once their task is known (a job runs before it ends).
EVENT_ORDER = {"update": 0, "resource": 0, "run": 1, "finish": 2, "fail": 2}
#: What the job a dropped or parked event would have moved is, in the summary.
IGNORED, PARKED, APPLIED = "ignored", "parked", "applied"

_NAMESPACE = _uuid.UUID("0d7f6a4e-9c1b-5e2f-8a3d-4b6c7e8f9a10")


def workflow_uuid(engine: str, pipeline_uuid: str, run: str) -> str:
    """The workflow of an engine's run: the same run of the same pipeline is always the same workflow."""
    return str(_uuid.uuid5(_NAMESPACE, compact_json([engine, pipeline_uuid, run])))


def apply(events: Iterable[RunEvent | TaskEvent], pipeline: PipelineRecord, *, source: str,
          config: Config | None = None) -> dict[str, Any]:
    """Apply an adapter's events, in order, to the pipeline's workflows; a summary for the door's answer:
    ``{"workflow": uuid or None, "events": n, "applied": n, "parked": n, "ignored": n}``.

    Raises StorageUnavailable (503: what was written stays, and sending the message again finishes it), or
    InvalidEvent for an event no adapter should make (a task with neither ``task`` nor ``alias``)."""
    tracker = _Tracker(pipeline, source, config or Config.from_env())
    summary: dict[str, Any] = {"workflow": None, "events": 0, APPLIED: 0, PARKED: 0, IGNORED: 0}
    for event in events:
        summary["workflow"] = workflow_uuid(event.engine, pipeline.uuid, event.run)
        outcome = tracker.run(event) if isinstance(event, RunEvent) else tracker.task(event)
        summary["events"] += 1
        summary[outcome] += 1
    return summary


def _sha(text: str, length: int = 32) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def event_id(key: str, step: str = "") -> str:
    """A job event's id from an engine event's key (an explicit id: one event forever), ``step`` for the events
    the tracker adds (a ``run`` before an early ``finish``, an attempt's ``reset`` and ``ready``)."""
    return f"eng-{_sha(f'{key}#{step}', 40)}"


def slot_index(task: str) -> int:
    """A task's slot in its node: a stable 40-bit hash, so no counter is needed to number tasks."""
    return int(_sha(task, 10), 16)


class _Tracker:
    def __init__(self, pipeline: PipelineRecord, source: str, config: Config):
        self.pipeline, self.source, self.config = pipeline, source, config
        self.table = Table(config)
        self.store = get_store(config)
        self._workflows: dict[str, dict[str, Any]] = {}

    # ---- the run ----------------------------------------------------------------------

    def workflow(self, engine: str, run: str, name: str | None = None) -> tuple[str, dict[str, Any]]:
        """The run's workflow (its uuid and item), created RUNNING if it is new."""
        uuid = workflow_uuid(engine, self.pipeline.uuid, run)
        if uuid not in self._workflows:
            record = self.table.get(uuid, items.WORKFLOW_SK)
            if record is None:
                now = now_iso()
                record = {
                    "pk": items.pk(uuid), "sk": items.WORKFLOW_SK, "uuid": uuid, "name": name or run,
                    "engine": engine, "run": run, "pipeline": self.pipeline.uuid, "state": RUNNING,
                    "created": now, "updated": now, "spec": compact_json({"name": name or run, "engine": engine}),
                    "on_failure": "continue", "active": 0, "announced": 0,
                    "gsi2pk": items.CATALOG_KEY, "gsi_sk": items.gsi_sk(RUNNING, now, uuid),
                }
                if not self.table.put_new(record):
                    record = self.table.get(uuid, items.WORKFLOW_SK) or record
            self._workflows[uuid] = record
        return uuid, self._workflows[uuid]

    def run(self, event: RunEvent) -> str:
        uuid, record = self.workflow(event.engine, event.run, event.name)
        if event.kind == RUN_STARTED:
            return self._started(uuid, record, event)
        if record.get("killed_by"):
            return IGNORED  # a user killed the run (workflows.kill): only a new start of it is heard
        if event.kind == RUN_PROGRESS:
            self._progress(uuid, event)
            return APPLIED
        if event.kind in RUN_ENDS:
            self._ended(uuid, record, event)
            return APPLIED
        return IGNORED

    def _started(self, uuid: str, record: dict[str, Any], event: RunEvent) -> str:
        """A (re-)start: an ended workflow is RUNNING again, once per start (its marker), with the new run's
        counts (``expected``, ``announced``) begun afresh."""
        marker = put_action({"pk": items.pk(uuid), "sk": f"EV#{_sha(event.key)}", "kind": event.kind})
        if record["state"] == RUNNING:
            return APPLIED if self.table.transact([marker]) else IGNORED
        now = now_iso()
        reopened = self.table.transact([marker, update_action(
            uuid, items.WORKFLOW_SK, "SET state = :running, updated = :now, gsi_sk = :key, announced = :zero "
                                     "REMOVE expected, stopped, failed_nodes, killed_by",
            condition="state <> :running",
            params={":running": RUNNING, ":now": now, ":zero": 0,
                    ":key": items.gsi_sk(RUNNING, record["created"], uuid)})])
        if reopened:
            self._workflows[uuid] = {**record, "state": RUNNING, "announced": 0, "killed_by": None}
        return APPLIED if reopened else IGNORED

    def _progress(self, uuid: str, event: RunEvent) -> None:
        if event.expected is not None:
            self.table.update(uuid, items.WORKFLOW_SK, "SET expected = :n", params={":n": event.expected})
        if self._workflows[uuid]["state"] != RUNNING:
            return  # a late word of a run that ended: its never-run nodes stay so
        for name, count in (event.planned or {}).items():
            # A planned node waits (or waits again, in a re-run) until its first task is announced.
            if not self._new_node(uuid, name, event.engine, progress.WAITING, planned=count):
                self.table.update(uuid, items.node_sk(name), "SET planned = :n", params={":n": count})
                self.table.update(uuid, items.node_sk(name), "SET state = :waiting REMOVE reason",
                                  condition="state = :never",
                                  params={":waiting": progress.WAITING, ":never": progress.NEVER_RUN})

    def _new_node(self, uuid: str, name: str, engine: str, state: str, **fields: Any) -> bool:
        """Put a node if it is new (False if it was there). Nodes are put, never upserted by an update: the
        consumer reads every node from its stream records, and an upsert's first record may hold only its key
        (moto's does)."""
        return self.table.put_new({"pk": items.pk(uuid), "sk": items.node_sk(name), "name": name, "engine": engine,
                                   "order": time.time_ns() // 1000, "state": state, **fields})

    def _ended(self, uuid: str, record: dict[str, Any], event: RunEvent) -> None:
        """End the workflow (once: conditional on RUNNING); then the nodes the run planned and never started are
        marked never run. Its jobs are left to their own events: an engine reports a task's end after the run's
        (Snakemake sends ``error`` before ``job_error``)."""
        end, now = RUN_ENDS[event.kind], now_iso()
        sets = "SET state = :end, updated = :now, gsi_sk = :key" + (", stopped = :why" if event.reason else "")
        params = {":end": end, ":now": now, ":running": RUNNING, ":key": items.gsi_sk(end, record["created"], uuid)}
        if event.reason:
            params[":why"] = event.reason
        if event.data and len(compact_json(event.data).encode()) <= MAX_DATA_BYTES:
            # What the engine said of the run's end (Cromwell's outputs and failures, Nextflow's stats and
            # parameters) is kept in the spec readers already show; more than an event's data may hold is not.
            sets += ", spec = :spec"
            params[":spec"] = compact_json({**json.loads(record["spec"]), "outcome": event.data})
        self.table.update(uuid, items.WORKFLOW_SK, sets, condition="state = :running",
                          params=params)
        self._workflows[uuid] = {**record, "state": end}
        head = list(self.table.query(uuid, items.WORKFLOW_SK))  # the workflow and its nodes, in one Query
        failed = sorted(next(item for item in head if item["sk"] == items.WORKFLOW_SK).get("failed_nodes") or ())
        if end == FINISHED:
            why = "not run: the run finished without it"
        elif failed:
            why = f"not run: the run {end.lower()} ({', '.join(repr(n) for n in failed)} failed)"
        else:
            why = f"not run: the run {end.lower()} before it started" + (f" ({event.reason})" if event.reason else "")
        for node in head:
            if node["sk"] != items.WORKFLOW_SK and node.get("state") == progress.WAITING:
                self.table.update(uuid, node["sk"], "SET state = :never, reason = :why", condition="state = :waiting",
                                  params={":never": progress.NEVER_RUN, ":why": why, ":waiting": progress.WAITING})

    # ---- tasks ------------------------------------------------------------------------

    def task(self, event: TaskEvent) -> str:
        uuid, record = self.workflow(event.engine, event.run)
        if record.get("killed_by"):
            return IGNORED  # a user killed the run: a late word of it would start or reopen a job of it
        if event.task is None:
            if event.alias is None:
                raise InvalidEvent.single("task", "an engine's task event names neither its task nor an alias")
            return self._by_alias(uuid, event)
        outcome = self._apply(uuid, event)
        if event.alias is not None:
            for parked in self._bind(uuid, event):
                self._apply(uuid, replace(parked, task=event.task, name=event.name))
        return outcome

    def _by_alias(self, uuid: str, event: TaskEvent) -> str:
        """Apply an alias-only event to its task if the alias is bound, else park it until it is."""
        sk = f"ALIAS#{_sha(event.alias)}"
        bound = self.table.get(uuid, sk)
        if bound is None or "task" not in bound:
            parked = {"pk": items.pk(uuid), "sk": f"{sk}#EV#{_sha(event.key)}", "event": _dumps(event)}
            if self.table.transact([check_action(uuid, sk, "attribute_not_exists(task)"),
                                    put_action(parked, condition=None)]):
                return PARKED
            bound = self.table.get(uuid, sk) or {}  # bound meanwhile: apply it now
        return self._apply(uuid, replace(event, task=bound["task"], name=bound["name"]))

    def _bind(self, uuid: str, event: TaskEvent) -> list[TaskEvent]:
        """Bind the event's alias to its task; the events parked under the alias, in the order they apply."""
        sk = f"ALIAS#{_sha(event.alias)}"
        self.table.update(uuid, sk, "SET task = :task, name = :name", params={":task": event.task,
                                                                               ":name": event.name})
        parked = [_loads(item["event"]) for item in self.table.query(uuid, f"{sk}#EV#")]
        return sorted(parked, key=lambda e: EVENT_ORDER.get(e.event, 1))

    def _apply(self, uuid: str, event: TaskEvent) -> str:
        """One task event: its job created (and its node and slot counted) if new, moved to a new attempt if
        the engine began one, then the event sent unless the job's state refuses it."""
        if not event.name:
            raise InvalidEvent.single("name", "an engine's task event with a task must name its node")
        index = slot_index(event.task)
        place = items.slot_sk(event.name, index)
        job_uuid = identity.keyed_job_uuid(self.pipeline.uuid, compact_json([uuid, event.task]))
        slot = self.table.get(uuid, place)
        if slot is None or self.store.get_job(job_uuid) is None:
            self._announce(uuid, event, index, job_uuid, slot is None)
        elif event.attempt is not None and slot.get("attempt") is not None and event.attempt < int(slot["attempt"]):
            return IGNORED  # an older attempt's late word
        elif event.attempt is not None and (slot.get("attempt") is None or event.attempt > int(slot["attempt"])):
            self._next_attempt(uuid, event, place, job_uuid)
        if event.outputs:
            self._write_outputs(uuid, event, job_uuid)
        # Sent even when it just created the job with its data: its id is then recorded, so the same word delivered
        # again is a duplicate, and the history is the same however often it came.
        if not self._send(job_uuid, event.event, event.data, event_id(event.key)):
            return IGNORED
        if event.event == "fail":  # what the run's end names as the cause (the consumer's counts may lag)
            self.table.update(uuid, items.WORKFLOW_SK, "ADD failed_nodes :me", params={":me": {event.name}})
        return APPLIED

    def _announce(self, uuid: str, event: TaskEvent, index: int, job_uuid: str, new_slot: bool) -> None:
        """Write the task's slot (its node released, ``total`` and the workflow's ``announced`` counted once, in
        the same transaction), find its parents from its inputs, draw their edges, and create its job."""
        parents = self._producers(uuid, event.inputs)
        if new_slot:
            self._new_node(uuid, event.name, event.engine, progress.RELEASED)
            slot = {"pk": items.pk(uuid), "sk": items.slot_sk(event.name, index), "node": event.name, "index": index,
                    "task": event.task, "uuid": job_uuid, "attempt": event.attempt}
            self.table.transact([
                put_action(slot),
                update_action(uuid, items.node_sk(event.name), "SET state = :released REMOVE reason ADD total :one",
                              condition="attribute_exists(sk)",
                              params={":one": 1, ":released": progress.RELEASED}),
                update_action(uuid, items.WORKFLOW_SK, "ADD announced :one", params={":one": 1}),
            ])  # False: counted by an earlier delivery
        upstream = {node for _, node in parents.values()} - {event.name}
        if upstream:
            self.table.update(uuid, items.node_sk(event.name), "ADD after :up", params={":up": upstream})
            for node in upstream:
                self.table.update(uuid, items.node_sk(node), "ADD children :me", params={":me": {event.name}})
        create_job(
            self.pipeline.uuid, event.data, key=compact_json([uuid, event.task]),
            parents=sorted({job for job, _ in parents.values()}), trusted=True,
            create_data={"engine": {"name": event.engine, "run": event.run, "task": event.task}}, source=self.source,
            workflow={"uuid": uuid, "node": event.name, "index": index, "engine": event.engine}, config=self.config)

    def _next_attempt(self, uuid: str, event: TaskEvent, place: str, job_uuid: str) -> None:
        """The engine runs the task again: a job that ran is reset and readied (ids from the attempt: once), then
        the slot records the attempt and the run's ``announced`` counts it."""
        job = self.store.get_job(job_uuid)
        if job is not None and job.state != "CREATED":
            base = f"{event.engine}#{event.run}#{event.task}#{event.attempt}"
            reason = {"reason": f"{event.engine} runs it again"}
            self._send(job_uuid, "reset", reason, event_id(base, "reset"))
            self._send(job_uuid, "ready", {}, event_id(base, "ready"))
        self.table.transact([
            update_action(uuid, place, "SET attempt = :a",
                          condition="attribute_not_exists(attempt) OR attempt < :a", params={":a": event.attempt}),
            update_action(uuid, items.WORKFLOW_SK, "ADD announced :one", params={":one": 1}),
        ])

    def _send(self, job_uuid: str, name: str, data: dict[str, Any], id_: str) -> bool:
        """Send one event to the job; False if its state refuses it (dropped: a late or conflicting word). A
        ``finish`` that overtook its ``run`` is preceded by one."""
        job = self.store.get_job(job_uuid)
        if job is None:
            return False
        if job.state not in fsm.sources_of(name):
            if name != "finish" or job.state != "CREATED":
                return False
            self._send(job_uuid, "run", {}, f"{id_}-run")
        message = {"uuid": job_uuid, "event": name, "data": data, "id": id_}
        handle_event(message, trusted=True, source=self.source, config=self.config)
        return True

    # ---- files: a task's parents are the jobs that write its inputs ------------------------

    def _producers(self, uuid: str, paths: Iterable[str]) -> dict[str, tuple[str, str]]:
        """Input path -> (job, node) of the job that writes it, for the inputs some job of the run writes."""
        found = self.table.get_many(uuid, [f"OUT#{_sha(path)}" for path in dict.fromkeys(paths)])
        return {item["path"]: (item["job"], item["node"]) for item in found}

    def _write_outputs(self, uuid: str, event: TaskEvent, job_uuid: str) -> None:
        self.table.put_many([{"pk": items.pk(uuid), "sk": f"OUT#{_sha(path)}", "path": path, "job": job_uuid,
                              "node": event.name} for path in dict.fromkeys(event.outputs)])


def _dumps(event: TaskEvent) -> str:
    return compact_json({"engine": event.engine, "run": event.run, "event": event.event, "key": event.key,
                         "alias": event.alias, "attempt": event.attempt, "data": event.data,
                         "inputs": list(event.inputs), "outputs": list(event.outputs)})


def _loads(text: str) -> TaskEvent:
    fields = json.loads(text)
    return TaskEvent(**{**fields, "inputs": tuple(fields["inputs"]), "outputs": tuple(fields["outputs"])})
