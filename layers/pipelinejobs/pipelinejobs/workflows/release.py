"""The release consumer: the table's stream drives every workflow, one committed write at a time.

No execution holds the graph and nothing polls. Each step is a conditional write whose own stream record
triggers the next, so every step happens once however often a record is delivered, and a crash half-way
is finished by the redelivery of the record that started it:

1. **A job's change of state** (its item, which carries ``workflow``; the state it counts as: a job its run
   is about to retry counts as running, :func:`.progress.counted_state`) is counted in one transaction: its
   slot is set to the new state, conditioned on the slot's ``seq`` being older than the job's version
   (the idempotency marker: a redelivered record changes nothing), and its node's ``n_<state>`` counters
   move. A job that ended gives back its place (``active``, once: its slot's ``holds_place`` is the marker).
   A job that FAILED under ``on_failure: stop``
   sets the workflow's ``stopped`` (once).
2. **A node whose jobs all finished** (seen on its item's record: ``n_FINISHED`` reached ``total``) adds
   itself to each child's ``done_after`` (a set: adding twice is adding once). That is how a fan-in knows
   that all N parents finished without reading N items.
3. **A node that became ready** (waiting, and ``done_after`` holds all of ``after``) is released: ``each``
   is resolved, one slot and one queue item are written per job (together, conditioned on the slot being
   new), then the node is marked released with its ``total``.
4. **A queue item** takes a place (``active < max_concurrency``, in one transaction with ``granted``); its
   record of being granted launches the job: ``${...}`` resolved from the upstream slots' outputs, the job
   created (``creation.create_job``) and its run started (``orchestration.launch.start_run``, idempotent).
   A place given back (the workflow's ``active`` went down) wakes the next queued jobs.
5. **A node that settled** (all its jobs ended, or it will never run) moves into the workflow's ``settled``
   (and ``complete``) sets; one that settled without finishing marks its waiting children ``never_run``.
   When every node has settled, the workflow's record ends it: FINISHED if all finished, else FAILED.
6. **A workflow that stopped** (``stopped`` set: a failure under ``stop``, or a kill) is swept: its live jobs
   are killed, its queued jobs and waiting nodes marked ``never_run`` with the reason; only while it is still
   stopped in the same ``epoch`` (a record handled after a rerun leaves the rerun's work alone).

Each release costs the same at any graph size: a step reads the items it names (the workflow, a node, a
slot), and a launch reads the slots of the nodes its data references (one Query page per node).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .. import identity, observability
from ..config import Config
from ..creation import create_job
from ..errors import InvalidEvent, JobNotFound
from ..events import compact_json
from ..orchestration.launch import start_run, stop_run
from ..orchestration.spec import TaskSpec
from ..records import now_iso
from ..service import get_store, handle_event
from ..storage.models import JOB_SK
from . import items, progress, refs
from .items import Table, delete_action, put_action, update_action
from .model import FAILED, FINISHED, RUNNING

#: ``source`` of the events the consumer sends.
SOURCE = "workflow"
#: Items whose records of one batch are handled at once (a node's jobs are launched concurrently).
CONSUMER_THREADS = 16
#: Concurrent writes when a node is released (two items per job, in one transaction each).
RELEASE_THREADS = 8


@observability.lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The workflows function's entry point: a batch of the table's stream (filtered to workflow items and
    workflows' jobs by its event source mapping)."""
    return process(event.get("Records", []))


