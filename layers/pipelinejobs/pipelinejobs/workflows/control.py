"""Kill and rerun a workflow: writes on its items, after which the release consumer carries on.

**Kill**: the workflow is KILLED and ``stopped`` at once (one conditional write: from then on no job is
released or launched), then swept (:func:`.release.sweep`): its live jobs are killed (FAILED with the reason,
execution stopped, task cancelled), its queued jobs and waiting nodes marked never run. The consumer sweeps
again on the record of that write, so a kill interrupted half-way is finished. ``stopped`` says who killed it
(``killed_by``: the caller's user name) and why (``reason``, if given).

An **engine's run** (the workflow has ``engine``: engines/tracker.py) is killed the same way, for a run whose
engine will never say it ended (killed with -9, its last message lost): its live jobs are failed as killed (the
engine owns the compute: there is none to stop). ``killed_by`` marks it killed by a user, so the tracker ignores
the run's later words until the engine starts it again. The consumer does not sweep an engine's workflow: a kill
interrupted half-way is finished by killing it again. It cannot be rerun: only the engine can run it again.

**Rerun** (gaia's expire): every node that did not finish runs again, and with it what is downstream of it.
Its failed jobs (killed ones included: they are FAILED) are queued again and launched as their next attempt
(``reset`` → ``ready`` → a new run, as ``orchestration.rerun``); its jobs that never ran are queued again;
nodes marked never run wait again for their parents. Finished jobs, and nodes whose jobs all finished, are
reused. The workflow is RUNNING again, its unfinished nodes taken out of ``settled`` and its ``epoch`` one
more in the same write: a stop's sweep still to come (its record handled late) then finds itself in an older
epoch and leaves the rerun's queued jobs and reopened nodes alone.
"""

from __future__ import annotations

import getpass

from ..config import Config
from ..errors import WorkflowNotFound, WorkflowStateConflict
from ..records import now_iso
from ..service import get_store
from . import items, progress
from .items import Table, put_action, update_action
from .model import KILLED, RUNNING
from .release import sweep


def kill(uuid: str, *, reason: str | None = None, config: Config | None = None) -> None:
    table = Table(config)
    workflow = _workflow(table, uuid)
    if workflow["state"] == RUNNING:
        now, who = now_iso(), _user()
        why = f"killed by {who}" + (f": {reason}" if reason else "")
        changed = table.update(uuid, items.WORKFLOW_SK, "SET #state = :killed, stopped = :why, killed_by = :who, "
                                                        "updated = :now, gsi_sk = :key",
                               condition="#state = :running", names={"#state": "state"},
                               params={":killed": KILLED, ":why": why, ":who": who, ":now": now, ":running": RUNNING,
                                       ":key": items.gsi_sk(KILLED, workflow["created"], uuid)}, returns="ALL_NEW")
        if changed is None:
            raise WorkflowStateConflict(f"workflow {uuid} ended while it was being killed; nothing was done")
        workflow = changed
    elif workflow["state"] != KILLED:
        raise WorkflowStateConflict(f"workflow {uuid} is {workflow['state']}: there is nothing to kill")
    if workflow.get("stopped"):  # an engine's word ended it KILLED with no reason: there is no stop to sweep
        sweep(table, get_store(config), uuid, workflow["stopped"], int(workflow.get("epoch", 0)), config)


def rerun(uuid: str, *, config: Config | None = None) -> None:
    table = Table(config)
    workflow = _workflow(table, uuid)
    if workflow.get("engine"):
        raise WorkflowStateConflict(f"workflow {uuid} is a {workflow['engine']} run, which only {workflow['engine']} "
                                    "can run again: re-run the engine with the same run (a Snakemake workflow id, a "
                                    "Nextflow -resume) and its start reopens this workflow")
    if workflow["state"] == RUNNING:
        raise WorkflowStateConflict(f"workflow {uuid} is RUNNING: kill it first, or wait for it to end")
    nodes = [item for item in table.query(uuid, items.NODE_PREFIX)]
    again = [node for node in nodes if not progress.complete(node)]
    if not again:
        raise WorkflowStateConflict(f"workflow {uuid} is {workflow['state']} and every job finished: nothing to rerun")
    names = {node["name"] for node in again}
    now = now_iso()
    changed = table.update(uuid, items.WORKFLOW_SK,
                           "SET #state = :running, updated = :now, gsi_sk = :key REMOVE stopped, killed_by "
                           "ADD epoch :one "
                           "DELETE settled :names, complete :names",
                           condition="#state = :was", names={"#state": "state"},
                           params={":running": RUNNING, ":now": now, ":names": names, ":was": workflow["state"],
                                   ":one": 1, ":key": items.gsi_sk(RUNNING, workflow["created"], uuid)},
                           returns="ALL_NEW")
    if changed is None:
        raise WorkflowStateConflict(f"workflow {uuid} changed while it was being rerun; nothing was done")
    store = get_store(config)
    for node in again:
        if node.get("state") == progress.NEVER_RUN:
            table.update(uuid, node["sk"], "SET #state = :waiting REMOVE reason", condition="#state = :never",
                         names={"#state": "state"}, params={":waiting": progress.WAITING, ":never": progress.NEVER_RUN})
            continue
        for slot in table.query(uuid, f"{items.SLOT_PREFIX}{node['name']}#"):
            queued = {"pk": items.pk(uuid), "sk": items.queue_sk(node["name"], int(slot["index"])),
                      "node": node["name"], "index": int(slot["index"])}
            if slot.get("never_run"):  # it never ran: queue it as new
                table.transact([
                    update_action(uuid, slot["sk"], "REMOVE never_run", condition="attribute_exists(never_run)"),
                    update_action(uuid, node["sk"], "ADD skipped :minus", params={":minus": -1}),
                    put_action({**queued, "generation": 0}),
                ])
            elif slot.get("state") == "FAILED":  # its next attempt: reset and readied by its launch
                job = store.get_job(slot["uuid"])
                table.put_new({**queued, "generation": job.generation})


def _user() -> str:
    """Who kills, for ``stopped``: the caller's user name (none is known in a container without one)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "an unknown user"


def _workflow(table: Table, uuid: str) -> dict:
    workflow = table.get(uuid, items.WORKFLOW_SK)
    if workflow is None:
        raise WorkflowNotFound(uuid)
    return workflow