def process(records: list[dict[str, Any]], config: Config | None = None) -> dict[str, Any]:
    """Handle a batch of stream records: each item's records in order, different items' at once (the
    stream orders changes per item only, and each step here is driven by its own item's record). An item
    whose record fails has its later records left alone; the earliest failure is reported, so Lambda
    (``ReportBatchItemFailures``) delivers the batch again from there, and what was done after it is
    found done (every step is idempotent)."""
    consumer = Consumer(config)
    by_item: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for position, record in enumerate(records):
        keys = record.get("dynamodb", {}).get("Keys", {})
        by_item.setdefault(json.dumps(keys, sort_keys=True), []).append((position, record))

    def handle_in_order(item_records: list[tuple[int, dict[str, Any]]]) -> int | None:
        for position, record in item_records:
            try:
                consumer.handle(record)
            except Exception:
                observability.logger().exception("workflow record failed; it will be retried",
                                                 extra={"keys": record.get("dynamodb", {}).get("Keys")})
                return position
        return None

    with ThreadPoolExecutor(max_workers=CONSUMER_THREADS) as pool:
        failed = [position for position in pool.map(handle_in_order, by_item.values()) if position is not None]
    if not failed:
        return {"batchItemFailures": []}
    return {"batchItemFailures": [{"itemIdentifier": records[min(failed)]["dynamodb"]["SequenceNumber"]}]}


class Consumer:
    def __init__(self, config: Config | None = None):
        self.config = config or Config.from_env()
        self.table = Table(self.config)
        self.store = get_store(self.config)

    def handle(self, record: dict[str, Any]) -> None:
        stream = record.get("dynamodb", {})
        keys = items.from_attributes(stream.get("Keys"))
        old, new = items.from_attributes(stream.get("OldImage")), items.from_attributes(stream.get("NewImage"))
        pk, sk = keys.get("pk", ""), keys.get("sk", "")
        if sk == JOB_SK:
            if new.get("workflow"):
                self.job_changed(old, new)
        elif pk.startswith("WF#"):
            uuid = pk[3:]
            if sk == items.WORKFLOW_SK:
                self.workflow_changed(uuid, old, new)
            elif sk.startswith(items.NODE_PREFIX):
                self.node_changed(uuid, old, new)
            elif sk.startswith(items.QUEUE_PREFIX):
                self.queue_changed(uuid, old, new)

    # ---- 1. a job's change of state -----------------------------------------------------

    def job_changed(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        place = json.loads(new["workflow"]) if isinstance(new["workflow"], str) else new["workflow"]
        uuid, node, index = place["uuid"], place["node"], int(place["index"])
        before, after, seq = progress.counted_state(old), progress.counted_state(new), int(new["version"])
        if before == after:
            return
        sets, params = ["#state = :to", "seq = :seq", "#uuid = :uuid"], {":to": after, ":seq": seq,
                                                                          ":uuid": new["uuid"]}
        if after == "FINISHED" and before != "FINISHED":
            sets.append("outputs = :outputs")
            params[":outputs"] = compact_json(self._outputs(new["uuid"], seq))
        counters = {"#to": items.count_attribute(after)}
        expression = "ADD #to :one" + (", #from :minus" if before else "")
        if before:
            counters["#from"] = items.count_attribute(before)
        actions = [
            update_action(uuid, items.slot_sk(node, index), "SET " + ", ".join(sets),
                          condition="attribute_not_exists(seq) OR seq < :seq",
                          names={"#state": "state", "#uuid": "uuid"}, params=params),
            update_action(uuid, items.node_sk(node), expression, names=counters,
                          params={":one": 1, **({":minus": -1} if before else {})}),
        ]
        self.table.transact(actions)  # False: counted before (a redelivery); what follows is idempotent
        if progress.live(before) and not progress.live(after) and not place.get("engine"):
            self._give_back(uuid, node, index)  # it ended: its place under max_concurrency is free (an engine's
            # job held none: the engine launched it)
        if after == "FAILED":
            self.table.update(uuid, items.WORKFLOW_SK, "SET stopped = :why",
                              condition="attribute_not_exists(stopped) AND #state = :running AND on_failure = :stop",
                              names={"#state": "state"},
                              params={":why": f"job {new['uuid']} ({_slot_name(node, index)}) failed",
                                      ":running": RUNNING, ":stop": "stop"})

    def _outputs(self, job: str, seq: int) -> dict[str, Any]:
        """The ``outputs`` of the finish event that made version ``seq`` ({} if it recorded none)."""
        entries = self.store.history(job, after=seq - 1, limit=1).entries
        outputs = entries[0].data.get("outputs") if entries and entries[0].seq == seq else None
        return outputs if isinstance(outputs, dict) else {}

    # ---- 2, 3, 5: a node's progress ---------------------------------------------------

    def node_changed(self, uuid: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        if not new:
            return
        name = new["name"]
        # An engine's node (it carries ``engine``) is never released here: the engine runs it, and the tracker
        # (engines/tracker.py) writes its slots as the engine announces its tasks.
        if progress.ready(new) and not progress.ready(old) and not new.get("engine"):
            self.release(uuid, new)
        if progress.complete(new) and not progress.complete(old):
            for child in new.get("children") or ():
                self.table.update(uuid, items.node_sk(child), "ADD done_after :me", params={":me": {name}})
        if progress.settled(new) and not progress.complete(new) and not progress.settled(old):
            why = f"'{name}' will never run" if new.get("reason") else f"'{name}' failed"
            for child in new.get("children") or ():
                self._never_run(uuid, child, f"upstream {why}")
        now_settled, now_complete = progress.settled(new), progress.complete(new)
        if (now_settled, now_complete) != (progress.settled(old), progress.complete(old)):
            if now_settled:
                expression = "ADD settled :me, complete :me" if now_complete else "ADD settled :me DELETE complete :me"
            else:
                expression = "DELETE settled :me, complete :me"
            self.table.update(uuid, items.WORKFLOW_SK, expression, params={":me": {name}})

    def _never_run(self, uuid: str, node: str, reason: str) -> None:
        self.table.update(uuid, items.node_sk(node), "SET #state = :never, reason = :why",
                          condition="#state = :waiting", names={"#state": "state"},
                          params={":never": progress.NEVER_RUN, ":why": reason, ":waiting": progress.WAITING})

    def release(self, uuid: str, node: dict[str, Any]) -> None:
        """Write a slot and a queue item per job of a ready node, then mark it released with its total."""
        name = node["name"]
        workflow = self.table.get(uuid, items.WORKFLOW_SK)
        if workflow is None:
            raise RuntimeError(f"workflow {uuid} has no item yet; its node {name} is retried")
        if workflow["state"] != RUNNING or workflow.get("stopped"):
            self._never_run(uuid, name, f"the workflow stopped: {workflow.get('stopped') or workflow['state']}")
            return
        spec = json.loads(workflow["spec"])
        job = spec["jobs"][name]
        each = [None]
        if "each" in job:
            try:
                each = refs.resolve(job["each"], Lookup(self.table, uuid, spec, None))
            except refs.BadReference as exc:
                self._never_run(uuid, name, f"each: {exc}")
                return
            if not isinstance(each, list):
                self._never_run(uuid, name, f"each: {job['each']} is not a list: it fans out over a list")
                return

        def write(index: int) -> None:
            slot = {"pk": items.pk(uuid), "sk": items.slot_sk(name, index), "node": name, "index": index,
                    "item": compact_json(each[index])}
            queued = {"pk": items.pk(uuid), "sk": items.queue_sk(name, index), "node": name, "index": index,
                      "generation": 0}
            self.table.transact([put_action(slot), put_action(queued)])  # False: written before this retry

        with ThreadPoolExecutor(max_workers=RELEASE_THREADS) as pool:
            list(pool.map(write, range(len(each))))
        self.table.update(uuid, items.node_sk(name), "SET #state = :released, total = :total",
                          condition="#state = :waiting", names={"#state": "state"},
                          params={":released": progress.RELEASED, ":total": len(each),
                                  ":waiting": progress.WAITING})

    # ---- 4: places and launches ---------------------------------------------------------

    def queue_changed(self, uuid: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        if new and not old:
            self.take_place(uuid, new)
        elif new and new.get("granted") and not old.get("granted"):
            self.launch(uuid, new)

    def take_place(self, uuid: str, queued: dict[str, Any]) -> bool:
        """Grant a queued job a place if the workflow runs and has one free; False if not (it waits). Its slot
        holds the place (``holds_place``) until the job ends: given back once, however often its end is seen
        (an orchestration retry after a callback task failed itself ends the job twice)."""
        return self.table.transact([
            update_action(uuid, queued["sk"], "SET granted = :yes",
                          condition="attribute_exists(sk) AND attribute_not_exists(granted)", params={":yes": True}),
            update_action(uuid, items.slot_sk(queued["node"], int(queued["index"])), "SET holds_place = :yes",
                          params={":yes": True}),
            update_action(uuid, items.WORKFLOW_SK, "ADD active :one",
                          condition="#state = :running AND attribute_not_exists(stopped) AND "
                                    "(attribute_not_exists(max_concurrency) OR active < max_concurrency)",
                          names={"#state": "state"}, params={":one": 1, ":running": RUNNING}),
        ])

    def wake(self, uuid: str, workflow: dict[str, Any]) -> None:
        """Give free places to the first queued jobs (in key order: node by node, item by item)."""
        limit = workflow.get("max_concurrency")
        if not limit:
            return  # without a limit every queued job took its place as it was queued
        free = int(limit) - int(workflow.get("active", 0))
        # Granted items linger only until launched (at most max_concurrency of them): this page holds the rest.
        for queued in self.table.query(uuid, items.QUEUE_PREFIX, limit=free + int(limit)) if free > 0 else ():
            if not queued.get("granted") and self.take_place(uuid, queued):
                free -= 1
                if free == 0:
                    return

    def launch(self, uuid: str, queued: dict[str, Any]) -> None:
        """Create a granted job (its data resolved) and start its run; then its queue item goes."""
        name, index = queued["node"], int(queued["index"])
        workflow = self.table.get(uuid, items.WORKFLOW_SK)
        slot = self.table.get(uuid, items.slot_sk(name, index)) or {}
        if workflow["state"] != RUNNING or workflow.get("stopped"):
            self._skip(uuid, queued, slot, f"the workflow stopped: {workflow.get('stopped') or workflow['state']}")
            return
        spec = json.loads(workflow["spec"])
        node = self.table.get(uuid, items.node_sk(name))
        job = spec["jobs"][name]
        pipeline = self.store.get_pipeline(node["pipeline"])
        try:
            if pipeline is None or not pipeline.active:
                raise ValueError(f"pipeline {node['pipeline']} is not active any more")
            task = TaskSpec.resolve(pipeline.task, job.get("overrides"))
            lookup = Lookup(self.table, uuid, spec, json.loads(slot.get("item") or "null"))
            data = refs.resolve(job.get("data") or {}, lookup)
        except (ValueError, InvalidEvent) as exc:  # BadReference is a ValueError
            self._skip(uuid, queued, slot, f"could not be released: {exc}")
            return
        parents = sorted(lookup.parent_jobs(job.get("after") or ())) or [uuid]
        place = {"uuid": uuid, "node": name, "index": index}
        job_uuid = identity.job_uuid(pipeline.uuid, data, parents)
        if slot.get("uuid") != job_uuid:  # before the job exists, so a crash after its creation is recognised
            self.table.update(uuid, items.slot_sk(name, index), "SET #uuid = :uuid", names={"#uuid": "uuid"},
                              params={":uuid": job_uuid})
        try:
            record, _ = create_job(pipeline.uuid, data, parents=parents, trusted=True, source=SOURCE,
                                   workflow=place, create_data={"workflow": place}, config=self.config)
        except InvalidEvent as exc:  # data too large once resolved...
            self._skip(uuid, queued, {**slot, "uuid": None}, f"could not be created: {exc}")
            return
        if record.workflow != place:
            self._skip(uuid, queued, {**slot, "uuid": None},
                       f"it is the same job as {_slot_name(record.workflow['node'], record.workflow['index'])} "
                       "(same pipeline, data and parents)" if record.workflow else "its job exists outside it")
            return
        if record.state == "FAILED" and record.generation == int(queued.get("generation", 0)):
            record = self._reset(record.uuid, record.generation)  # a rerun: its next attempt
        started = start_run(record, task, self.config)
        observability.logger().info("workflow job launched", extra={"workflow": uuid, "node": name, "index": index,
                                                                    "job": record.uuid, "started": started.started})
        self.table.delete(uuid, queued["sk"])

    def _reset(self, job: str, generation: int):
        for event in ("reset", "ready"):
            handle_event({"uuid": job, "event": event, "id": f"workflow-rerun.{generation}.{event}",
                          "data": {"reason": "workflow rerun"}}, trusted=True, source=SOURCE, config=self.config,
                         fields={"run_id": None, "task_token": None, "execution_arn": None} if event == "reset"
                         else None)
        return self.store.get_job(job)

    def _skip(self, uuid: str, queued: dict[str, Any], slot: dict[str, Any], reason: str) -> None:
        """A granted job that will not be launched: its place is given back and, unless its job exists (a
        launch that died after creating it: its own end gives the place back), it is marked never run."""
        job = None
        if slot.get("uuid"):
            try:
                job = self.store.get_job(slot["uuid"])
            except JobNotFound:
                job = None
        actions = [delete_action(uuid, queued["sk"], condition="attribute_exists(sk)")]
        if job is None:
            actions += [
                update_action(uuid, items.slot_sk(queued["node"], int(queued["index"])), "SET never_run = :why",
                              params={":why": reason}),
                update_action(uuid, items.node_sk(queued["node"]), "ADD skipped :one", params={":one": 1}),
            ]
        self.table.transact(actions)  # False: done before this retry
        if job is None or not progress.live(job.state):
            self._give_back(uuid, queued["node"], int(queued["index"]))

    def _give_back(self, uuid: str, node: str, index: int) -> None:
        """The place a job's slot holds, back to the workflow (once: the slot's ``holds_place`` is the marker)."""
        self.table.transact([
            update_action(uuid, items.slot_sk(node, index), "REMOVE holds_place",
                          condition="attribute_exists(holds_place)"),
            update_action(uuid, items.WORKFLOW_SK, "ADD active :minus", params={":minus": -1}),
        ])

    # ---- 5, 6: the workflow's own item --------------------------------------------------

    def workflow_changed(self, uuid: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        if not new or new.get("engine"):
            return  # an engine's workflow ends on the engine's word (engines/tracker.py), and has nothing queued
        settled = new.get("settled") or set()
        if new["state"] == RUNNING and len(settled) >= int(new["node_count"]):
            end = FINISHED if len(new.get("complete") or ()) >= int(new["node_count"]) else FAILED
            now = now_iso()
            self.table.update(uuid, items.WORKFLOW_SK, "SET #state = :end, updated = :now, gsi_sk = :key",
                              condition="#state = :running AND size(settled) = :all", names={"#state": "state"},
                              params={":end": end, ":now": now, ":running": RUNNING, ":all": len(settled),
                                      ":key": items.gsi_sk(end, new["created"], uuid)})
        if new.get("stopped") and not old.get("stopped"):
            sweep(self.table, self.store, uuid, new["stopped"], int(new.get("epoch", 0)), self.config)
        freed = int(new.get("active", 0)) < int(old.get("active", 0) if old else 0)
        if freed and new["state"] == RUNNING and not new.get("stopped"):
            self.wake(uuid, new)


def sweep(table: Table, store: Any, uuid: str, reason: str, epoch: int, config: Config | None = None) -> None:
    """Stop a workflow's work: kill its live jobs, mark its queued jobs and waiting nodes never run. Safe to
    repeat (each write is conditional), and run by whoever stopped it and by the consumer.

    It acts only while the workflow is still stopped in ``epoch`` (the ``epoch`` of the write that stopped
    it): a rerun since (which adds one to ``epoch`` and clears ``stopped``) has queued jobs and reopened nodes
    that this stop must not touch, however late its record is handled. Each write to the workflow's items is
    conditioned on it in the same transaction, and a live job is killed only after a fresh look at it."""
    if not _still_stopped(table, uuid, epoch):
        return
    stopped = stopped_in(uuid, epoch)
    slots = {slot["sk"]: slot for slot in table.query(uuid, items.SLOT_PREFIX)}
    for slot in slots.values():
        if slot.get("uuid") and (slot.get("state") is None or progress.live(slot.get("state"))):
            try:
                stop_run(slot["uuid"], f"workflow stopped: {reason}", config,
                         still=lambda: _still_stopped(table, uuid, epoch))
            except JobNotFound:
                continue  # a launch that died before creating it: its queue item is handled below
    for queued in table.query(uuid, items.QUEUE_PREFIX):
        if queued.get("granted"):
            continue  # its launch sees the workflow stopped and gives its place back
        slot = slots.get(items.slot_sk(queued["node"], int(queued["index"]))) or {}
        waiting = "attribute_exists(sk) AND attribute_not_exists(granted)"
        actions = [stopped, delete_action(uuid, queued["sk"], condition=waiting)]
        if not slot.get("uuid"):  # never launched (a rerun's queued job has its failed job counted already)
            actions += [
                update_action(uuid, slot.get("sk") or items.slot_sk(queued["node"], int(queued["index"])),
                              "SET never_run = :why", params={":why": f"the workflow stopped: {reason}"}),
                update_action(uuid, items.node_sk(queued["node"]), "ADD skipped :one", params={":one": 1}),
            ]
        table.transact(actions)
    for node in table.query(uuid, items.NODE_PREFIX):
        if node.get("state") == progress.WAITING:
            table.transact([stopped, update_action(
                uuid, node["sk"], "SET #state = :never, reason = :why", condition="#state = :waiting",
                names={"#state": "state"}, params={":never": progress.NEVER_RUN, ":waiting": progress.WAITING,
                                                   ":why": f"the workflow stopped: {reason}"})])


def stopped_in(uuid: str, epoch: int) -> dict[str, Any]:
    """A transaction's check that the workflow is still stopped in ``epoch`` (none before its first rerun)."""
    if not epoch:
        return items.check_action(uuid, items.WORKFLOW_SK, "attribute_exists(stopped) AND attribute_not_exists(epoch)")
    return items.check_action(uuid, items.WORKFLOW_SK, "attribute_exists(stopped) AND epoch = :epoch",
                              params={":epoch": epoch})


def _still_stopped(table: Table, uuid: str, epoch: int) -> bool:
    workflow = table.get(uuid, items.WORKFLOW_SK) or {}
    return bool(workflow.get("stopped")) and int(workflow.get("epoch", 0)) == epoch


class Lookup:
    """Finds what a job's ``${...}`` references: the workflow's inputs, its fan-out item, or the outputs of
    upstream jobs, read from their nodes' slots (one Query page per node, read once)."""

    def __init__(self, table: Table, uuid: str, spec: dict[str, Any], item: Any):
        self.table, self.uuid, self.spec, self.item = table, uuid, spec, item
        self._slots: dict[str, list[dict[str, Any]]] = {}

    def slots(self, node: str) -> list[dict[str, Any]]:
        if node not in self._slots:
            self._slots[node] = list(self.table.query(self.uuid, f"{items.SLOT_PREFIX}{node}#"))
        return self._slots[node]

    def parent_jobs(self, after: Any) -> list[str]:
        return [slot["uuid"] for parent in after for slot in self.slots(parent) if slot.get("uuid")]

    def __call__(self, ref: refs.Ref) -> Any:
        if ref.root == "inputs":
            return refs.walk(self.spec.get("inputs") or {}, ref.path, "inputs")
        if ref.root == "item":
            return refs.walk(self.item, ref.path, "the item")
        found = []
        for slot in self.slots(ref.root):
            outputs = json.loads(slot["outputs"]) if slot.get("outputs") else None
            if outputs is None:
                raise refs.BadReference(f"{_slot_name(ref.root, int(slot['index']))} has recorded no outputs")
            found.append(refs.walk(outputs, ref.path, f"the outputs of {_slot_name(ref.root, int(slot['index']))}"))
        if "each" in self.spec["jobs"][ref.root]:
            return found
        if not found:
            raise refs.BadReference(f"{ref.root} has no job")
        return found[0]


def _slot_name(node: str, index: int) -> str:
    return f"{node}[{index}]"

